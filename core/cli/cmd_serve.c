/*
 * godwit serve: the HTTP control API in the foreground, until SIGINT or
 * SIGTERM.
 */
#include <getopt.h>
#include <stdlib.h>

#include "godwit/cli.h"
#include "godwit/serve.h"

int cmd_serve(int argc, char **argv, struct gw_ctx *ctx)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"token-file", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct gw_serve_opts o = {NULL, NULL, ctx->database_url, &ctx->graph};
	const char *token_file = NULL;
	char *token = NULL;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case ':':
			return gw_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
		default:
			return gw_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return gw_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	rc = gw_serve_token(token_file, &token, &ctx->err);
	if (rc == 0) {
		o.token = token;
		rc = gw_serve_run(&o, &ctx->err);
	}
	free(token);
	return rc;
}
