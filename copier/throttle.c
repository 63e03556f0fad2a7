/*
 * The copy's throttle (see godwit/throttle.h): signals read between
 * chunks, the lag measured with godwit's heartbeat.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "godwit/copier.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/schedule.h"
#include "godwit/throttle.h"
#include "godwit/url.h"

#define RING 256              /* heartbeats remembered: 25 s at one per 100 ms */
#define BEAT_EVERY_MS 100
#define RECONNECT_EVERY_MS 1000

/* One heartbeat written: when, and (PostgreSQL) the WAL position after its commit. */
struct beat {
	long long us;
	uint64_t lsn;
};

enum replica_kind { REPLICA_URL, REPLICA_STANDBYS, REPLICA_SLOT };

struct replica {
	enum replica_kind kind;
	char *name;           /* for people: host:port, "standbys", "slot NAME" */
	char *url;            /* REPLICA_URL: with the primary's credentials filled in */
	char *slot;           /* REPLICA_SLOT */
	struct gw_conn *conn; /* REPLICA_URL, NULL until connected */
	double tried_ms;      /* last connection attempt */
	double lag_ms;        /* worst of what it stands for; -1 unknown */
	char error[256];      /* why lag is unknown, or a note ("SQL thread stopped") */
};

struct gw_throttle {
	const struct gw_migration *m;
	struct gw_conn *primary;
	struct gw_store *store;
	bool pg;
	struct gw_schedule *schedule;
	bool open;              /* the schedule, until change */
	time_t change;
	size_t nreplicas;
	struct replica *replicas;
	struct beat ring[RING];
	size_t nbeats;          /* written so far (the ring keeps the last RING) */
	double beat_ms;         /* when the last was written, and the replicas read */
	const struct replica *worst;  /* of that reading */
	double load;            /* last read, -1 unknown */
	char load_error[256];
	/* rate: rows allowed since t0 */
	long long rate, rate_rows0;
	double rate_t0;
};

const char *gw_throttle_kind_name(enum gw_throttle_kind k)
{
	static const char *const names[] = {NULL, "paused", "flag", "schedule", "lag", "load", "rate"};

	return (size_t)k < GW_ARRAY_SIZE(names) ? names[k] : NULL;
}

/* "0/16B3748" to a number; 0 when it is not one. */
static uint64_t parse_lsn(const char *s)
{
	unsigned int hi, lo;

	if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2)
		return 0;
	return ((uint64_t)hi << 32) | lo;
}

/*
 * The replica's URL with what it lacks taken from the primary's: the
 * user and password (the part before '@') and the database (the path).
 */
char *gw_throttle_replica_url(const char *primary, const char *replica)
{
	const char *p_auth = strstr(primary, "://"), *r_auth = strstr(replica, "://");
	const char *p_at, *r_end, *p_path;
	struct gw_buf b = GW_BUF_INIT;

	if (!p_auth || !r_auth)
		return gw_strdup(replica);
	p_auth += 3;
	r_auth += 3;
	r_end = r_auth + strcspn(r_auth, "/?");
	p_path = p_auth + strcspn(p_auth, "/?");
	p_at = memchr(p_auth, '@', (size_t)(p_path - p_auth));
	gw_buf_put(&b, replica, (size_t)(r_auth - replica));
	if (!memchr(r_auth, '@', (size_t)(r_end - r_auth)) && p_at)
		gw_buf_put(&b, p_auth, (size_t)(p_at + 1 - p_auth));
	gw_buf_put(&b, r_auth, (size_t)(r_end - r_auth));
	if (*r_end == '/' && r_end[1] && r_end[1] != '?')
		gw_buf_puts(&b, r_end);
	else
		gw_buf_printf(&b, "%.*s%s", (int)strcspn(p_path, "?"), p_path,
			      *r_end == '/' ? r_end + 1 : r_end);
	return gw_buf_detach(&b);
}

static int add_replica(struct gw_throttle *th, const char *text, const char *url,
		       struct gw_error *err)
{
	struct replica *r = &th->replicas[th->nreplicas];
	struct gw_error e = GW_ERROR_INIT;
	struct gw_url u = GW_URL_INIT;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->lag_ms = -1;
	if (strcmp(text, "standbys") == 0 || strncmp(text, "slot:", 5) == 0) {
		if (!th->pg)
			return gw_error_set(err, GW_ERR_INPUT,
					    "%s: option 'replicas': '%s' is for PostgreSQL", th->m->path,
					    text);
		r->kind = text[0] == 's' && text[1] == 't' ? REPLICA_STANDBYS : REPLICA_SLOT;
		r->slot = r->kind == REPLICA_SLOT ? gw_strdup(text + 5) : NULL;
		r->name = r->kind == REPLICA_SLOT ? gw_asprintf("slot %s", text + 5)
						  : gw_strdup("standbys");
	} else {
		r->kind = REPLICA_URL;
		r->url = gw_throttle_replica_url(url ? url : "", text);
		rc = gw_url_parse(r->url, &u, &e);
		if (rc < 0) {
			free(r->url);
			return gw_error_set(err, GW_ERR_INPUT, "%s: option 'replicas': %s",
					    th->m->path, e.msg);
		}
		r->name = gw_asprintf("%s:%d", u.host ? u.host : "localhost", u.port);
		gw_url_release(&u);
	}
	th->nreplicas++;
	return 0;
}

int gw_throttle_new(struct gw_throttle **out, const struct gw_migration *m,
		    struct gw_conn *primary, struct gw_store *store, const char *url,
		    struct gw_error *err)
{
	const struct gw_options *o = &m->options;
	struct gw_throttle *th = gw_calloc(1, sizeof(*th));
	struct gw_error e = GW_ERROR_INIT;
	int rc = 0;

	th->m = m;
	th->primary = primary;
	th->store = store;
	th->pg = gw_conn_dialect(primary)->id == GW_DIALECT_POSTGRES;
	th->load = -1;
	th->replicas = gw_calloc(o->nreplicas ? o->nreplicas : 1, sizeof(*th->replicas));
	for (size_t i = 0; rc == 0 && i < o->nreplicas; i++)
		rc = add_replica(th, o->replicas[i], url, err);
	if (rc == 0 && o->nwindows) {
		rc = gw_schedule_parse(&th->schedule, o->nwindows, (const char *const *)o->windows,
				       o->timezone, &e);
		if (rc < 0)
			rc = gw_error_set(err, GW_ERR_INPUT, "%s: option 'schedule': %s", m->path,
					  e.msg);
	}
	if (rc < 0) {
		gw_throttle_free(th);
		return rc;
	}
	*out = th;
	return 0;
}

void gw_throttle_free(struct gw_throttle *th)
{
	if (!th)
		return;
	for (size_t i = 0; i < th->nreplicas; i++) {
		gw_conn_close(th->replicas[i].conn);
		free(th->replicas[i].name);
		free(th->replicas[i].url);
		free(th->replicas[i].slot);
	}
	free(th->replicas);
	gw_schedule_free(th->schedule);
	free(th);
}

void gw_throttle_limits(const struct gw_options *o, const struct gw_limits *live,
			struct gw_limits *out)
{
	out->rate = live->rate != GW_LIMIT_UNSET ? live->rate : o->max_rate_rows;
	out->chunk_time_ms = live->chunk_time_ms > 0 ? live->chunk_time_ms
			     : o->chunk_time_ms > 0  ? o->chunk_time_ms
						     : 500;
	out->max_lag_ms = live->max_lag_ms != GW_LIMIT_UNSET ? live->max_lag_ms : o->max_lag_ms;
	out->max_load = live->max_load != GW_LIMIT_UNSET ? live->max_load : o->max_load;
}

/* A one-value query on c into *v; the error text into why. */
static int query_number(struct gw_conn *c, const char *sql, int col, double *v, char *why,
			size_t n)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_result *r = NULL;
	const char *s;
	char *end;
	int rc = gw_conn_query(c, sql, 0, NULL, &r, &e);

	if (rc == 0 && (r->nrows < 1 || r->ncols <= col)) {
		snprintf(why, n, "no value");
		rc = GW_ERR_DB;
	} else if (rc == 0) {
		s = gw_result_get(r, 0, col);
		*v = s ? strtod(s, &end) : 0;
		if (!s || end == s) {
			snprintf(why, n, "not a number: %s", s ? s : "NULL");
			rc = GW_ERR_DB;
		}
	} else {
		snprintf(why, n, "%s", e.msg);
	}
	gw_result_free(r);
	return rc;
}

/* Write a heartbeat on the primary. */
static void beat(struct gw_throttle *th)
{
	struct gw_error e = GW_ERROR_INIT;
	long long us = gw_epoch_us();
	uint64_t lsn = 0;

	if (gw_store_beat(th->store, us, &e) < 0) {
		gw_warn(th->m->id, "could not write the heartbeat: %s", e.msg);
		return;
	}
	if (th->pg) {
		struct gw_result *r = NULL;

		/* after the commit: a standby that replayed this has the heartbeat */
		if (gw_conn_query(th->primary, "SELECT pg_current_wal_lsn()::text", 0, NULL, &r, &e) ==
		    0 && r->nrows == 1)
			lsn = parse_lsn(gw_result_get(r, 0, 0));
		gw_result_free(r);
	}
	th->ring[th->nbeats % RING] = (struct beat){us, lsn};
	th->nbeats++;
}

/*
 * Age of the oldest heartbeat written after what a replica has: by time
 * (seen_us, its heartbeat) or by WAL position (seen_lsn).
 */
static double lag_after(const struct gw_throttle *th, long long seen_us, uint64_t seen_lsn,
			bool by_lsn)
{
	size_t first = th->nbeats > RING ? th->nbeats - RING : 0;

	for (size_t i = first; i < th->nbeats; i++) {
		const struct beat *b = &th->ring[i % RING];

		if (by_lsn ? b->lsn > seen_lsn : b->us > seen_us)
			return (double)(gw_epoch_us() - b->us) / 1000.0;
	}
	return 0;
}

/* MariaDB/MySQL: what SHOW SLAVE STATUS says, as a note, and Seconds_Behind_Master. */
static void slave_status(struct replica *r, double *behind_ms)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_result *res = NULL;
	const char *io = NULL, *sql = NULL, *sbm = NULL;

	if (gw_conn_query(r->conn, "SHOW SLAVE STATUS", 0, NULL, &res, &e) < 0) {
		gw_result_free(res);
		return;
	}
	if (res->nrows == 0) {
		snprintf(r->error, sizeof(r->error), "not replicating (SHOW SLAVE STATUS is empty)");
		r->lag_ms = -1;
	}
	for (int c = 0; res->nrows > 0 && c < res->ncols; c++) {
		if (strcmp(res->colnames[c], "Slave_IO_Running") == 0)
			io = gw_result_get(res, 0, c);
		else if (strcmp(res->colnames[c], "Slave_SQL_Running") == 0)
			sql = gw_result_get(res, 0, c);
		else if (strcmp(res->colnames[c], "Seconds_Behind_Master") == 0)
			sbm = gw_result_get(res, 0, c);
	}
	if (sql && strcmp(sql, "Yes") != 0)
		snprintf(r->error, sizeof(r->error), "SQL thread stopped");
	else if (io && strcmp(io, "Yes") != 0)
		snprintf(r->error, sizeof(r->error), "IO thread %s",
			 strcmp(io, "Connecting") == 0 ? "connecting" : "stopped");
	if (sbm)
		*behind_ms = atof(sbm) * 1000.0;
	gw_result_free(res);
}

/* One replica given by URL: connect if needed, read its heartbeat. */
static void measure_url(struct gw_throttle *th, struct replica *r, double now)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_store rs;
	double seen = 0, behind = 0;
	char why[256];
	char *sql;

	r->lag_ms = -1;
	if (!r->conn) {
		if (now - r->tried_ms < RECONNECT_EVERY_MS && r->tried_ms > 0)
			return;
		r->tried_ms = now;
		if (gw_connect(r->url, &r->conn, &e) < 0) {
			snprintf(r->error, sizeof(r->error), "unreachable: %.200s", e.msg);
			r->conn = NULL;
			return;
		}
	}
	r->error[0] = '\0';
	gw_store_init(&rs, r->conn);
	sql = gw_store_sql(&rs, "SELECT ts_us FROM {heartbeat} WHERE id = 1");
	if (query_number(r->conn, sql, 0, &seen, why, sizeof(why)) < 0) {
		/* a dropped connection: reconnect next time */
		if (gw_conn_exec(r->conn, "SELECT 1", NULL) < 0) {
			gw_conn_close(r->conn);
			r->conn = NULL;
			snprintf(r->error, sizeof(r->error), "unreachable: %.200s", why);
		} else {
			snprintf(r->error, sizeof(r->error), "no godwit heartbeat yet: %.200s", why);
		}
		free(sql);
		return;
	}
	free(sql);
	r->lag_ms = lag_after(th, (long long)seen, 0, false);
	if (!th->pg)
		slave_status(r, &behind);
	if (r->lag_ms >= 0 && behind > r->lag_ms)
		r->lag_ms = behind;
}

/* PostgreSQL standbys seen from the primary, or a slot: by WAL position. */
static void measure_lsn(struct gw_throttle *th, struct replica *r)
{
	struct gw_error e = GW_ERROR_INIT;
	struct gw_result *res = NULL;
	const char *sql = r->kind == REPLICA_STANDBYS
				  ? "SELECT application_name, replay_lsn::text FROM pg_stat_replication"
				  : "SELECT slot_name, COALESCE(confirmed_flush_lsn, restart_lsn)::text"
				    " FROM pg_replication_slots WHERE slot_name = $1";
	const char *params[1] = {r->slot};

	r->lag_ms = -1;
	r->error[0] = '\0';
	if (gw_conn_query(th->primary, sql, r->slot ? 1 : 0, params, &res, &e) < 0) {
		snprintf(r->error, sizeof(r->error), "%s", e.msg);
	} else if (res->nrows == 0) {
		snprintf(r->error, sizeof(r->error), "%s",
			 r->slot ? "no such replication slot" : "no standby is connected");
	} else {
		for (int i = 0; i < res->nrows; i++) {
			double lag = lag_after(th, 0, parse_lsn(gw_result_get(res, i, 1)), true);

			if (lag > r->lag_ms)
				r->lag_ms = lag;
		}
	}
	gw_result_free(res);
}

/*
 * The worst replica: its lag (or -1 when one cannot be read) and name.
 * A heartbeat and a reading at most every BEAT_EVERY_MS, however short
 * the chunks.
 */
static const struct replica *measure_replicas(struct gw_throttle *th, double now)
{
	const struct replica *worst = NULL;

	if (!th->nreplicas || now - th->beat_ms < BEAT_EVERY_MS)
		return th->worst;
	th->beat_ms = now;
	beat(th);
	for (size_t i = 0; i < th->nreplicas; i++) {
		struct replica *r = &th->replicas[i];

		if (r->kind == REPLICA_URL)
			measure_url(th, r, now);
		else
			measure_lsn(th, r);
		if (!worst || (worst->lag_ms >= 0 && (r->lag_ms < 0 || r->lag_ms > worst->lag_ms)))
			worst = r;
	}
	th->worst = worst;
	return worst;
}

static void measure_load(struct gw_throttle *th)
{
	const char *sql = th->m->options.load_query;
	int col = 0;

	if (!sql && th->pg) {
		sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
		      " AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
	} else if (!sql) {
		sql = "SHOW GLOBAL STATUS LIKE 'Threads_running'";
		col = 1;
	}
	th->load_error[0] = '\0';
	if (query_number(th->primary, sql, col, &th->load, th->load_error,
			 sizeof(th->load_error)) < 0)
		th->load = -1;
}

static void say(struct gw_throttle_state *st, enum gw_throttle_kind k, const char *fmt, ...)
	GW_PRINTF(3, 4);

static void say(struct gw_throttle_state *st, enum gw_throttle_kind k, const char *fmt, ...)
{
	va_list ap;

	if (st->kind != GW_THROTTLE_NONE)
		return;   /* the first reason found is the one given */
	st->kind = k;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
}

void gw_throttle_check(struct gw_throttle *th, const struct gw_limits *lim, long long rows_done,
		       struct gw_throttle_state *st)
{
	const struct gw_options *o = &th->m->options;
	double now = gw_now_ms();
	const struct replica *worst;
	char when[64];

	memset(st, 0, sizeof(*st));
	st->wait_ms = 250;
	if (o->throttle_flag_file && access(o->throttle_flag_file, F_OK) == 0)
		say(st, GW_THROTTLE_FLAG, "flag file %s exists", o->throttle_flag_file);
	if (th->schedule) {
		time_t t = gw_clock_now();

		/* time zone conversions are not free: only when it changes */
		if (th->change == 0 || t >= th->change)
			th->open = gw_schedule_open(th->schedule, t, &th->change);
		st->window_change = th->change;
		if (!th->open) {
			gw_schedule_format(th->schedule, st->window_change, when, sizeof(when));
			say(st, GW_THROTTLE_SCHEDULE, "outside the schedule window; it opens %s", when);
		}
	}
	worst = lim->max_lag_ms > 0 ? measure_replicas(th, now) : NULL;
	if (worst && worst->lag_ms < 0)
		say(st, GW_THROTTLE_LAG, "replica %s: %s (lag unknown)", worst->name, worst->error);
	else if (worst && worst->lag_ms > (double)lim->max_lag_ms)
		say(st, GW_THROTTLE_LAG, "replica %s: lag %.1f s > %.1f s%s%s", worst->name,
		    worst->lag_ms / 1000.0, (double)lim->max_lag_ms / 1000.0,
		    worst->error[0] ? ", " : "", worst->error);
	if (lim->max_load > 0) {
		measure_load(th);
		if (th->load < 0)
			say(st, GW_THROTTLE_LOAD, "load unknown: %s", th->load_error);
		else if (th->load > (double)lim->max_load)
			say(st, GW_THROTTLE_LOAD, "load %.0f > %lld", th->load, lim->max_load);
	}
	if (lim->rate > 0) {
		double due;

		/* a new rate, or a pause: count from now, without a burst to catch up */
		if (th->rate != lim->rate || rows_done < th->rate_rows0 ||
		    now - (th->rate_t0 + (double)(rows_done - th->rate_rows0) * 1000.0 /
						   (double)lim->rate) > 1000) {
			th->rate = lim->rate;
			th->rate_t0 = now;
			th->rate_rows0 = rows_done;
		}
		due = th->rate_t0 + (double)(rows_done - th->rate_rows0) * 1000.0 / (double)lim->rate;
		st->max_chunk = (long)(lim->rate * lim->chunk_time_ms / 1000);
		if (st->max_chunk < GW_CHUNK_MIN)
			st->max_chunk = GW_CHUNK_MIN;
		if (due > now) {
			say(st, GW_THROTTLE_RATE, "rate limit %lld rows/s", lim->rate);
			if (st->kind == GW_THROTTLE_RATE)
				st->wait_ms = due - now;
		}
	}
}

void gw_throttle_json(const struct gw_throttle *th, const struct gw_limits *lim,
		      const struct gw_throttle_state *st, json_t *o)
{
	json_t *limits = json_object(), *reps;

	if (st && st->kind != GW_THROTTLE_NONE) {
		json_object_set_new(o, "throttle", json_string(gw_throttle_kind_name(st->kind)));
		json_object_set_new(o, "waiting", json_string(st->reason));
	}
	if (lim->rate > 0)
		json_object_set_new(limits, "rate", json_integer(lim->rate));
	json_object_set_new(limits, "chunk_time_ms", json_integer(lim->chunk_time_ms));
	if (lim->max_lag_ms > 0)
		json_object_set_new(limits, "max_lag_ms", json_integer(lim->max_lag_ms));
	if (lim->max_load > 0)
		json_object_set_new(limits, "max_load", json_integer(lim->max_load));
	json_object_set_new(o, "limits", limits);
	if (!th)
		return;
	if (th->nreplicas && lim->max_lag_ms > 0) {
		reps = json_array();
		for (size_t i = 0; i < th->nreplicas; i++) {
			const struct replica *r = &th->replicas[i];
			json_t *one = json_pack("{s:s}", "name", r->name);

			if (r->lag_ms >= 0)
				json_object_set_new(one, "lag_ms", json_integer((json_int_t)r->lag_ms));
			if (r->error[0])
				json_object_set_new(one, "error", json_string(r->error));
			json_array_append_new(reps, one);
		}
		json_object_set_new(o, "replicas", reps);
	}
	if (lim->max_load > 0 && th->load >= 0)
		json_object_set_new(o, "load", json_real(th->load));
}
