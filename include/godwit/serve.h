/*
 * The HTTP control API (godwit serve, or a runner that also serves): JSON
 * status, pause, resume, throttle, Prometheus metrics and a status page,
 * each request read from or written to the state store, never to a runner.
 */
#ifndef GODWIT_SERVE_H
#define GODWIT_SERVE_H

#include "godwit/common.h"
#include "godwit/graph.h"

#define GW_SERVE_DEFAULT_LISTEN "127.0.0.1:7878"
#define GW_SERVE_TOKEN_ENV "GODWIT_HTTP_TOKEN"

struct gw_serve_opts {
	const char *listen;	      /* "HOST:PORT" ("[::1]:PORT"; port 0: any free one) or
					 "unix:/PATH"; NULL for GW_SERVE_DEFAULT_LISTEN */
	const char *token;	      /* bearer token every POST needs; NULL refuses POSTs (403).
					 Copied */
	const char *database_url;     /* the server opens its own connection from it. Copied */
	const struct gw_graph *graph; /* borrowed, only read; must outlive the server */
};

struct gw_serve;

/*
 * The token for opts.token: the contents of file (trailing blanks and
 * newlines removed) when file is not NULL, else the environment variable
 * GODWIT_HTTP_TOKEN, else none (*out NULL, returns 0). GW_ERR_IO if the
 * file cannot be read, GW_ERR_INPUT if the token is empty or holds a blank
 * or control character. *out is new; caller frees with free().
 */
GW_MUSTCHECK int gw_serve_token(const char *file, char **out, struct gw_error *err);

/*
 * Connect to the database, check the state store, listen, and serve from
 * a thread of its own (which blocks every signal) until gw_serve_stop.
 * Errors: GW_ERR_USAGE for a bad listen address or a host other than
 * loopback without a token; GW_ERR_IO when the address is taken (a unix
 * socket another live server holds included; a stale one is removed);
 * the connection's and gw_store_check's errors. A unix socket is created
 * with mode 0600. *out is new; the caller ends it with gw_serve_stop.
 */
GW_MUSTCHECK int gw_serve_start(struct gw_serve **out, const struct gw_serve_opts *o,
				struct gw_error *err);
/*
 * Borrowed text of where s listens, "http://127.0.0.1:43121/" or
 * "unix:/run/godwit.sock", valid until gw_serve_stop.
 */
const char *gw_serve_address(const struct gw_serve *s);
/*
 * Stop serving (a request in progress ends first), join the thread,
 * remove the unix socket this server created, free s. NULL is allowed.
 * Not from a signal handler.
 */
void gw_serve_stop(struct gw_serve *s);

/*
 * As gw_serve_start, but serve in the calling thread until SIGINT or
 * SIGTERM (then return 0); ignores SIGPIPE for the process. For the
 * foreground command.
 */
GW_MUSTCHECK int gw_serve_run(const struct gw_serve_opts *o, struct gw_error *err);

#endif
