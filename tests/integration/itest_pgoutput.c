/*
 * The pgoutput parser against a real PostgreSQL walsender: a logical slot,
 * DML on a table of many types, the decoded stream checked against the
 * server's own text output of the rows.
 *
 * Usage: itest_pgoutput mysql|postgres. mysql skips (77), as does an unset
 * GW_TEST_PG_DSN; set but unreachable fails. Each run works in its own
 * database gw_itest_pgo_<pid> with a slot of the same name, and drops both
 * (and the publication) even after a failed assertion. Leftovers of runs
 * that died are dropped at the start.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "../../drivers/postgres/pgoutput_int.h"

#define PREFIX "gw_itest_pgo_"
#define PUB "gw_itest_pub"
#define NCOLS 12
#define LONG_COL 11           /* the TOASTed column */
#define WAL_SENDER_TIMEOUT "3000"  /* ms: a keepalive asks for a reply after half of it */
#define PG_EPOCH 946684800    /* 2000-01-01 in Unix time */

/* Rows captured right after the statements, in stream order. */
enum { ROW1, ROW2, UPD_TXT, UPD_KEY, UPD_LONG, ROW3, NEXP };

static const char *dsn;
static PGconn *admin;   /* the DSN's own database */
static char name[64];   /* database and slot: PREFIX<pid> */

/* What the test holds; teardown releases it even after a failed assertion. */
struct fx {
	PGconn *sql, *repl;
	PGresult *res;            /* the last query's */
	char *exp[NEXP][NCOLS];   /* text output of each column, NULL for NULL */
	char *colnames[NCOLS];
	Oid coltypes[NCOLS];
	uint32_t relid;
	char *xid;                /* of the transaction of ROW3 */
	uint64_t consistent;      /* the slot's consistent point */
	struct gw_pgo_msg *msgs;  /* decoded so far, empty transactions dropped */
	size_t nmsgs;
	uint64_t wal_end;         /* the highest end of WAL the server reported */
	uint64_t flush;           /* what status updates confirm; 0 until the end */
	int replies;              /* keepalives answered */
};

static struct fx fx;

/* ---- helpers ------------------------------------------------------------ */

static void silent_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A connection to database db (NULL: the DSN's own), as a walsender when replication. */
static PGconn *connect_to(const char *db, bool replication)
{
	const char *keys[5] = {"dbname"}, *vals[5] = {dsn};
	int n = 1;
	PGconn *c;

	if (db)
		keys[n] = "dbname", vals[n++] = db;  /* a second dbname is a plain name */
	if (replication) {
		keys[n] = "replication", vals[n++] = "database";
		keys[n] = "options", vals[n++] = "-c wal_sender_timeout=" WAL_SENDER_TIMEOUT;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "itest_pgoutput: could not connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, silent_notice, NULL);
	return c;
}

/* Run sql with params into fx.res (replacing the last); fail on error. */
static PGresult *q(PGconn *c, const char *sql, int n, const char *const *params)
{
	ExecStatusType st;

	PQclear(fx.res);
	fx.res = n ? PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0) : PQexec(c, sql);
	st = PQresultStatus(fx.res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("query failed: %s  sql: %s", PQerrorMessage(c), sql);
	return fx.res;
}

/* The single value of a one-row query. */
static const char *q1(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = q(c, sql, n, params);

	assert_int_equal(PQntuples(r), 1);
	return PQgetvalue(r, 0, 0);
}

/*
 * Each column of row id as text, now. A text-format result holds what the
 * type's output function gives, as pgoutput sends it (col::text may differ:
 * a boolean's output is 't', true::text is 'true').
 */
static void capture(int slot, const char *id)
{
	PGresult *r = q(fx.sql, "SELECT * FROM t WHERE id = $1", 1, &id);

	assert_int_equal(PQntuples(r), 1);
	assert_int_equal(PQnfields(r), NCOLS);
	for (int i = 0; i < NCOLS; i++) {
		fx.exp[slot][i] = PQgetisnull(r, 0, i) ? NULL : gw_strdup(PQgetvalue(r, 0, i));
		if (!fx.colnames[i]) {
			fx.colnames[i] = gw_strdup(PQfname(r, i));
			fx.coltypes[i] = PQftype(r, i);
		}
	}
}

static int64_t now_pg_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec - PG_EPOCH) * 1000000 + ts.tv_nsec / 1000;
}

static void handle_frame(const unsigned char *p, size_t len)
{
	struct gw_pgo_frame f;
	struct gw_pgo_msg *m;
	struct gw_error e = GW_ERROR_INIT;
	unsigned char st[34];

	if (gw_pgo_frame_parse(p, len, &f, &e) != 0)
		fail_msg("%s", e.msg);
	if (f.wal_end > fx.wal_end)
		fx.wal_end = f.wal_end;
	if (f.type == 'k') {
		if (!f.reply_requested)
			return;
		assert_int_equal(gw_pgo_status(st, fx.wal_end, fx.flush, fx.flush, now_pg_us(), false),
				 sizeof(st));
		if (PQputCopyData(fx.repl, (const char *)st, sizeof(st)) != 1 || PQflush(fx.repl) != 0)
			fail_msg("could not send a status update: %s", PQerrorMessage(fx.repl));
		fx.replies++;
		return;
	}
	fx.msgs = gw_realloc(fx.msgs, (fx.nmsgs + 1) * sizeof(*fx.msgs));
	m = &fx.msgs[fx.nmsgs];
	if (gw_pgo_parse(f.data, f.len, m, &e) != 0)
		fail_msg("%s", e.msg);
	fx.nmsgs++;
	/* other databases' transactions decode to nothing (servers before 15 send them) */
	if (m->type == 'C' && fx.nmsgs >= 2 && m[-1].type == 'B') {
		gw_pgo_msg_release(m);
		gw_pgo_msg_release(m - 1);
		fx.nmsgs -= 2;
	}
}

/* Read and handle frames until done() holds; fail after seconds. */
static void pump(int seconds, bool (*done)(void))
{
	time_t deadline = time(NULL) + seconds;

	while (!done()) {
		struct pollfd pfd = {.fd = PQsocket(fx.repl), .events = POLLIN};
		char *buf = NULL;
		int n = PQgetCopyData(fx.repl, &buf, 1);

		if (n > 0) {
			handle_frame((const unsigned char *)buf, (size_t)n);
			PQfreemem(buf);
			continue;
		}
		if (n < 0)
			fail_msg("the replication stream ended: %s", PQerrorMessage(fx.repl));
		if (time(NULL) > deadline)
			fail_msg("timed out after %d s: %zu messages, %d replies", seconds, fx.nmsgs,
				 fx.replies);
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		if (!PQconsumeInput(fx.repl))
			fail_msg("replication connection: %s", PQerrorMessage(fx.repl));
	}
}

/* The last message is the non-transactional one emitted after everything. */
static bool got_all(void)
{
	const struct gw_pgo_msg *m = fx.nmsgs ? &fx.msgs[fx.nmsgs - 1] : NULL;

	return m && m->type == 'M' && !m->transactional;
}

/* The slot confirms fx.flush, after at least one requested reply. */
static bool confirmed(void)
{
	const char *cf;
	char text[24];
	uint64_t lsn;

	if (fx.replies == 0)
		return false;
	cf = q1(fx.sql,
		"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
		1, (const char *const[]){name});
	assert_int_equal(gw_pgo_lsn_parse(cf, &lsn), 0);
	if (lsn != fx.flush)
		return false;
	gw_pgo_lsn_format(lsn, text);
	assert_string_equal(text, cf);
	return true;
}

/* The next message that is not a relation message. */
static const struct gw_pgo_msg *next(size_t *i, char type)
{
	while (*i < fx.nmsgs && fx.msgs[*i].type == 'R')
		(*i)++;
	assert_true(*i < fx.nmsgs);
	assert_int_equal(fx.msgs[*i].type, type);
	return &fx.msgs[(*i)++];
}

/*
 * t against want (NCOLS texts, NULL for NULL); kinds NULL: 't' or 'n' as
 * want has it.
 */
static void tuple_is(const struct gw_pgo_tuple *t, char *const *want, const char *kinds)
{
	assert_int_equal(t->n, NCOLS);
	for (int i = 0; i < NCOLS; i++) {
		char k = kinds ? kinds[i] : want[i] ? 't' : 'n';

		if (t->kinds[i] != k)
			fail_msg("column %s: kind '%c', want '%c'", fx.colnames[i], t->kinds[i], k);
		if (k == 't' && strcmp(t->vals[i], want[i]) != 0)
			fail_msg("column %s: '%s', want '%s'", fx.colnames[i], t->vals[i], want[i]);
		if (k != 't')
			assert_null(t->vals[i]);
	}
}

/* The kinds of want with the TOASTed column unchanged. */
static const char *toast_unchanged(char *const *want, char out[NCOLS])
{
	for (int i = 0; i < NCOLS; i++)
		out[i] = want[i] ? 't' : 'n';
	out[LONG_COL] = 'u';
	return out;
}

/* The old key of row id: the key column, 'n' for the others. */
static void key_is(const struct gw_pgo_tuple *t, const char *id)
{
	char *want[NCOLS] = {(char *)id};

	tuple_is(t, want, NULL);
}

static void relation_is(const struct gw_pgo_msg *m)
{
	assert_int_equal(m->relid, fx.relid);
	assert_string_equal(m->nspname, "public");
	assert_string_equal(m->relname, "t");
	assert_int_equal(m->replident, 'd');
	assert_int_equal(m->ncols, NCOLS);
	for (int i = 0; i < NCOLS; i++) {
		assert_string_equal(m->colnames[i], fx.colnames[i]);
		assert_int_equal(m->coltypes[i], fx.coltypes[i]);
		assert_int_equal(m->key[i], i == 0);
	}
	assert_int_equal(m->typmods[0], -1);
	assert_int_equal(m->typmods[2], (12 << 16 | 3) + 4);  /* numeric(12,3) */
}

/* b and c frame one transaction, committed after start. */
static uint64_t txn_is(const struct gw_pgo_msg *b, const struct gw_pgo_msg *c, uint64_t start)
{
	int64_t skew = b->time - now_pg_us();

	assert_true(b->lsn > start);
	assert_true(c->lsn == b->lsn);
	assert_true(c->end_lsn > c->lsn);
	assert_true(c->time == b->time);
	assert_true(skew > -3600 * INT64_C(1000000) && skew < 60 * INT64_C(1000000));
	return c->end_lsn;
}

/* ---- tests -------------------------------------------------------------- */

static const char *const create_table =
	"CREATE TABLE t (id int PRIMARY KEY, big bigint, num numeric(12,3), txt text, "
	"bin bytea, ts timestamptz, d date, j jsonb, flag boolean, u uuid, arr int[], "
	"long text)";

static const char *const insert_row1 =
	"INSERT INTO t VALUES (1, -9223372036854775808, 123456789.125, "
	"'héllo wörld ✓ 日本 \"q\" \\ ''s' || chr(10) || chr(9) || chr(1) || 'ÿ', "
	"'\\x00ff10', '2024-02-29 13:01:02.123456+02', '2024-02-29', "
	"'{\"a\": [1, 2.50, {\"b\": null}], \"é\": \"ü\"}', true, "
	"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{1,2,NULL,4}', "
	"(SELECT string_agg(md5(i::text) || 'é', '') FROM generate_series(1, 300) i))";

/* The statements, then the stream: every message decoded as the server has the rows. */
static void test_stream(void **state)
{
	const char *expect = "BIC" "BIC" "BUC" "BUC" "BUC" "BDC" "BTC" "BIMC" "M";
	char sql[256], types[64], kinds[NCOLS];
	const struct gw_pgo_msg *b, *m;
	size_t nt = 0, i = 0, first_r = SIZE_MAX, first_i = SIZE_MAX;
	uint64_t end;

	(void)state;
	q(fx.sql, create_table, 0, NULL);
	/* no compression: the 10 kB value goes out of line */
	q(fx.sql, "ALTER TABLE t ALTER long SET STORAGE EXTERNAL", 0, NULL);
	q(fx.sql, "CREATE PUBLICATION " PUB " FOR TABLE t", 0, NULL);
	fx.relid = (uint32_t)strtoul(q1(fx.sql, "SELECT 't'::regclass::oid", 0, NULL), NULL, 10);

	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'nothing')",
		 name);
	q(fx.repl, sql, 0, NULL);
	assert_string_equal(PQgetvalue(fx.res, 0, 0), name);
	assert_int_equal(gw_pgo_lsn_parse(PQgetvalue(fx.res, 0, 1), &fx.consistent), 0);

	/* each statement its own transaction; the rows' text right after it */
	q(fx.sql, insert_row1, 0, NULL);
	capture(ROW1, "1");
	assert_true(strlen(fx.exp[ROW1][LONG_COL]) > 8192);
	q(fx.sql, "INSERT INTO t (id, txt) VALUES (2, '')", 0, NULL);
	capture(ROW2, "2");
	q(fx.sql, "UPDATE t SET txt = 'changed ✓', num = num + 1, flag = false WHERE id = 1", 0,
	  NULL);
	capture(UPD_TXT, "1");
	q(fx.sql, "UPDATE t SET id = 10 WHERE id = 1", 0, NULL);
	capture(UPD_KEY, "10");
	q(fx.sql, "UPDATE t SET long = long || 'tail ✓' WHERE id = 10", 0, NULL);
	capture(UPD_LONG, "10");
	q(fx.sql, "DELETE FROM t WHERE id = 2", 0, NULL);
	q(fx.sql, "TRUNCATE t", 0, NULL);
	q(fx.sql, "BEGIN", 0, NULL);
	q(fx.sql, "INSERT INTO t (id, arr, j) VALUES (3, '{}', '[]')", 0, NULL);
	fx.xid = gw_strdup(q1(fx.sql,
			      "SELECT pg_current_xact_id()::text, "
			      "pg_logical_emit_message(true, 'godwit', 'tx')",
			      0, NULL));
	q(fx.sql, "COMMIT", 0, NULL);
	capture(ROW3, "3");
	q(fx.sql, "SELECT pg_logical_emit_message(false, 'godwit', 'x')", 0, NULL);

	snprintf(sql, sizeof(sql),
		 "START_REPLICATION SLOT %s LOGICAL 0/0 (proto_version '1', "
		 "publication_names '" PUB "', messages 'true')",
		 name);
	PQclear(fx.res);
	fx.res = PQexec(fx.repl, sql);
	if (PQresultStatus(fx.res) != PGRES_COPY_BOTH)
		fail_msg("START_REPLICATION: %s", PQerrorMessage(fx.repl));
	pump(60, got_all);

	/* the sequence; relation messages come before a relation's first change */
	for (size_t j = 0; j < fx.nmsgs; j++) {
		m = &fx.msgs[j];
		if (m->type == 'R') {
			relation_is(m);
			first_r = first_r == SIZE_MAX ? j : first_r;
			continue;
		}
		if (m->type == 'I' && first_i == SIZE_MAX)
			first_i = j;
		assert_true(nt < sizeof(types) - 1);
		types[nt++] = m->type;
	}
	types[nt] = '\0';
	assert_string_equal(types, expect);
	assert_true(first_r < first_i);

	/* INSERT of every type */
	b = next(&i, 'B');
	m = next(&i, 'I');
	assert_int_equal(m->relid, fx.relid);
	assert_int_equal(m->old_kind, 0);
	assert_int_equal(m->old_row.n, 0);
	tuple_is(&m->new_row, fx.exp[ROW1], NULL);
	end = txn_is(b, next(&i, 'C'), fx.consistent);
	/* NULLs and an empty string */
	b = next(&i, 'B');
	m = next(&i, 'I');
	tuple_is(&m->new_row, fx.exp[ROW2], NULL);
	assert_string_equal(m->new_row.vals[3], "");
	end = txn_is(b, next(&i, 'C'), end);
	/* key unchanged: no old row, the TOASTed value unchanged */
	b = next(&i, 'B');
	m = next(&i, 'U');
	assert_int_equal(m->old_kind, 0);
	assert_int_equal(m->old_row.n, 0);
	tuple_is(&m->new_row, fx.exp[UPD_TXT], toast_unchanged(fx.exp[UPD_TXT], kinds));
	end = txn_is(b, next(&i, 'C'), end);
	/* key changed: the old key */
	b = next(&i, 'B');
	m = next(&i, 'U');
	assert_int_equal(m->old_kind, 'K');
	key_is(&m->old_row, "1");
	tuple_is(&m->new_row, fx.exp[UPD_KEY], toast_unchanged(fx.exp[UPD_KEY], kinds));
	end = txn_is(b, next(&i, 'C'), end);
	/* the TOASTed value changed: sent whole */
	b = next(&i, 'B');
	m = next(&i, 'U');
	assert_int_equal(m->old_kind, 0);
	tuple_is(&m->new_row, fx.exp[UPD_LONG], NULL);
	end = txn_is(b, next(&i, 'C'), end);
	b = next(&i, 'B');
	m = next(&i, 'D');
	assert_int_equal(m->relid, fx.relid);
	assert_int_equal(m->old_kind, 'K');
	key_is(&m->old_row, "2");
	assert_int_equal(m->new_row.n, 0);
	end = txn_is(b, next(&i, 'C'), end);
	b = next(&i, 'B');
	m = next(&i, 'T');
	assert_int_equal(m->nrelids, 1);
	assert_int_equal(m->relids[0], fx.relid);
	assert_int_equal(m->truncate_flags, 0);
	end = txn_is(b, next(&i, 'C'), end);
	/* a transaction with a transactional message */
	b = next(&i, 'B');
	assert_int_equal(b->xid, (uint32_t)strtoull(fx.xid, NULL, 10));
	m = next(&i, 'I');
	tuple_is(&m->new_row, fx.exp[ROW3], NULL);
	m = next(&i, 'M');
	assert_true(m->transactional);
	assert_string_equal(m->prefix, "godwit");
	assert_int_equal(m->content_len, 2);
	assert_string_equal(m->content, "tx");
	/* a message's LSN is the end of its WAL record: here the commit's start */
	assert_true(m->lsn > end && m->lsn <= b->lsn);
	end = txn_is(b, next(&i, 'C'), end);
	m = next(&i, 'M');
	assert_false(m->transactional);
	assert_string_equal(m->prefix, "godwit");
	assert_int_equal(m->content_len, 1);
	assert_string_equal(m->content, "x");
	assert_true(m->lsn >= end);
	assert_int_equal(i, fx.nmsgs);

	/* answer the keepalives until the slot confirms the last commit */
	fx.flush = end;
	pump(30, confirmed);
}

/* Our LSN text is the server's pg_lsn text, and we accept what it accepts. */
static void test_lsn_server(void **state)
{
	static const uint64_t values[] = {
		0, 1, 0xFFFFFFFFull, 0x100000000ull, 0x16B374D848ull, UINT64_MAX,
	};
	static const char *const good[] = {"0/0", "00000000/00000001", "abc/DEF", "FFFFFFFF/0"};
	static const char *const bad[] = {
		"", "0", "0/", "/0", "G/0", "123456789/0", "0/123456789", "0/0 ", " 0/0", "+1/0",
		"0x1/0", "1/2/3", "-1/0",
	};
	char text[24], num[24];
	uint64_t v;

	(void)state;
	for (size_t k = 0; k < GW_ARRAY_SIZE(values); k++) {
		const char *p[1] = {text};

		gw_pgo_lsn_format(values[k], text);
		q(admin, "SELECT $1::pg_lsn::text, ($1::pg_lsn - '0/0')::text", 1, p);
		assert_string_equal(PQgetvalue(fx.res, 0, 0), text);
		snprintf(num, sizeof(num), "%" PRIu64, values[k]);
		assert_string_equal(PQgetvalue(fx.res, 0, 1), num);
	}
	for (size_t k = 0; k < GW_ARRAY_SIZE(good); k++) {
		const char *p[1] = {good[k]};

		assert_int_equal(gw_pgo_lsn_parse(good[k], &v), 0);
		q(admin, "SELECT ($1::pg_lsn - '0/0')::text", 1, p);
		snprintf(num, sizeof(num), "%" PRIu64, v);
		assert_string_equal(PQgetvalue(fx.res, 0, 0), num);
	}
	for (size_t k = 0; k < GW_ARRAY_SIZE(bad); k++) {
		PGresult *r = PQexecParams(admin, "SELECT $1::pg_lsn", 1, NULL, &bad[k], NULL, NULL, 0);
		bool server_ok = PQresultStatus(r) == PGRES_TUPLES_OK;

		PQclear(r);
		if (server_ok || gw_pgo_lsn_parse(bad[k], &v) != -1)
			fail_msg("'%s': server %s it, we %s it", bad[k], server_ok ? "takes" : "rejects",
				 gw_pgo_lsn_parse(bad[k], &v) == 0 ? "take" : "reject");
	}
	PQclear(fx.res);
	fx.res = NULL;
}

/* ---- fixtures ----------------------------------------------------------- */

/* Whether the object PREFIX<pid> is this run's or its run has died. */
static bool ours_or_dead(const char *obj)
{
	long pid = strtol(obj + strlen(PREFIX), NULL, 10);

	return pid == (long)getpid() || (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

/* Drop the slot, waiting for its walsender to let go. */
static void drop_slot(const char *slot)
{
	for (int tries = 0; tries < 100; tries++) {
		PGresult *r = PQexecParams(admin, "SELECT pg_drop_replication_slot($1)", 1, NULL,
					   &slot, NULL, NULL, 0);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		bool busy = state && strcmp(state, "55006") == 0;  /* object_in_use */

		if (PQresultStatus(r) != PGRES_TUPLES_OK && !busy)
			fprintf(stderr, "itest_pgoutput: could not drop slot '%s': %s", slot,
				PQerrorMessage(admin));
		PQclear(r);
		if (!busy)
			return;
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	fprintf(stderr, "itest_pgoutput: slot '%s' stayed in use\n", slot);
}

/* Drop the slots and databases of this run and of dead runs: slots first. */
static void drop_leftovers(void)
{
	static const char *const list[] = {
		"SELECT slot_name FROM pg_replication_slots WHERE starts_with(slot_name, $1)",
		"SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
	};
	const char *prefix = PREFIX;

	for (size_t k = 0; k < GW_ARRAY_SIZE(list); k++) {
		PGresult *r = PQexecParams(admin, list[k], 1, NULL, &prefix, NULL, NULL, 0);

		for (int row = 0; row < PQntuples(r); row++) {
			const char *obj = PQgetvalue(r, row, 0);
			char *id, *sql;
			PGresult *d;

			if (!ours_or_dead(obj))
				continue;
			if (k == 0) {
				drop_slot(obj);
				continue;
			}
			id = PQescapeIdentifier(admin, obj, strlen(obj));
			sql = gw_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", id);
			d = PQexec(admin, sql);
			if (PQresultStatus(d) != PGRES_COMMAND_OK)
				fprintf(stderr, "itest_pgoutput: could not drop database %s: %s", id,
					PQerrorMessage(admin));
			PQclear(d);
			free(sql);
			PQfreemem(id);
		}
		PQclear(r);
	}
}

static int setup(void **state)
{
	char sql[128];
	PGresult *r;
	bool ok;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s ENCODING 'UTF8' TEMPLATE template0", name);
	r = PQexec(admin, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		fprintf(stderr, "itest_pgoutput: %s", PQerrorMessage(admin));
		return -1;
	}
	fx.sql = connect_to(name, false);
	fx.repl = connect_to(name, true);
	return fx.sql && fx.repl ? 0 : -1;
}

/* Close the walsender, then drop the slot, the publication and the database. */
static int teardown(void **state)
{
	(void)state;
	PQclear(fx.res);
	PQfinish(fx.repl);
	if (fx.sql) {
		PQclear(PQexec(fx.sql, "ROLLBACK"));
		PQclear(PQexec(fx.sql, "DROP PUBLICATION IF EXISTS " PUB));
		PQfinish(fx.sql);
	}
	drop_leftovers();
	for (size_t i = 0; i < fx.nmsgs; i++)
		gw_pgo_msg_release(&fx.msgs[i]);
	free(fx.msgs);
	for (int i = 0; i < NEXP; i++)
		for (int j = 0; j < NCOLS; j++)
			free(fx.exp[i][j]);
	for (int j = 0; j < NCOLS; j++)
		free(fx.colnames[j]);
	free(fx.xid);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* Whether an object named name is left in the catalog (a query listing names). */
static bool left(const char *sql)
{
	const char *p[1] = {name};
	PGresult *r = PQexecParams(admin, sql, 1, NULL, p, NULL, NULL, 0);
	bool found = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) > 0;

	PQclear(r);
	return found;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test(test_lsn_server),
	};
	int failed;

	if (argc != 2 || (strcmp(argv[1], "mysql") != 0 && strcmp(argv[1], "postgres") != 0)) {
		fprintf(stderr, "usage: %s mysql|postgres\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "mysql") == 0) {
		printf("skipped: pgoutput is PostgreSQL only\n");
		return 77;
	}
	dsn = getenv("GW_TEST_PG_DSN");
	if (!dsn || !dsn[0]) {
		printf("skipped: GW_TEST_PG_DSN not set\n");
		return 77;
	}
	admin = connect_to(NULL, false);
	if (!admin)
		return 1;
	snprintf(name, sizeof(name), PREFIX "%ld", (long)getpid());
	drop_leftovers();

	failed = cmocka_run_group_tests_name("postgres", tests, NULL, NULL);

	PQclear(fx.res);
	drop_leftovers();  /* when a failed setup skipped teardown */
	if (left("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1") ||
	    left("SELECT 1 FROM pg_database WHERE datname = $1")) {
		fprintf(stderr, "itest_pgoutput: slot or database '%s' left behind\n", name);
		failed = failed ? failed : 1;
	}
	PQfinish(admin);
	return failed;
}
