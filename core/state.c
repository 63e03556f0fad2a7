/*
 * The state store: tables in the target database that record what godwit
 * applied, the state of every phase, operator control, an audit of events
 * and who holds the runner lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/state.h"

/* What replicas read to measure their lag: the time of godwit's last write (µs). */
#define PG_HEARTBEAT "CREATE TABLE IF NOT EXISTS {heartbeat} (id int PRIMARY KEY, ts_us bigint NOT NULL)"
#define MY_HEARTBEAT PG_HEARTBEAT " ENGINE=InnoDB"

static const char *const pg_ddl[] = {
	"CREATE SCHEMA IF NOT EXISTS godwit",
	"CREATE TABLE IF NOT EXISTS {migrations} ("
	" id varchar(255) PRIMARY KEY, parents text NOT NULL, checksum varchar(64) NOT NULL,"
	" message text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
	" applied_by varchar(255) NOT NULL)",
	"CREATE TABLE IF NOT EXISTS {phases} ("
	" migration_id varchar(255) NOT NULL, phase varchar(16) NOT NULL,"
	" state varchar(16) NOT NULL, rows_done bigint NOT NULL DEFAULT 0, rows_total bigint,"
	" checkpoint text, undo_steps text, progress text, owner varchar(255), heartbeat timestamptz,"
	" error text,"
	" blocked_ms bigint, started_at timestamptz, finished_at timestamptz,"
	" updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (migration_id, phase))",
	"CREATE TABLE IF NOT EXISTS {control} ("
	" migration_id varchar(255) NOT NULL, phase varchar(16) NOT NULL,"
	" desired_state varchar(16), max_rate_rows bigint, chunk_time_ms bigint,"
	" max_lag_ms bigint, max_load bigint, updated_at timestamptz NOT NULL DEFAULT now(),"
	" updated_by varchar(255) NOT NULL, PRIMARY KEY (migration_id, phase))",
	"CREATE TABLE IF NOT EXISTS {events} ("
	" id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),"
	" migration_id varchar(255), phase varchar(16), from_state varchar(16),"
	" to_state varchar(16), who varchar(255) NOT NULL, detail text)",
	"CREATE TABLE IF NOT EXISTS {runner} ("
	" id int PRIMARY KEY, owner varchar(255) NOT NULL, since timestamptz NOT NULL,"
	" heartbeat timestamptz NOT NULL)",
	PG_HEARTBEAT,
};

static const char *const my_ddl[] = {
	"CREATE TABLE IF NOT EXISTS {migrations} ("
	" id varchar(255) PRIMARY KEY, parents text NOT NULL, checksum varchar(64) NOT NULL,"
	" message text NOT NULL, applied_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" applied_by varchar(255) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS {phases} ("
	" migration_id varchar(255) NOT NULL, phase varchar(16) NOT NULL,"
	" state varchar(16) NOT NULL, rows_done bigint NOT NULL DEFAULT 0, rows_total bigint,"
	" checkpoint longtext, undo_steps longtext, progress text, owner varchar(255),"
	" heartbeat datetime(6),"
	" error text, blocked_ms bigint, started_at datetime(6), finished_at datetime(6),"
	" updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" PRIMARY KEY (migration_id, phase)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS {control} ("
	" migration_id varchar(255) NOT NULL, phase varchar(16) NOT NULL,"
	" desired_state varchar(16), max_rate_rows bigint, chunk_time_ms bigint,"
	" max_lag_ms bigint, max_load bigint,"
	" updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" updated_by varchar(255) NOT NULL, PRIMARY KEY (migration_id, phase))"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS {events} ("
	" id bigint AUTO_INCREMENT PRIMARY KEY,"
	" at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" migration_id varchar(255), phase varchar(16), from_state varchar(16),"
	" to_state varchar(16), who varchar(255) NOT NULL, detail text)"
	" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS {runner} ("
	" id int PRIMARY KEY, owner varchar(255) NOT NULL, since datetime(6) NOT NULL,"
	" heartbeat datetime(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	MY_HEARTBEAT,
};

static const char *const tables[] = {"migrations", "phases", "control", "events", "runner",
				     "heartbeat"};

#define LIMIT_COLUMNS "max_rate_rows, chunk_time_ms, max_lag_ms, max_load"

static void limits_from_row(struct gw_limits *l, const struct gw_result *r, int row, int col)
{
	long long *v[] = {&l->rate, &l->chunk_time_ms, &l->max_lag_ms, &l->max_load};

	for (int k = 0; k < 4; k++) {
		const char *s = gw_result_get(r, row, col + k);

		*v[k] = s ? atoll(s) : GW_LIMIT_UNSET;
	}
}

static bool is_pg(const struct gw_store *s)
{
	return gw_conn_dialect(s->conn)->id == GW_DIALECT_POSTGRES;
}

void gw_store_init(struct gw_store *s, struct gw_conn *conn)
{
	char host[64] = "unknown";

	memset(s, 0, sizeof(*s));
	s->conn = conn;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(s->who, sizeof(s->who), "%s:%ld", host, (long)getpid());
}

static void put_table(const struct gw_store *s, struct gw_buf *b, const char *name)
{
	const struct gw_dialect *d = gw_conn_dialect(s->conn);

	if (is_pg(s)) {
		d->ident(b, "godwit");
		gw_buf_putc(b, '.');
		d->ident(b, name);
	} else {
		char full[64];

		snprintf(full, sizeof(full), "godwit_%s", name);
		d->ident(b, full);
	}
}

char *gw_store_sql(const struct gw_store *s, const char *tmpl)
{
	struct gw_buf b = GW_BUF_INIT;

	for (const char *p = tmpl; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		bool done = false;

		if (close) {
			size_t n = (size_t)(close - p - 1);

			for (size_t i = 0; i < GW_ARRAY_SIZE(tables) && !done; i++) {
				if (strlen(tables[i]) == n && strncmp(p + 1, tables[i], n) == 0) {
					put_table(s, &b, tables[i]);
					done = true;
				}
			}
			if (!done && n == 3 && strncmp(p + 1, "now", 3) == 0) {
				gw_buf_puts(&b, is_pg(s) ? "now()" : "CURRENT_TIMESTAMP(6)");
				done = true;
			}
		}
		if (done) {
			p = close + 1;
		} else {
			gw_buf_putc(&b, *p);
			p++;
		}
	}
	return gw_buf_detach(&b);
}

/* Run one templated statement with parameters; res may be NULL. */
static int run(struct gw_store *s, const char *tmpl, int n, const char *const *params,
	       struct gw_result **res, struct gw_error *err)
{
	char *sql = gw_store_sql(s, tmpl);
	int rc = gw_conn_query(s->conn, sql, n, params, res, err);

	free(sql);
	return rc;
}

int gw_store_create(struct gw_store *s, struct gw_error *err)
{
	const char *const *ddl = is_pg(s) ? pg_ddl : my_ddl;
	size_t n = is_pg(s) ? GW_ARRAY_SIZE(pg_ddl) : GW_ARRAY_SIZE(my_ddl);

	for (size_t i = 0; i < n; i++) {
		int rc = run(s, ddl[i], 0, NULL, NULL, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int gw_store_check(struct gw_store *s, struct gw_error *err)
{
	struct gw_result *r = NULL;
	struct gw_error local = GW_ERROR_INIT;
	int rc = run(s, "SELECT count(*) FROM {phases} WHERE 1 = 0", 0, NULL, &r, &local);

	gw_result_free(r);
	if (rc == GW_ERR_DB_UNDEFINED) {
		rc = gw_error_set(err, GW_ERR_STATE, "state store not found in database '%s'",
				  s->conn->database ? s->conn->database : "");
		gw_error_hint(err, "run 'godwit init' first");
	} else if (rc < 0) {
		*err = local;
	}
	return rc;
}

static char *lock_name(const struct gw_store *s)
{
	return gw_asprintf("godwit:%s", s->conn->database ? s->conn->database : "");
}

int gw_store_lock(struct gw_store *s, struct gw_error *err)
{
	char *name = lock_name(s);
	struct gw_result *r = NULL;
	const char *p[1] = {s->who};
	bool got = false;
	int rc;

	rc = gw_conn_try_lock(s->conn, name, &got, err);
	if (rc < 0)
		goto out;
	if (!got) {
		const char *owner = "unknown", *since = "unknown";

		rc = run(s, "SELECT owner, since FROM {runner} WHERE id = 1", 0, NULL, &r, err);
		if (rc < 0)
			goto out;
		if (r->nrows == 1) {
			owner = gw_result_get(r, 0, 0);
			since = gw_result_get(r, 0, 1);
		}
		rc = gw_error_set(err, GW_ERR_LOCKED,
				  "another runner holds the lock on database '%s': %s since %s",
				  s->conn->database, owner, since);
		gw_error_hint(err, "wait for it to finish, or stop it; a crashed runner "
				   "releases the lock when its session ends");
		goto out;
	}
	s->locked = true;
	rc = run(s, "DELETE FROM {runner} WHERE id = 1", 0, NULL, NULL, err);
	if (rc == 0)
		rc = run(s, "INSERT INTO {runner} (id, owner, since, heartbeat)"
			    " VALUES (1, $1, {now}, {now})", 1, p, NULL, err);
out:
	if (rc < 0 && s->locked)
		gw_store_unlock(s);
	gw_result_free(r);
	free(name);
	return rc;
}

void gw_store_unlock(struct gw_store *s)
{
	char *name;

	if (!s->locked)
		return;
	name = lock_name(s);
	/* Best effort: the lock dies with the session anyway. */
	if (run(s, "DELETE FROM {runner} WHERE id = 1", 0, NULL, NULL, NULL) < 0 ||
	    gw_conn_unlock(s->conn, name, NULL) < 0)
		s->locked = false;
	s->locked = false;
	free(name);
}

static void applied_release(struct gw_applied *a)
{
	free(a->id);
	free(a->parents);
	free(a->checksum);
	free(a->message);
	free(a->applied_at);
	for (int p = 0; p < GW_NPHASES; p++) {
		free(a->undo[p]);
		free(a->checkpoint[p]);
		free(a->error[p]);
		free(a->updated_at[p]);
		free(a->progress[p]);
		free(a->desired[p]);
	}
}

void gw_applied_set_release(struct gw_applied_set *a)
{
	for (size_t i = 0; i < a->n; i++)
		applied_release(&a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

struct gw_applied *gw_applied_find(const struct gw_applied_set *a, const char *id)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, id) == 0)
			return &a->v[i];
	return NULL;
}

bool gw_applied_touched(const struct gw_applied *a)
{
	for (int p = 0; a && p < GW_NPHASES; p++)
		if (a->state[p] != GW_STATE_PENDING && a->state[p] != GW_STATE_ROLLED_BACK)
			return true;
	return false;
}

bool gw_applied_done(const struct gw_applied *a)
{
	for (int p = 0; p < GW_NPHASES; p++)
		if (!a || a->state[p] != GW_STATE_COMPLETED)
			return false;
	return true;
}

int gw_store_load(struct gw_store *s, struct gw_applied_set *out, struct gw_error *err)
{
	struct gw_result *m = NULL, *ph = NULL, *ctl = NULL;
	int rc;

	rc = run(s, "SELECT id, parents, checksum, message, applied_at FROM {migrations}"
		    " ORDER BY applied_at, id", 0, NULL, &m, err);
	if (rc < 0)
		goto out;
	rc = run(s, "SELECT migration_id, phase, state, undo_steps, checkpoint, error, updated_at,"
		    " rows_done, rows_total, progress FROM {phases}", 0, NULL, &ph, err);
	if (rc == 0)
		rc = run(s, "SELECT migration_id, phase, desired_state, " LIMIT_COLUMNS
			    " FROM {control}", 0, NULL, &ctl, err);
	if (rc < 0)
		goto out;
	out->n = (size_t)m->nrows;
	out->v = gw_calloc(out->n, sizeof(*out->v));
	for (int i = 0; i < m->nrows; i++) {
		struct gw_applied *a = &out->v[i];

		a->id = gw_strdup(gw_result_get(m, i, 0));
		a->parents = gw_strdup(gw_result_get(m, i, 1));
		a->checksum = gw_strdup(gw_result_get(m, i, 2));
		a->message = gw_strdup(gw_result_get(m, i, 3));
		a->applied_at = gw_strdup(gw_result_get(m, i, 4));
		for (int p = 0; p < GW_NPHASES; p++)
			a->limits[p] = (struct gw_limits)GW_LIMITS_UNSET;
	}
	for (int i = 0; i < ph->nrows; i++) {
		struct gw_applied *a = gw_applied_find(out, gw_result_get(ph, i, 0));
		int p = gw_phase_parse(gw_result_get(ph, i, 1));
		int st = gw_state_parse(gw_result_get(ph, i, 2));

		if (!a || p < 0 || st < 0)
			continue;
		a->state[p] = (enum gw_state)st;
		a->undo[p] = gw_strdup(gw_result_get(ph, i, 3));
		a->checkpoint[p] = gw_strdup(gw_result_get(ph, i, 4));
		a->error[p] = gw_strdup(gw_result_get(ph, i, 5));
		a->updated_at[p] = gw_strdup(gw_result_get(ph, i, 6));
		a->rows_done[p] = gw_result_get(ph, i, 7) ? atoll(gw_result_get(ph, i, 7)) : 0;
		a->rows_total[p] = gw_result_get(ph, i, 8) ? atoll(gw_result_get(ph, i, 8)) : -1;
		a->progress[p] = gw_strdup(gw_result_get(ph, i, 9));
	}
	for (int i = 0; i < ctl->nrows; i++) {
		struct gw_applied *a = gw_applied_find(out, gw_result_get(ctl, i, 0));
		int p = gw_phase_parse(gw_result_get(ctl, i, 1));

		if (!a || p < 0)
			continue;
		if (gw_result_get(ctl, i, 2))
			a->desired[p] = gw_strdup(gw_result_get(ctl, i, 2));
		limits_from_row(&a->limits[p], ctl, i, 3);
	}
out:
	gw_result_free(m);
	gw_result_free(ph);
	gw_result_free(ctl);
	if (rc < 0)
		gw_applied_set_release(out);
	return rc;
}

int gw_store_event(struct gw_store *s, const char *id, int phase, const char *from,
		   const char *to, const char *detail, struct gw_error *err)
{
	const char *p[6] = {id, gw_phase_name(phase), from, to, s->who, detail};

	return run(s, "INSERT INTO {events} (migration_id, phase, from_state, to_state, who, detail)"
		      " VALUES ($1, $2, $3, $4, $5, $6)", 6, p, NULL, err);
}

int gw_store_record(struct gw_store *s, const struct gw_migration *m, struct gw_error *err)
{
	struct gw_result *r = NULL;
	struct gw_buf parents = GW_BUF_INIT;
	int rc;

	rc = run(s, "SELECT checksum FROM {migrations} WHERE id = $1", 1,
		 (const char *const[]){m->id}, &r, err);
	if (rc < 0)
		goto out;
	/* Already recorded: the runner has compared its checksum with the file. */
	if (r->nrows == 1)
		goto out;
	for (size_t i = 0; i < m->nparents; i++) {
		if (i)
			gw_buf_putc(&parents, ' ');
		gw_buf_puts(&parents, m->parents[i]);
	}
	rc = run(s, "INSERT INTO {migrations} (id, parents, checksum, message, applied_by)"
		    " VALUES ($1, $2, $3, $4, $5)", 5,
		 (const char *const[]){m->id, parents.data, m->checksum, m->message, s->who},
		 NULL, err);
	for (int p = 0; rc == 0 && p < GW_NPHASES; p++)
		rc = run(s, "INSERT INTO {phases} (migration_id, phase, state) VALUES ($1, $2, 'pending')",
			 2, (const char *const[]){m->id, gw_phase_name(p)}, NULL, err);
	if (rc == 0)
		rc = gw_store_event(s, m->id, -1, NULL, "recorded", m->checksum, err);
out:
	gw_buf_release(&parents);
	gw_result_free(r);
	return rc;
}

int gw_store_forget(struct gw_store *s, const char *id, const char *why, struct gw_error *err)
{
	const char *p[1] = {id};
	int rc;

	rc = run(s, "DELETE FROM {phases} WHERE migration_id = $1", 1, p, NULL, err);
	if (rc == 0)
		rc = run(s, "DELETE FROM {control} WHERE migration_id = $1", 1, p, NULL, err);
	if (rc == 0)
		rc = run(s, "DELETE FROM {migrations} WHERE id = $1", 1, p, NULL, err);
	if (rc == 0)
		rc = gw_store_event(s, id, -1, NULL, "forgotten", why, err);
	return rc;
}

int gw_store_transition(struct gw_store *s, const char *id, enum gw_phase p, enum gw_state to,
			const char *error, const char *undo, const char *detail,
			struct gw_error *err)
{
	struct gw_result *r = NULL;
	const char *phase = gw_phase_name((int)p);
	int from, rc;

	rc = run(s, "SELECT state FROM {phases} WHERE migration_id = $1 AND phase = $2", 2,
		 (const char *const[]){id, phase}, &r, err);
	if (rc < 0)
		goto out;
	if (r->nrows != 1) {
		rc = gw_error_set(err, GW_ERR_STATE, "no state recorded for '%s:%s'", id, phase);
		goto out;
	}
	from = gw_state_parse(gw_result_get(r, 0, 0));
	if (from < 0 || !gw_state_transition_ok((enum gw_state)from, to)) {
		rc = gw_error_set(err, GW_ERR_STATE, "phase '%s:%s' cannot go from %s to %s", id,
				  phase, gw_result_get(r, 0, 0), gw_state_name((int)to));
		goto out;
	}
	rc = run(s, "UPDATE {phases} SET state = $3, error = $4, undo_steps = COALESCE($5, undo_steps),"
		    " owner = $6, heartbeat = {now}, updated_at = {now},"
		    " started_at = CASE WHEN $7 = 'y' THEN {now} ELSE started_at END,"
		    " finished_at = CASE WHEN $8 = 'y' THEN {now} ELSE NULL END"
		    " WHERE migration_id = $1 AND phase = $2", 8,
		 (const char *const[]){id, phase, gw_state_name((int)to), error, undo, s->who,
				       to == GW_STATE_RUNNING && from != GW_STATE_RUNNING ? "y" : "n",
				       to == GW_STATE_COMPLETED || to == GW_STATE_ROLLED_BACK ? "y" : "n"},
		 NULL, err);
	if (rc == 0)
		rc = gw_store_event(s, id, (int)p, gw_state_name(from), gw_state_name((int)to),
				    detail ? detail : error, err);
out:
	gw_result_free(r);
	return rc;
}

int gw_store_checkpoint(struct gw_store *s, const char *id, enum gw_phase p,
			const char *checkpoint, const char *undo, struct gw_error *err)
{
	return gw_store_progress(s, id, p, checkpoint, undo, NULL, err);
}

int gw_store_progress(struct gw_store *s, const char *id, enum gw_phase p,
		      const char *checkpoint, const char *undo, const struct gw_progress *pr,
		      struct gw_error *err)
{
	char done[32] = "", total[32] = "";

	if (pr && pr->rows_done >= 0) {
		snprintf(done, sizeof(done), "%lld", pr->rows_done);
		if (pr->rows_total >= 0)
			snprintf(total, sizeof(total), "%lld", pr->rows_total);
	}
	return run(s, "UPDATE {phases} SET checkpoint = COALESCE($3, checkpoint),"
		      " undo_steps = COALESCE($4, undo_steps),"
		      " rows_done = COALESCE($5, rows_done), rows_total = COALESCE($6, rows_total),"
		      " progress = COALESCE($7, progress), heartbeat = {now}, updated_at = {now}"
		      " WHERE migration_id = $1 AND phase = $2", 7,
		   (const char *const[]){id, gw_phase_name((int)p), checkpoint, undo,
					 *done ? done : NULL, *total ? total : NULL,
					 pr ? pr->json : NULL},
		   NULL, err);
}

/* MariaDB/MySQL and PostgreSQL spell an upsert differently. */
int gw_store_control(struct gw_store *s, const char *id, enum gw_phase p, const char *desired,
		     struct gw_error *err)
{
	const char *params[4] = {id, gw_phase_name((int)p), desired, s->who};

	if (is_pg(s))
		return run(s, "INSERT INTO {control} (migration_id, phase, desired_state, updated_by)"
			      " VALUES ($1, $2, $3, $4) ON CONFLICT (migration_id, phase) DO UPDATE"
			      " SET desired_state = $3, updated_by = $4, updated_at = {now}",
			   4, params, NULL, err);
	return run(s, "INSERT INTO {control} (migration_id, phase, desired_state, updated_by)"
		      " VALUES ($1, $2, $3, $4) ON DUPLICATE KEY UPDATE"
		      " desired_state = $3, updated_by = $4, updated_at = {now}",
		   4, params, NULL, err);
}

int gw_store_desired(struct gw_store *s, const char *id, enum gw_phase p, char *out,
		     size_t outsz, struct gw_limits *limits, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = run(s, "SELECT desired_state, " LIMIT_COLUMNS " FROM {control}"
			" WHERE migration_id = $1 AND phase = $2", 2,
		     (const char *const[]){id, gw_phase_name((int)p)}, &r, err);

	out[0] = '\0';
	if (limits)
		*limits = (struct gw_limits)GW_LIMITS_UNSET;
	if (rc == 0 && r->nrows == 1) {
		if (gw_result_get(r, 0, 0))
			snprintf(out, outsz, "%s", gw_result_get(r, 0, 0));
		if (limits)
			limits_from_row(limits, r, 0, 1);
	}
	gw_result_free(r);
	return rc;
}

int gw_store_set_limits(struct gw_store *s, const char *id, enum gw_phase p,
			const struct gw_limits *l, bool clear, struct gw_error *err)
{
	const long long v[] = {l->rate, l->chunk_time_ms, l->max_lag_ms, l->max_load};
	char text[4][32];
	const char *params[7] = {id, gw_phase_name((int)p), s->who};
	int rc;

	for (int k = 0; k < 4; k++) {
		snprintf(text[k], sizeof(text[k]), "%lld", v[k]);
		params[3 + k] = v[k] >= 0 ? text[k] : NULL;
	}
	/* the row first, so that one UPDATE then sets what was given */
	if (is_pg(s))
		rc = run(s, "INSERT INTO {control} (migration_id, phase, updated_by)"
			    " VALUES ($1, $2, $3) ON CONFLICT (migration_id, phase) DO NOTHING",
			 3, params, NULL, err);
	else
		rc = run(s, "INSERT IGNORE INTO {control} (migration_id, phase, updated_by)"
			    " VALUES ($1, $2, $3)", 3, params, NULL, err);
	if (rc == 0 && clear)
		rc = run(s, "UPDATE {control} SET max_rate_rows = NULL, chunk_time_ms = NULL,"
			    " max_lag_ms = NULL, max_load = NULL WHERE migration_id = $1 AND phase = $2",
			 2, params, NULL, err);
	if (rc == 0)
		rc = run(s, is_pg(s) ? "UPDATE {control} SET"
				       " max_rate_rows = COALESCE($4::bigint, max_rate_rows),"
				       " chunk_time_ms = COALESCE($5::bigint, chunk_time_ms),"
				       " max_lag_ms = COALESCE($6::bigint, max_lag_ms),"
				       " max_load = COALESCE($7::bigint, max_load),"
				       " updated_by = $3, updated_at = {now}"
				       " WHERE migration_id = $1 AND phase = $2"
				     : "UPDATE {control} SET"
				       " max_rate_rows = COALESCE($4, max_rate_rows),"
				       " chunk_time_ms = COALESCE($5, chunk_time_ms),"
				       " max_lag_ms = COALESCE($6, max_lag_ms),"
				       " max_load = COALESCE($7, max_load),"
				       " updated_by = $3, updated_at = {now}"
				       " WHERE migration_id = $1 AND phase = $2",
			 7, params, NULL, err);
	return rc;
}

int gw_store_beat(struct gw_store *s, long long ts_us, struct gw_error *err)
{
	char ts[32];
	const char *p[1] = {ts};
	int rc;

	snprintf(ts, sizeof(ts), "%lld", ts_us);
	/* a store made before the heartbeat existed gets it on first use */
	if (!s->beats) {
		rc = run(s, is_pg(s) ? PG_HEARTBEAT : MY_HEARTBEAT, 0, NULL, NULL, err);
		if (rc < 0)
			return rc;
		s->beats = true;
	}
	return run(s, is_pg(s) ? "INSERT INTO {heartbeat} (id, ts_us) VALUES (1, $1::bigint)"
				 " ON CONFLICT (id) DO UPDATE SET ts_us = EXCLUDED.ts_us"
			       : "INSERT INTO {heartbeat} (id, ts_us) VALUES (1, $1)"
				 " ON DUPLICATE KEY UPDATE ts_us = VALUES(ts_us)",
		   1, p, NULL, err);
}
