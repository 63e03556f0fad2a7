/*
 * The logical replication stream: one table's changes read from a logical
 * slot with the built-in pgoutput plugin over a replication connection,
 * for replication capture (stream.h).
 *
 * The publication and the slot are named for the table (the slot also for
 * the database: slots are per cluster). Positions are the end LSN of a
 * transaction; the slot is told only what has been applied and recorded.
 * Marks are logical messages committed on a connection of the stream's
 * own (a commit flushes the WAL, so that the walsender sends it at once),
 * decoded after every transaction committed before them.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/log.h"
#include "godwit/migration.h"
#include "godwit/shadow.h"
#include "godwit/stream.h"
#include "pgoutput_int.h"
#include "postgres_int.h"

#define MARK_PREFIX "godwit"
#define SETTLE_WAIT_MS 300000
/* Values come as text in these settings, and are read back in any. */
#define WALSENDER_OPTIONS \
	"-c datestyle=ISO -c intervalstyle=postgres -c timezone=UTC " \
	"-c extra_float_digits=3 -c bytea_output=hex"
#define USEC_2000 946684800000000LL   /* 2000-01-01 in microseconds since the epoch */

struct gw_stream {
	PGconn *repl;
	struct gw_conn *marks;    /* writes marks */
	char slot[64];
	const struct gw_table_info *t;
	uint32_t relid;
	size_t nrel;
	size_t *rel_col;          /* relation column i is t's column rel_col[i] (ncolumns: none) */
	uint64_t confirmed;
	char **before, **after;
	char *buf;                /* the last frame, from PQgetCopyData */
	/* transactions that changed t, returned but not yet seen visible (see stream_settle) */
	uint32_t xid;             /* of the transaction being read */
	bool changed;             /* it changed t */
	uint32_t *unsettled;
	size_t nunsettled, capunsettled;
};

/* The slot's name: lower-case letters, digits and '_', unique per database and table. */
static void slot_name(const struct gw_conn *c, const char *table, char out[64])
{
	char *full = gw_asprintf("%s.%s.%s", c->database, c->schema, table);
	char sum[17];
	size_t n = 0;

	gw_checksum(full, strlen(full), sum);
	n = (size_t)snprintf(out, 64, "godwit_");
	for (const char *p = table; *p && n < 40; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')
			out[n++] = ch;
	}
	snprintf(out + n, 64 - n, "_%.12s", sum);
	free(full);
}

static char *pub_name(const struct gw_conn *c, const char *table)
{
	char *name = gw_shadow_name(table, "pub");
	struct gw_buf b = GW_BUF_INIT;

	gw_conn_dialect(c)->ident(&b, name);
	free(name);
	return gw_buf_detach(&b);
}

static char *qualified(const struct gw_conn *c, const char *table)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_conn_dialect(c)->ident(&b, c->schema);
	gw_buf_putc(&b, '.');
	gw_conn_dialect(c)->ident(&b, table);
	return gw_buf_detach(&b);
}

static void vals_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int repl_error(struct gw_stream *s, const char *what, struct gw_error *err)
{
	const char *msg = PQerrorMessage(s->repl);
	size_t len = strlen(msg);

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	return gw_error_set(err, GW_ERR_DB, "logical replication slot '%s': %s: %.*s", s->slot,
			    what, (int)len, msg);
}

/* Tell the server what is applied. */
static int send_status(struct gw_stream *s, struct gw_error *err)
{
	unsigned char msg[34];
	size_t n = gw_pgo_status(msg, s->confirmed, s->confirmed, s->confirmed,
				 gw_epoch_us() - USEC_2000, false);

	if (PQputCopyData(s->repl, (const char *)msg, (int)n) != 1 || PQflush(s->repl) != 0)
		return repl_error(s, "could not send the standby status", err);
	return 0;
}

/* A relation message: map its columns onto the table's by name. */
static int relation(struct gw_stream *s, const struct gw_pgo_msg *m, struct gw_error *err)
{
	if (strcmp(m->relname, s->t->name) != 0)
		return 0;
	free(s->rel_col);
	s->relid = m->relid;
	s->nrel = m->ncols;
	s->rel_col = gw_calloc(m->ncols + 1, sizeof(size_t));
	for (size_t i = 0; i < m->ncols; i++) {
		size_t k = 0;

		while (k < s->t->ncolumns && strcmp(s->t->columns[k].name, m->colnames[i]) != 0)
			k++;
		if (k == s->t->ncolumns)
			return gw_error_set(err, GW_ERR_STATE,
					    "table '%s' has column '%s' in the stream and not now: its "
					    "definition changed during the rebuild",
					    s->t->name, m->colnames[i]);
		s->rel_col[i] = k;
	}
	return 0;
}

/* The values of a tuple as expressions of the table's column types. */
static int tuple(struct gw_stream *s, const struct gw_pgo_tuple *tp, char ***out,
		 struct gw_error *err)
{
	char **v = gw_calloc(s->t->ncolumns + 1, sizeof(char *));

	if (tp->n != s->nrel) {
		free(v);
		return gw_error_set(err, GW_ERR_DB, "logical replication slot '%s': a row of '%s' "
				    "has %zu values for %zu columns", s->slot, s->t->name, tp->n, s->nrel);
	}
	for (size_t i = 0; i < tp->n; i++) {
		size_t k = s->rel_col[i];
		struct gw_buf b = GW_BUF_INIT;

		if (tp->kinds[i] == 'u')
			continue;
		if (tp->kinds[i] == 'n') {
			v[k] = gw_strdup("NULL");
			continue;
		}
		/*
		 * An escape string, read alike whatever standard_conforming_strings
		 * the applier's session has (off, a plain literal would take the
		 * backslashes of text, bytea and arrays as escapes).
		 */
		gw_buf_puts(&b, "CAST(E'");
		for (const char *p = tp->vals[i]; *p; p++) {
			if (*p == '\'' || *p == '\\')
				gw_buf_putc(&b, *p);
			gw_buf_putc(&b, *p);
		}
		gw_buf_printf(&b, "' AS %s)", s->t->columns[k].type);
		v[k] = gw_buf_detach(&b);
	}
	*out = v;
	return 0;
}

/* One pgoutput message; ch->kind stays NONE for those that are not changes. */
static int message(struct gw_stream *s, const struct gw_pgo_msg *m, struct gw_change *ch,
		   struct gw_error *err)
{
	int rc = 0;

	switch (m->type) {
	case 'R':
		return relation(s, m, err);
	case 'B':
		s->xid = m->xid;
		s->changed = false;
		return 0;
	case 'C':
		if (s->changed) {
			if (s->nunsettled == s->capunsettled) {
				s->capunsettled = s->capunsettled ? 2 * s->capunsettled : 16;
				s->unsettled = gw_realloc(s->unsettled,
							  s->capunsettled * sizeof(*s->unsettled));
			}
			s->unsettled[s->nunsettled++] = s->xid;
		}
		ch->kind = GW_CHANGE_COMMIT;
		gw_pgo_lsn_format(m->end_lsn, ch->pos);
		return 0;
	case 'M': {
		long long seq = 0, us = 0;
		char slot[64];

		if (m->prefix && strcmp(m->prefix, MARK_PREFIX) == 0 &&
		    sscanf(m->content, "%63s %lld %lld", slot, &seq, &us) == 3 &&
		    strcmp(slot, s->slot) == 0) {
			ch->kind = GW_CHANGE_MARK;
			ch->mark = seq;
			ch->mark_us = us;
		}
		return 0;
	}
	case 'T':
		for (size_t i = 0; i < m->nrelids; i++)
			if (m->relids[i] == s->relid)
				ch->kind = GW_CHANGE_TRUNCATE;
		s->changed |= ch->kind == GW_CHANGE_TRUNCATE;
		return 0;
	case 'I':
	case 'U':
	case 'D':
		break;
	default:
		return 0;
	}
	if (!s->rel_col || m->relid != s->relid)
		return 0;
	s->changed = true;
	vals_free(s->before, s->t->ncolumns);
	vals_free(s->after, s->t->ncolumns);
	s->before = s->after = NULL;
	if (m->type != 'I' && m->old_kind)
		rc = tuple(s, &m->old_row, &s->before, err);
	if (rc == 0 && m->type != 'D')
		rc = tuple(s, &m->new_row, &s->after, err);
	ch->kind = m->type == 'I' ? GW_CHANGE_INSERT
		 : m->type == 'U' ? GW_CHANGE_UPDATE : GW_CHANGE_DELETE;
	ch->before = s->before;
	ch->after = s->after;
	return rc;
}

/* Wait until the connection is readable, at most ms. */
static int wait_readable(struct gw_stream *s, int ms, bool *ready, struct gw_error *err)
{
	struct pollfd p = {PQsocket(s->repl), POLLIN, 0};
	int n = poll(&p, 1, ms);

	*ready = n > 0;
	if (n < 0)
		return gw_error_set(err, GW_ERR_DB, "logical replication slot '%s': poll failed",
				    s->slot);
	if (n > 0 && !PQconsumeInput(s->repl))
		return repl_error(s, "could not read", err);
	return 0;
}

static int stream_next(struct gw_stream *s, struct gw_change *ch, int timeout_ms,
		       struct gw_error *err)
{
	bool waited = false;

	memset(ch, 0, sizeof(*ch));
	for (;;) {
		struct gw_pgo_frame f;
		struct gw_pgo_msg m;
		int n, rc;

		if (s->buf)
			PQfreemem(s->buf);
		s->buf = NULL;
		n = PQgetCopyData(s->repl, &s->buf, 1);
		if (n == 0) {
			bool ready = false;

			if (waited)
				return 0;
			rc = wait_readable(s, timeout_ms, &ready, err);
			if (rc < 0)
				return rc;
			waited = !ready;
			continue;
		}
		if (n < 0) {
			/* The server ended it: its reason is in the result. */
			PGresult *r = PQgetResult(s->repl);
			int rc2 = gw_error_set(err, GW_ERR_DB,
					       "logical replication slot '%s': the server ended the "
					       "stream: %s",
					       s->slot, r ? PQresultErrorMessage(r) : PQerrorMessage(s->repl));

			PQclear(r);
			return rc2;
		}
		rc = gw_pgo_frame_parse((const unsigned char *)s->buf, (size_t)n, &f, err);
		if (rc < 0)
			return rc;
		if (f.type == 'k') {
			if (f.reply_requested && (rc = send_status(s, err)) < 0)
				return rc;
			continue;
		}
		rc = gw_pgo_parse(f.data, f.len, &m, err);
		if (rc == 0)
			rc = message(s, &m, ch, err);
		gw_pgo_msg_release(&m);
		if (rc < 0 || ch->kind != GW_CHANGE_NONE)
			return rc;
	}
}

static int stream_confirm(struct gw_stream *s, const char *pos, struct gw_error *err)
{
	uint64_t lsn;

	if (gw_pgo_lsn_parse(pos, &lsn) < 0)
		return gw_error_set(err, GW_ERR_STATE, "'%s' is not an LSN", pos);
	if (lsn > s->confirmed)
		s->confirmed = lsn;
	return send_status(s, err);
}

static int stream_mark(struct gw_stream *s, long long seq, struct gw_error *err)
{
	char *content = gw_asprintf("%s %lld %lld", s->slot, seq, (long long)gw_epoch_us());
	int rc = gw_conn_query(s->marks, "SELECT pg_logical_emit_message(true, '" MARK_PREFIX
			       "', $1)", 1, (const char *const[]){content}, NULL, err);

	free(content);
	return rc;
}

/*
 * A transaction is decoded once its commit record is flushed, which may be
 * a moment before the server shows it committed to new snapshots (longer
 * when the commit waits for a synchronous standby): wait until every one
 * returned so far that changed t is visible.
 */
static int stream_settle(struct gw_stream *s, struct gw_error *err)
{
	double t0 = gw_now_ms();
	long wait_ms = 1;

	while (s->nunsettled) {
		struct gw_result *r = NULL;
		size_t kept = 0;
		int rc = gw_conn_query(s->marks, "SELECT pg_current_snapshot()::text", 0, NULL, &r,
				       err);

		for (size_t i = 0; rc == 0 && i < s->nunsettled; i++) {
			int sees = gw_pgo_snapshot_sees(gw_result_get(r, 0, 0), s->unsettled[i]);

			if (sees < 0)
				rc = gw_error_set(err, GW_ERR_DB, "'%s' is not a snapshot",
						  gw_result_get(r, 0, 0));
			else if (!sees)
				s->unsettled[kept++] = s->unsettled[i];
		}
		gw_result_free(r);
		if (rc < 0)
			return rc;
		s->nunsettled = kept;
		if (kept && gw_now_ms() - t0 > SETTLE_WAIT_MS) {
			rc = gw_error_set(err, GW_ERR_DB, "logical replication slot '%s': transaction "
					  "%u was decoded but is still not visible after %d s",
					  s->slot, s->unsettled[0], SETTLE_WAIT_MS / 1000);
			gw_error_hint(err, "a commit that waits for a synchronous standby is not "
					   "visible yet; check synchronous_standby_names and the "
					   "standbys, then run again: it resumes");
			return rc;
		}
		if (kept)
			gw_sleep_ms(wait_ms);
		wait_ms = wait_ms < 100 ? 2 * wait_ms : wait_ms;
	}
	return 0;
}

static void stream_close(struct gw_stream *s)
{
	if (!s)
		return;
	if (s->buf)
		PQfreemem(s->buf);
	PQfinish(s->repl);
	gw_conn_close(s->marks);
	vals_free(s->before, s->t ? s->t->ncolumns : 0);
	vals_free(s->after, s->t ? s->t->ncolumns : 0);
	free(s->rel_col);
	free(s->unsettled);
	free(s);
}

/* End a walsender that still holds the slot (left by a godwit that was killed). */
static int free_slot(struct gw_conn *c, const char *slot, struct gw_error *err)
{
	return gw_conn_query(c,
			     "SELECT pg_terminate_backend(active_pid), pg_sleep(0.2) "
			     "FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
			     1, (const char *const[]){slot}, NULL, err);
}

static int stream_open(const char *url, struct gw_conn *c, const struct gw_table_info *t,
		       const char *pos, struct gw_stream **out, struct gw_error *err)
{
	struct gw_stream *s = gw_calloc(1, sizeof(*s));
	char *pub = pub_name(c, t->name), *sql = NULL;
	PGresult *r = NULL;
	int rc;

	s->t = t;
	slot_name(c, t->name, s->slot);
	if (gw_pgo_lsn_parse(pos, &s->confirmed) < 0) {
		rc = gw_error_set(err, GW_ERR_STATE, "'%s' is not an LSN", pos);
		goto out;
	}
	rc = free_slot(c, s->slot, err);
	if (rc == 0)
		rc = gw_connect(url, &s->marks, err);
	/* A mark must reach the slot at once, not when the WAL writer next flushes. */
	if (rc == 0)
		rc = gw_conn_exec(s->marks, "SET synchronous_commit = on", err);
	if (rc == 0)
		rc = gw_pg_connect_replication(url, WALSENDER_OPTIONS, &s->repl, err);
	if (rc < 0)
		goto out;
	sql = gw_asprintf("START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', "
			  "publication_names '%s', messages 'true')",
			  s->slot, pos, pub);
	r = PQexec(s->repl, sql);
	if (PQresultStatus(r) != PGRES_COPY_BOTH)
		rc = repl_error(s, "could not start streaming", err);
out:
	PQclear(r);
	free(sql);
	free(pub);
	if (rc < 0) {
		stream_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int stream_setup(struct gw_conn *c, const struct gw_table_info *t, char **pos,
			struct gw_error *err)
{
	char *qt = qualified(c, t->name), *pub = pub_name(c, t->name), *sql = NULL;
	struct gw_result *r = NULL;
	char slot[64];
	int rc;

	slot_name(c, t->name, slot);
	rc = gw_conn_query(c, "SELECT current_setting('wal_level'), relreplident FROM pg_class "
			      "WHERE oid = $1::regclass", 1, (const char *const[]){qt}, &r, err);
	if (rc < 0)
		goto out;
	if (strcmp(gw_result_get(r, 0, 0), "logical") != 0) {
		rc = gw_error_set(err, GW_ERR_UNSUPPORTED,
				  "replication capture of '%s' needs wal_level = logical; it is %s",
				  t->name, gw_result_get(r, 0, 0));
		gw_error_hint(err, "set wal_level = logical in postgresql.conf and restart the "
				   "server, or use \"capture\": \"triggers\"");
		goto out;
	}
	if (strcmp(gw_result_get(r, 0, 1), "n") == 0 ||
	    (strcmp(gw_result_get(r, 0, 1), "d") == 0 && t->npk == 0)) {
		rc = gw_error_set(err, GW_ERR_UNSUPPORTED,
				  "replication capture of '%s' needs its deletes and updates to name "
				  "their rows, and the table has REPLICA IDENTITY %s",
				  t->name, strcmp(gw_result_get(r, 0, 1), "n") == 0
						   ? "NOTHING" : "DEFAULT without a primary key");
		gw_error_hint(err, "ALTER TABLE %s REPLICA IDENTITY USING INDEX <a unique index on NOT "
				   "NULL columns> (or FULL), or use \"capture\": \"triggers\"",
			      qt);
		goto out;
	}
	gw_result_free(r);
	r = NULL;
	sql = gw_asprintf("CREATE PUBLICATION %s FOR TABLE %s", pub, qt);
	rc = gw_conn_exec(c, sql, err);
	if (rc == GW_ERR_DB_EXISTS) {
		gw_error_clear(err);
		rc = 0;   /* made before an interruption */
	}
	gw_result_free(r);
	r = NULL;
	if (rc == 0)
		rc = gw_conn_query(c, "SELECT confirmed_flush_lsn FROM pg_replication_slots "
				      "WHERE slot_name = $1", 1, (const char *const[]){slot}, &r, err);
	if (rc == 0 && r->nrows == 0) {
		gw_result_free(r);
		r = NULL;
		rc = gw_conn_query(c, "SELECT lsn FROM pg_create_logical_replication_slot($1, "
				      "'pgoutput')", 1, (const char *const[]){slot}, &r, err);
	}
	if (rc == 0)
		*pos = gw_strdup(gw_result_get(r, 0, 0));
out:
	gw_result_free(r);
	free(sql);
	free(pub);
	free(qt);
	return rc;
}

/*
 * Drop the slot and the publication. The publication loses its table
 * first: a write that looks up the table's publications while the
 * publication itself is dropped can fail ("cache lookup failed for
 * publication"), and the application's writes go on meanwhile.
 */
static int stream_teardown(struct gw_conn *c, const char *table, struct gw_error *err)
{
	char *pub = pub_name(c, table), *sql = gw_asprintf("DROP PUBLICATION IF EXISTS %s", pub);
	struct gw_result *r = NULL;
	char slot[64];
	int rc;

	slot_name(c, table, slot);
	rc = free_slot(c, slot, err);
	if (rc == 0)
		rc = gw_conn_query(c, "SELECT pg_drop_replication_slot(slot_name) "
				      "FROM pg_replication_slots WHERE slot_name = $1",
				   1, (const char *const[]){slot}, NULL, err);
	if (rc == 0)
		rc = gw_conn_query(c, "SELECT format('ALTER PUBLICATION %I DROP TABLE %I.%I', "
				      "pubname, schemaname, tablename) FROM pg_publication_tables "
				      "WHERE pubname = $1",
				   1, (const char *const[]){pub}, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++)
		rc = gw_conn_exec(c, gw_result_get(r, i, 0), err);
	gw_result_free(r);
	if (rc == 0)
		rc = gw_conn_exec(c, sql, err);
	free(sql);
	free(pub);
	return rc;
}

static int stream_held(struct gw_conn *c, struct gw_result **out, struct gw_error *err)
{
	return gw_conn_query(c,
			     "SELECT slot_name, CASE WHEN active THEN 'active' ELSE 'idle' END, "
			     "pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) "
			     "FROM pg_replication_slots WHERE database = current_database() "
			     "AND slot_name LIKE 'godwit\\_%' ORDER BY 1",
			     0, NULL, out, err);
}

/* Drop the slots of this database no capture claims, and their publications. */
static int stream_sweep(struct gw_conn *c, char *const *tables, size_t n, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = stream_held(c, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *slot = gw_result_get(r, i, 0);
		bool claimed = false;

		for (size_t k = 0; k < n && !claimed; k++) {
			char mine[64];

			slot_name(c, tables[k], mine);
			claimed = strcmp(mine, slot) == 0;
		}
		if (claimed || strcmp(gw_result_get(r, i, 1), "active") == 0)
			continue;
		gw_warn(slot, "dropping the replication slot, left by a capture that was released");
		rc = gw_conn_query(c, "SELECT pg_drop_replication_slot($1)", 1,
				   (const char *const[]){slot}, NULL, err);
	}
	gw_result_free(r);
	r = NULL;
	if (rc == 0)
		rc = gw_conn_query(c, "SELECT pubname, quote_ident(pubname) FROM pg_publication "
				      "WHERE pubname LIKE '\\_gw\\_%\\_pub'", 0, NULL, &r, err);
	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *pub = gw_result_get(r, i, 0);
		bool claimed = false;
		char *sql;

		for (size_t k = 0; k < n && !claimed; k++) {
			char *mine = gw_shadow_name(tables[k], "pub");

			claimed = strcmp(mine, pub) == 0;
			free(mine);
		}
		if (claimed)
			continue;
		sql = gw_asprintf("DROP PUBLICATION IF EXISTS %s", gw_result_get(r, i, 1));
		rc = gw_conn_exec(c, sql, err);
		free(sql);
	}
	gw_result_free(r);
	return rc;
}

const struct gw_stream_ops gw_pg_stream = {
	.setup = stream_setup,
	.teardown = stream_teardown,
	.open = stream_open,
	.mark = stream_mark,
	.next = stream_next,
	.confirm = stream_confirm,
	.settle = stream_settle,
	.close = stream_close,
	.held = stream_held,
	.sweep = stream_sweep,
};
