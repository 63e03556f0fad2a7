/*
 * The copy's throttle: before each chunk, every signal is read and the
 * copy waits while any says so, and the reason is kept for status. A
 * signal that cannot be read throttles too (fail closed): an unreachable
 * replica, a failing load query.
 *
 * Signals, in the order a reason is given: a flag file, the schedule, the
 * lag of the worst replica, the server's load, the rate limit. Change
 * application (replication capture) is never throttled; the copy is.
 *
 * Replica lag is the age of the oldest write of godwit's heartbeat the
 * replica has not applied yet, so a replica that stopped shows a lag that
 * grows from the moment it stopped, to a tenth of a second:
 *   - a URL (MariaDB/MySQL replica, PostgreSQL hot standby): the
 *     heartbeat read there (MariaDB also reports SHOW SLAVE STATUS);
 *   - "standbys" (PostgreSQL): every standby in pg_stat_replication,
 *     by its replay LSN against the heartbeat's commit LSN;
 *   - "slot:NAME" (PostgreSQL): a replication slot's confirmed LSN.
 * A replica URL without user or database borrows the primary's.
 */
#ifndef GODWIT_THROTTLE_H
#define GODWIT_THROTTLE_H

#include <time.h>

#include <jansson.h>

#include "godwit/common.h"
#include "godwit/migration.h"
#include "godwit/state.h"

struct gw_conn;
struct gw_store;

enum gw_throttle_kind {
	GW_THROTTLE_NONE = 0,
	GW_THROTTLE_PAUSED,     /* the operator (the runner's, not the throttle's) */
	GW_THROTTLE_FLAG,
	GW_THROTTLE_SCHEDULE,
	GW_THROTTLE_LAG,
	GW_THROTTLE_LOAD,
	GW_THROTTLE_RATE,
};

/* "paused", "flag", "schedule", "lag", "load", "rate"; NULL for none. */
const char *gw_throttle_kind_name(enum gw_throttle_kind k);

/* What one look at the signals says. */
struct gw_throttle_state {
	enum gw_throttle_kind kind;  /* what the copy waits for, NONE to go on */
	char reason[384];            /* for people: "replica 127.0.0.1:33062: lag 3.2 s > 1.0 s" */
	double wait_ms;              /* rate: how long; others: until the next look */
	time_t window_change;        /* schedule: when it opens (closed) or closes (open), 0 none */
	long max_chunk;              /* rows the next chunk may hold (rate), 0 no cap */
};

struct gw_throttle;

/*
 * A throttle for m's copy on primary (borrowed; heartbeats and load
 * queries run on it between chunks). url is the primary's, for replicas
 * that borrow its credentials. GW_ERR_INPUT for a bad schedule or replica
 * URL, naming m's file.
 */
GW_MUSTCHECK int gw_throttle_new(struct gw_throttle **out, const struct gw_migration *m,
				 struct gw_conn *primary, struct gw_store *store, const char *url,
				 struct gw_error *err);
void gw_throttle_free(struct gw_throttle *th);

/*
 * A replica's URL with what it lacks taken from the primary's: the user
 * and password, and the database. New string.
 */
char *gw_throttle_replica_url(const char *primary, const char *replica);

/* The limits in force: the file's options, over which those set live win. */
void gw_throttle_limits(const struct gw_options *o, const struct gw_limits *live,
			struct gw_limits *out);

/*
 * Look at every signal once, for a copy that has gone past rows_done rows,
 * under limits lim. Never fails: what cannot be read throttles, and says so.
 */
void gw_throttle_check(struct gw_throttle *th, const struct gw_limits *lim, long long rows_done,
		       struct gw_throttle_state *st);

/*
 * Add to o what status shows: "throttle" (kind), "waiting" (reason),
 * "limits" (in force), "replicas" ([{name, lag_ms | error}]), "load".
 */
void gw_throttle_json(const struct gw_throttle *th, const struct gw_limits *lim,
		      const struct gw_throttle_state *st, json_t *o);

#endif
