/*
 * gw_writer: a concurrent-write workload for the integration tests. "run"
 * writes one partition of a table's ids with single-row autocommit
 * statements while the schema changes under it, and records every row's
 * expected final state; "verify" checks the table against that record, so
 * a lost write shows up as a mismatch.
 *
 *   gw_writer run    --url URL --table T --column C --partition I/N --rows M
 *                    --state FILE [--seconds S] [--stop-file F] [--rate R]
 *                    [--seed X] [--pk-updates PCT]
 *   gw_writer verify --url URL --table T --column C --state FILE
 *
 * The table has a BIGINT primary key "id" (pre-existing rows 1..M) and a
 * column C that accepts a decimal string (DOUBLE, DECIMAL, CHAR, VARCHAR;
 * trailing blanks of CHAR are ignored). Writer I of N owns the
 * pre-existing ids with id % N == I and inserts fresh ids 1000000000 +
 * I * 10000000 + k. Values go as string parameters through godwit's driver
 * API only.
 *
 * The mix: updates of owned rows, inserts, updates of inserted rows,
 * deletes. With --pk-updates PCT, PCT percent of the statements instead
 * move a live owned row to a fresh id of the insert space, "UPDATE T SET
 * id = NEW WHERE id = OLD": OLD is then expected deleted and NEW to hold
 * the row's value. The writer reads that value first (its own partition,
 * so nobody else changes it) when the row is one it has not written yet.
 *
 * State file: one line per touched id, "id<TAB>value" or "id<TAB>-" for a
 * deleted row. Exit status: 0 clean, 1 statement errors (run) or mismatches
 * (verify), 2 bad usage, connection failure or bad state file. The URL is
 * never printed: it holds a password.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "workload.h"

#define PROG "gw_writer"
#define EXIT_DIRTY 1             /* statement errors or mismatches */
#define EXIT_TROUBLE 2           /* usage, connection, state file */
#define DEFAULT_SECONDS 10.0
#define INSERT_BASE 1000000000LL /* first id of partition 0's inserts */
#define INSERT_SPAN 10000000LL   /* ids per partition */
#define MAX_PARTS 10000
#define MAX_ERRORS_SHOWN 5
#define MAX_MISMATCHES_SHOWN 10
#define VERIFY_BATCH 500
#define TOLERANCE 0.005
#define PACE_SLICE_S 0.1         /* longest sleep between stop checks */
#define VALUE_MAX 32             /* bytes of a value text, NUL included */
#define ID_TEXT_MAX 24


struct opts {
	const char *url;
	const char *table;
	const char *column;
	const char *state;
	const char *stop_file;  /* NULL if none */
	int part;               /* I of --partition I/N */
	int nparts;             /* N */
	long long rows;         /* M, -1 until given */
	double seconds;         /* < 0: no time limit */
	double rate;            /* statements per second, 0 = unpaced */
	int pk_updates;         /* percent of statements that change a primary key */
	uint64_t seed;
	bool seconds_set;
	bool seed_set;
};

/* One owned id, pre-existing or inserted. */
struct row {
	bool touched;           /* written by this run: goes to the state file */
	bool deleted;           /* expected absent */
	size_t live_pos;        /* index in writer.live while live */
	size_t ins_pos;         /* index in writer.ins_live while live (inserted rows) */
	char value[VALUE_MAX];  /* expected value while touched and not deleted */
};

struct writer {
	struct gw_conn *conn;
	const struct opts *o;
	char *sql_update;           /* $1 value, $2 id */
	char *sql_insert;           /* $1 id, $2 value */
	char *sql_delete;           /* $1 id */
	char *sql_move;             /* $1 new id, $2 old id */
	char *sql_select;           /* $1 id; the column */
	long long first_pre;        /* smallest owned pre-existing id */
	struct row *pre;            /* owned pre-existing ids, first_pre + k * nparts */
	size_t npre;
	struct row *ins;            /* inserted ids, insert_base + k */
	size_t nins, cap_ins;
	long long insert_base;
	long long *live;            /* every live owned id */
	size_t nlive;
	long long *ins_live;        /* live inserted ids */
	size_t nins_live, cap_ins_live;
	uint64_t rng;
	long inserts, updates, deletes, moves, errors;
};

/* One line of a state file. */
struct expect {
	long long id;
	bool deleted;
	bool found;             /* seen in the table */
	double value;
	size_t line;
	char text[VALUE_MAX];
};

/* ---- small helpers ----------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: " PROG " run    --url URL --table T --column C --partition I/N --rows M\n"
	      "                        --state FILE [--seconds S] [--stop-file F] [--rate R]\n"
	      "                        [--seed X] [--pk-updates PCT]\n"
	      "       " PROG " verify --url URL --table T --column C --state FILE\n"
	      "\n"
	      "run stops after S seconds (default 10; no limit when only --stop-file is\n"
	      "given), when F exists, or on SIGINT/SIGTERM, whichever comes first.\n"
	      "--pk-updates PCT (0-100, default 0): that percent of the statements move a\n"
	      "row to a fresh id (UPDATE T SET id = NEW WHERE id = OLD).\n"
	      "Exit status: 0 clean, 1 statement errors or mismatches, 2 trouble.\n",
	      f);
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL); /* an early wake-up (signal) only shortens the pause */
}

static int parse_partition(const char *s, int *part, int *nparts)
{
	const char *slash = strchr(s, '/');
	char head[ID_TEXT_MAX];
	long long i, n;

	if (!slash || (size_t)(slash - s) >= sizeof(head))
		return -1;
	memcpy(head, s, (size_t)(slash - s));
	head[slash - s] = '\0';
	if (parse_ll(head, 0, MAX_PARTS - 1, &i) < 0 || parse_ll(slash + 1, 1, MAX_PARTS, &n) < 0 ||
	    i >= n)
		return -1;
	*part = (int)i;
	*nparts = (int)n;
	return 0;
}

/* ---- command line ------------------------------------------------------ */

enum opt_id {
	OPT_URL = 256,
	OPT_TABLE,
	OPT_COLUMN,
	OPT_STATE,
	OPT_PARTITION,
	OPT_ROWS,
	OPT_SECONDS,
	OPT_STOP_FILE,
	OPT_RATE,
	OPT_SEED,
	OPT_PK_UPDATES,
	OPT_HELP,
};

static const struct option run_options[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"table", required_argument, NULL, OPT_TABLE},
	{"column", required_argument, NULL, OPT_COLUMN},
	{"state", required_argument, NULL, OPT_STATE},
	{"partition", required_argument, NULL, OPT_PARTITION},
	{"rows", required_argument, NULL, OPT_ROWS},
	{"seconds", required_argument, NULL, OPT_SECONDS},
	{"stop-file", required_argument, NULL, OPT_STOP_FILE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"pk-updates", required_argument, NULL, OPT_PK_UPDATES},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* verify takes the first four of run's options, and --help. */
static const struct option verify_options[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"table", required_argument, NULL, OPT_TABLE},
	{"column", required_argument, NULL, OPT_COLUMN},
	{"state", required_argument, NULL, OPT_STATE},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int bad_value(const char *name, const char *value)
{
	fprintf(stderr, PROG ": invalid %s '%s'\n", name, value);
	return -1;
}

/* Apply one option; -1 after printing a message. */
static int set_opt(struct opts *o, int id, const char *arg)
{
	long long v;

	switch (id) {
	case OPT_URL:
		o->url = arg;
		break;
	case OPT_TABLE:
		o->table = arg;
		break;
	case OPT_COLUMN:
		o->column = arg;
		break;
	case OPT_STATE:
		o->state = arg;
		break;
	case OPT_STOP_FILE:
		o->stop_file = arg;
		break;
	case OPT_PARTITION:
		if (parse_partition(arg, &o->part, &o->nparts) < 0)
			return bad_value("--partition (want I/N with 0 <= I < N)", arg);
		break;
	case OPT_ROWS:
		if (parse_ll(arg, 0, INSERT_BASE - 1, &v) < 0)
			return bad_value("--rows", arg);
		o->rows = v;
		break;
	case OPT_SECONDS:
		if (parse_double(arg, &o->seconds) < 0 || o->seconds < 0)
			return bad_value("--seconds", arg);
		o->seconds_set = true;
		break;
	case OPT_RATE:
		if (parse_double(arg, &o->rate) < 0 || o->rate <= 0)
			return bad_value("--rate", arg);
		break;
	case OPT_SEED:
		if (parse_seed(arg, &o->seed) < 0)
			return bad_value("--seed", arg);
		o->seed_set = true;
		break;
	case OPT_PK_UPDATES:
		if (parse_ll(arg, 0, 100, &v) < 0)
			return bad_value("--pk-updates (want a percent, 0 to 100)", arg);
		o->pk_updates = (int)v;
		break;
	default:
		return -1;
	}
	return 0;
}

static int need(const char *value, const char *name)
{
	if (value)
		return 0;
	fprintf(stderr, PROG ": missing %s\n", name);
	return -1;
}

/* Fill o from argv (argv[0] is the command); 1 means --help was printed. */
static int parse_args(int argc, char **argv, bool run, struct opts *o)
{
	int id;

	memset(o, 0, sizeof(*o));
	o->rows = -1;
	o->nparts = 0;
	optind = 1;
	while ((id = getopt_long(argc, argv, "", run ? run_options : verify_options, NULL)) != -1) {
		if (id == OPT_HELP) {
			usage(stdout);
			return 1;
		}
		if (id == '?' || set_opt(o, id, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (need(o->url, "--url") < 0 || need(o->table, "--table") < 0 ||
	    need(o->column, "--column") < 0 || need(o->state, "--state") < 0)
		return -1;
	if (!run)
		return 0;
	if (o->nparts == 0)
		return need(NULL, "--partition");
	if (o->rows < 0)
		return need(NULL, "--rows");
	if (!o->seconds_set)
		o->seconds = o->stop_file ? -1 : DEFAULT_SECONDS;
	if (!o->seed_set)
		o->seed = (uint64_t)getpid() ^ (uint64_t)time(NULL);
	return 0;
}

/* New connection; on failure a message without the URL and -1. */
static int connect_db(const char *url, struct gw_conn **out)
{
	struct gw_error err = GW_ERROR_INIT;

	if (gw_connect(url, out, &err) == 0)
		return 0;
	fprintf(stderr, PROG ": could not connect: %s\n", err.msg);
	if (err.hint[0])
		fprintf(stderr, "hint: %s\n", err.hint);
	return -1;
}

/* ---- run --------------------------------------------------------------- */

static void build_sql(struct writer *w)
{
	const struct gw_dialect *d = gw_conn_dialect(w->conn);
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "UPDATE ");
	d->ident(&b, w->o->table);
	gw_buf_puts(&b, " SET ");
	d->ident(&b, w->o->column);
	gw_buf_puts(&b, " = $1 WHERE ");
	d->ident(&b, "id");
	gw_buf_puts(&b, " = $2");
	w->sql_update = gw_buf_detach(&b);

	gw_buf_puts(&b, "INSERT INTO ");
	d->ident(&b, w->o->table);
	gw_buf_puts(&b, " (");
	d->ident(&b, "id");
	gw_buf_puts(&b, ", ");
	d->ident(&b, w->o->column);
	gw_buf_puts(&b, ") VALUES ($1, $2)");
	w->sql_insert = gw_buf_detach(&b);

	gw_buf_puts(&b, "DELETE FROM ");
	d->ident(&b, w->o->table);
	gw_buf_puts(&b, " WHERE ");
	d->ident(&b, "id");
	gw_buf_puts(&b, " = $1");
	w->sql_delete = gw_buf_detach(&b);

	gw_buf_puts(&b, "UPDATE ");
	d->ident(&b, w->o->table);
	gw_buf_puts(&b, " SET ");
	d->ident(&b, "id");
	gw_buf_puts(&b, " = $1 WHERE ");
	d->ident(&b, "id");
	gw_buf_puts(&b, " = $2");
	w->sql_move = gw_buf_detach(&b);

	gw_buf_puts(&b, "SELECT ");
	d->ident(&b, w->o->column);
	gw_buf_puts(&b, " FROM ");
	d->ident(&b, w->o->table);
	gw_buf_puts(&b, " WHERE ");
	d->ident(&b, "id");
	gw_buf_puts(&b, " = $1");
	w->sql_select = gw_buf_detach(&b);
}

static void writer_init(struct writer *w, const struct opts *o)
{
	long long n = o->nparts;

	memset(w, 0, sizeof(*w));
	w->o = o;
	w->rng = o->seed;
	w->first_pre = o->part == 0 ? n : o->part;
	w->npre = w->first_pre > o->rows ? 0 : (size_t)((o->rows - w->first_pre) / n + 1);
	w->pre = gw_calloc(w->npre ? w->npre : 1, sizeof(*w->pre));
	w->insert_base = INSERT_BASE + o->part * INSERT_SPAN;
	/* a live id is pre-existing or inserted, so live never outgrows these two */
	w->live = gw_calloc(w->npre ? w->npre : 1, sizeof(*w->live));
	for (size_t k = 0; k < w->npre; k++) {
		w->live[k] = w->first_pre + (long long)k * n;
		w->pre[k].live_pos = k;
	}
	w->nlive = w->npre;
}

static void writer_release(struct writer *w)
{
	gw_conn_close(w->conn);
	free(w->sql_update);
	free(w->sql_insert);
	free(w->sql_delete);
	free(w->sql_move);
	free(w->sql_select);
	free(w->pre);
	free(w->ins);
	free(w->live);
	free(w->ins_live);
}

/* Borrowed row of an owned id. */
static struct row *row_of(struct writer *w, long long id)
{
	if (id >= w->insert_base) {
		gw_assert((size_t)(id - w->insert_base) < w->nins);
		return &w->ins[id - w->insert_base];
	}
	gw_assert(id >= w->first_pre && (id - w->first_pre) % w->o->nparts == 0);
	return &w->pre[(id - w->first_pre) / w->o->nparts];
}

/* Remove id from live (and ins_live) by swapping the last entry in. */
static void forget_live(struct writer *w, long long id)
{
	struct row *r = row_of(w, id);
	long long moved = w->live[--w->nlive];

	w->live[r->live_pos] = moved;
	row_of(w, moved)->live_pos = r->live_pos;
	if (id >= w->insert_base) {
		moved = w->ins_live[--w->nins_live];
		w->ins_live[r->ins_pos] = moved;
		row_of(w, moved)->ins_pos = r->ins_pos;
	}
}

static void random_value(struct writer *w, char *out, size_t n)
{
	long long cents = (long long)rng_below(&w->rng, 10000000);

	snprintf(out, n, "%lld.%02lld", cents / 100, cents % 100);
}

/*
 * Run one statement, its rows into *res when res is not NULL (caller frees
 * with gw_result_free()); on failure count it and show the first few. A
 * failed statement leaves the expected state alone: it did not apply, or
 * the run fails anyway.
 */
static int statement(struct writer *w, const char *sql, int nparams, const char *const *params,
		     struct gw_result **res)
{
	struct gw_error err = GW_ERROR_INIT;

	if (gw_conn_query(w->conn, sql, nparams, params, res, &err) == 0)
		return 0;
	if (++w->errors <= MAX_ERRORS_SHOWN)
		fprintf(stderr, "writer %d/%d: statement failed: %s (sqlstate %s)\n", w->o->part,
			w->o->nparts, err.msg, err.sqlstate[0] ? err.sqlstate : "none");
	return -1;
}

static void do_update(struct writer *w, long long id)
{
	char value[VALUE_MAX], idtext[ID_TEXT_MAX];
	const char *params[2] = {value, idtext};
	struct row *r;

	random_value(w, value, sizeof(value));
	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (statement(w, w->sql_update, 2, params, NULL) < 0)
		return;
	r = row_of(w, id);
	r->touched = true;
	memcpy(r->value, value, sizeof(value));
	w->updates++;
}

static void do_delete(struct writer *w, long long id)
{
	char idtext[ID_TEXT_MAX];
	const char *params[1] = {idtext};
	struct row *r;

	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (statement(w, w->sql_delete, 1, params, NULL) < 0)
		return;
	forget_live(w, id);
	r = row_of(w, id);
	r->touched = true;
	r->deleted = true;
	w->deletes++;
}

static void push_id(long long **a, size_t *n, size_t *cap, long long id)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*a = gw_realloc(*a, *cap * sizeof(**a));
	}
	(*a)[(*n)++] = id;
}

/*
 * Claim the next fresh id of the insert space, its row cleared. The id is
 * used up even when the statement that writes it fails: a failure after
 * commit (lost connection) must not lead to a duplicate key later. Moves
 * w->ins: row pointers taken before are stale.
 */
static long long claim_fresh(struct writer *w)
{
	if (w->nins == w->cap_ins) {
		w->cap_ins = w->cap_ins ? 2 * w->cap_ins : 256;
		w->ins = gw_realloc(w->ins, w->cap_ins * sizeof(*w->ins));
		/* live holds at most npre + nins ids */
		w->live = gw_realloc(w->live, (w->npre + w->cap_ins) * sizeof(*w->live));
	}
	memset(&w->ins[w->nins], 0, sizeof(w->ins[w->nins]));
	return w->insert_base + (long long)w->nins++;
}

/* Record a claimed fresh id as written with value and live. */
static void add_fresh(struct writer *w, long long id, const char *value)
{
	struct row *r = row_of(w, id);
	size_t len = strlen(value);

	gw_assert(len < sizeof(r->value));
	r->touched = true;
	memcpy(r->value, value, len + 1);
	r->live_pos = w->nlive;
	gw_assert(w->nlive < w->npre + w->cap_ins);
	w->live[w->nlive++] = id;
	r->ins_pos = w->nins_live;
	push_id(&w->ins_live, &w->nins_live, &w->cap_ins_live, id);
}

static void do_insert(struct writer *w)
{
	char value[VALUE_MAX], idtext[ID_TEXT_MAX];
	const char *params[2] = {idtext, value};
	long long id = claim_fresh(w);

	random_value(w, value, sizeof(value));
	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (statement(w, w->sql_insert, 2, params, NULL) < 0)
		return;
	add_fresh(w, id, value);
	w->inserts++;
}

/*
 * Read the value of an owned row into out[VALUE_MAX], trailing blanks
 * (CHAR padding) cut: 1 done, 0 when the state file cannot hold it (NULL,
 * too long, not a number), -1 on a failed statement or a missing row,
 * counted as errors: the writer owns the row, so a missing one was lost.
 */
static int read_value(struct writer *w, long long id, char *out)
{
	char idtext[ID_TEXT_MAX];
	const char *params[1] = {idtext};
	struct gw_result *res = NULL;
	const char *cell;
	size_t len;
	double v;
	int rc = -1;

	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (statement(w, w->sql_select, 1, params, &res) < 0)
		goto out;
	if (res->nrows != 1) {
		if (++w->errors <= MAX_ERRORS_SHOWN)
			fprintf(stderr, "writer %d/%d: id %lld: expected one row, found %d\n",
				w->o->part, w->o->nparts, id, res->nrows);
		goto out;
	}
	rc = 0;
	cell = gw_result_get(res, 0, 0);
	if (!cell)
		goto out;
	len = strlen(cell);
	while (len > 0 && cell[len - 1] == ' ')
		len--;
	if (len == 0 || len >= VALUE_MAX)
		goto out;
	memcpy(out, cell, len);
	out[len] = '\0';
	if (parse_double(out, &v) < 0)
		goto out;
	rc = 1;
out:
	gw_result_free(res);
	return rc;
}

/*
 * Move live row old to a fresh id with an UPDATE of the primary key. A row
 * this run has not written yet has its value read first; one whose value
 * the state file cannot hold gets a plain update instead.
 */
static void do_move(struct writer *w, long long old)
{
	char value[VALUE_MAX], newtext[ID_TEXT_MAX], oldtext[ID_TEXT_MAX];
	const char *params[2] = {newtext, oldtext};
	struct row *r = row_of(w, old);
	long long id;
	int got;

	if (r->touched) {
		memcpy(value, r->value, sizeof(value));
	} else if ((got = read_value(w, old, value)) <= 0) {
		if (got == 0)
			do_update(w, old);
		return;
	}
	id = claim_fresh(w);
	snprintf(newtext, sizeof(newtext), "%lld", id);
	snprintf(oldtext, sizeof(oldtext), "%lld", old);
	if (statement(w, w->sql_move, 2, params, NULL) < 0)
		return;
	forget_live(w, old);
	r = row_of(w, old); /* claim_fresh may have moved w->ins */
	r->touched = true;
	r->deleted = true;
	add_fresh(w, id, value);
	w->moves++;
}

enum kind {
	KIND_UPDATE,
	KIND_INSERT,
	KIND_UPDATE_INSERTED,
	KIND_DELETE,
	KIND_MOVE, /* primary-key update */
	KIND_NONE,
};

/* The statement kind for this iteration, after the fall-backs. */
static enum kind pick_kind(struct writer *w)
{
	uint64_t p = rng_below(&w->rng, 100);
	bool can_insert = (long long)w->nins < INSERT_SPAN;
	enum kind k;

	/* the second draw only with --pk-updates: without it a seed gives the same run as before */
	if (w->o->pk_updates > 0 && rng_below(&w->rng, 100) < (uint64_t)w->o->pk_updates)
		k = KIND_MOVE;
	else if (p < 40)
		k = KIND_UPDATE;
	else if (p < 70)
		k = KIND_INSERT;
	else if (p < 90)
		k = KIND_UPDATE_INSERTED;
	else
		k = KIND_DELETE;
	if (k == KIND_MOVE && (w->nlive == 0 || !can_insert))
		k = KIND_INSERT;
	if (k == KIND_UPDATE_INSERTED && w->nins_live == 0)
		k = KIND_UPDATE;
	if ((k == KIND_UPDATE || k == KIND_DELETE) && w->nlive == 0)
		k = KIND_INSERT;
	if (k == KIND_INSERT && !can_insert)
		k = w->nlive ? KIND_UPDATE : KIND_NONE;
	return k;
}

/* One iteration; false when nothing is left to do. */
static bool step(struct writer *w)
{
	switch (pick_kind(w)) {
	case KIND_UPDATE:
		do_update(w, w->live[rng_below(&w->rng, w->nlive)]);
		break;
	case KIND_UPDATE_INSERTED:
		do_update(w, w->ins_live[rng_below(&w->rng, w->nins_live)]);
		break;
	case KIND_DELETE:
		do_delete(w, w->live[rng_below(&w->rng, w->nlive)]);
		break;
	case KIND_INSERT:
		do_insert(w);
		break;
	case KIND_MOVE:
		do_move(w, w->live[rng_below(&w->rng, w->nlive)]);
		break;
	case KIND_NONE:
		return false;
	}
	return true;
}

static bool should_stop(const struct opts *o, double start)
{
	if (stop_signal)
		return true;
	if (o->seconds >= 0 && mono_s() - start >= o->seconds)
		return true;
	return file_exists(o->stop_file);
}

static void run_loop(struct writer *w)
{
	const struct opts *o = w->o;
	double start = mono_s();
	long long nstatements = 0;

	while (!should_stop(o, start)) {
		if (o->rate > 0) {
			double wait = start + (double)nstatements / o->rate - mono_s();

			if (wait > 0) {
				sleep_s(wait < PACE_SLICE_S ? wait : PACE_SLICE_S);
				continue;
			}
		}
		if (!step(w))
			break;
		nstatements++;
	}
}

static void write_row(FILE *f, long long id, const struct row *r)
{
	if (r->touched)
		fprintf(f, "%lld\t%s\n", id, r->deleted ? "-" : r->value);
}

/* Write the state file, ids ascending; -1 after printing a message. */
static int write_state(const struct writer *w)
{
	FILE *f = fopen(w->o->state, "w");
	int rc = -1;

	if (!f) {
		fprintf(stderr, PROG ": could not write state file '%s': %s\n", w->o->state,
			strerror(errno));
		return -1;
	}
	for (size_t k = 0; k < w->npre; k++)
		write_row(f, w->first_pre + (long long)k * w->o->nparts, &w->pre[k]);
	for (size_t k = 0; k < w->nins; k++)
		write_row(f, w->insert_base + (long long)k, &w->ins[k]);
	if (ferror(f)) {
		fprintf(stderr, PROG ": could not write state file '%s'\n", w->o->state);
		goto out;
	}
	rc = 0;
out:
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, PROG ": could not write state file '%s': %s\n", w->o->state,
			strerror(errno));
		rc = -1;
	}
	return rc;
}

static int cmd_run(const struct opts *o)
{
	struct writer w;
	int status = EXIT_TROUBLE;

	writer_init(&w, o);
	if (install_signals() < 0) {
		fprintf(stderr, PROG ": could not install signal handlers: %s\n", strerror(errno));
		goto out;
	}
	if (connect_db(o->url, &w.conn) < 0)
		goto out;
	build_sql(&w);
	run_loop(&w);
	if (write_state(&w) < 0)
		goto out;
	printf("writer %d/%d: inserts=%ld updates=%ld deletes=%ld pk_updates=%ld errors=%ld\n",
	       o->part, o->nparts, w.inserts, w.updates, w.deletes, w.moves, w.errors);
	status = w.errors ? EXIT_DIRTY : 0;
out:
	writer_release(&w);
	return status;
}

/* ---- verify ------------------------------------------------------------ */

static int bad_line(const char *path, size_t line, const char *why)
{
	fprintf(stderr, PROG ": state file '%s' line %zu: %s\n", path, line, why);
	return -1;
}

/* Parse "id<TAB>value" or "id<TAB>-" (newline stripped) into e. */
static int parse_line(char *s, struct expect *e)
{
	char *tab = strchr(s, '\t');
	const char *v;

	if (!tab)
		return -1;
	*tab = '\0';
	v = tab + 1;
	if (parse_ll(s, 1, INT64_MAX, &e->id) < 0 || !(*s >= '0' && *s <= '9'))
		return -1;
	if (strcmp(v, "-") == 0) {
		e->deleted = true;
		return 0;
	}
	if (strlen(v) >= sizeof(e->text) || parse_double(v, &e->value) < 0)
		return -1;
	memcpy(e->text, v, strlen(v) + 1);
	return 0;
}

static int cmp_expect(const void *a, const void *b)
{
	const struct expect *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Read and sort the state file into *out; -1 after printing a message. */
static int read_state(const char *path, struct expect **out, size_t *count)
{
	FILE *f = fopen(path, "r");
	struct expect *v = NULL;
	size_t n = 0, cap = 0, line = 0, bufcap = 0;
	char *buf = NULL;
	ssize_t len;
	int rc = -1;

	if (!f) {
		fprintf(stderr, PROG ": could not read state file '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	while ((len = getline(&buf, &bufcap, f)) != -1) {
		line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = gw_realloc(v, cap * sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].line = line;
		if (parse_line(buf, &v[n]) < 0) {
			bad_line(path, line, "malformed line (want 'id<TAB>value' or 'id<TAB>-')");
			goto out;
		}
		n++;
	}
	if (ferror(f)) {
		fprintf(stderr, PROG ": could not read state file '%s': %s\n", path,
			strerror(errno));
		goto out;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_expect);
	for (size_t i = 1; i < n; i++) {
		if (v[i].id == v[i - 1].id) {
			size_t later = v[i].line > v[i - 1].line ? v[i].line : v[i - 1].line;

			bad_line(path, later, "duplicate id");
			goto out;
		}
	}
	*out = v;
	*count = n;
	v = NULL;
	rc = 0;
out:
	free(buf);
	free(v);
	fclose(f);
	return rc;
}

struct verifier {
	struct gw_conn *conn;
	const struct opts *o;
	struct gw_buf sql;
	long mismatches;
};

static void mismatch(struct verifier *vf, const struct expect *e, const char *found)
{
	size_t len = strlen(found);

	while (len > 0 && found[len - 1] == ' ') /* CHAR padding */
		len--;
	if (++vf->mismatches <= MAX_MISMATCHES_SHOWN)
		printf("id %lld: expected %s, found %.*s\n", e->id,
		       e->deleted ? "deleted" : e->text, (int)len, found);
}

/* Compare one fetched row with its expectation. */
static void check_found(struct verifier *vf, struct expect *e, const char *cell)
{
	char *end;
	double got, diff;

	e->found = true;
	if (e->deleted) {
		mismatch(vf, e, cell ? cell : "NULL");
		return;
	}
	if (!cell) {
		mismatch(vf, e, "NULL");
		return;
	}
	errno = 0;
	got = strtod(cell, &end);
	while (*end == ' ') /* CHAR padding (PostgreSQL keeps it) */
		end++;
	diff = got > e->value ? got - e->value : e->value - got;
	if (end == cell || *end || errno || !(diff <= TOLERANCE))
		mismatch(vf, e, cell);
}

/* Check v[0..n) with one query; -1 after printing a message. */
static int check_batch(struct verifier *vf, struct expect *v, size_t n)
{
	const struct gw_dialect *d = gw_conn_dialect(vf->conn);
	char (*ids)[ID_TEXT_MAX] = gw_calloc(n, sizeof(*ids));
	const char **params = gw_calloc(n, sizeof(*params));
	struct gw_error err = GW_ERROR_INIT;
	struct gw_result *res = NULL;
	int rc = -1;

	gw_buf_reset(&vf->sql);
	gw_buf_puts(&vf->sql, "SELECT ");
	d->ident(&vf->sql, "id");
	gw_buf_puts(&vf->sql, ", ");
	d->ident(&vf->sql, vf->o->column);
	gw_buf_puts(&vf->sql, " FROM ");
	d->ident(&vf->sql, vf->o->table);
	gw_buf_puts(&vf->sql, " WHERE ");
	d->ident(&vf->sql, "id");
	gw_buf_puts(&vf->sql, " IN (");
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%lld", v[i].id);
		params[i] = ids[i];
		gw_buf_printf(&vf->sql, "%s$%zu", i ? "," : "", i + 1);
	}
	gw_buf_putc(&vf->sql, ')');
	if (gw_conn_query(vf->conn, vf->sql.data, (int)n, params, &res, &err) < 0) {
		fprintf(stderr, PROG ": verify query failed: %s (sqlstate %s)\n", err.msg,
			err.sqlstate[0] ? err.sqlstate : "none");
		goto out;
	}
	for (int row = 0; row < res->nrows; row++) {
		const char *idcell = gw_result_get(res, row, 0);
		struct expect key, *e;

		if (!idcell || parse_ll(idcell, INT64_MIN, INT64_MAX, &key.id) < 0)
			continue;
		e = bsearch(&key, v, n, sizeof(*v), cmp_expect);
		if (e && !e->found)
			check_found(vf, e, gw_result_get(res, row, 1));
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i].found && !v[i].deleted)
			mismatch(vf, &v[i], "no row");
	rc = 0;
out:
	gw_result_free(res);
	free(params);
	free(ids);
	return rc;
}

static int cmd_verify(const struct opts *o)
{
	struct verifier vf = {NULL, o, GW_BUF_INIT, 0};
	struct expect *v = NULL;
	size_t n = 0;
	int status = EXIT_TROUBLE;

	if (read_state(o->state, &v, &n) < 0)
		goto out;
	if (connect_db(o->url, &vf.conn) < 0)
		goto out;
	for (size_t i = 0; i < n; i += VERIFY_BATCH) {
		size_t len = n - i < VERIFY_BATCH ? n - i : VERIFY_BATCH;

		if (check_batch(&vf, v + i, len) < 0)
			goto out;
	}
	printf("verify: checked=%zu mismatches=%ld\n", n, vf.mismatches);
	status = vf.mismatches ? EXIT_DIRTY : 0;
out:
	gw_conn_close(vf.conn);
	gw_buf_release(&vf.sql);
	free(v);
	return status;
}

int main(int argc, char **argv)
{
	char run_name[] = PROG " run", verify_name[] = PROG " verify";
	struct opts o;
	bool run;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "verify") != 0)) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return EXIT_TROUBLE;
	}
	run = strcmp(argv[1], "run") == 0;
	argv[1] = run ? run_name : verify_name; /* getopt's messages name argv[0] */
	rc = parse_args(argc - 1, argv + 1, run, &o);
	if (rc != 0) {
		if (rc < 0)
			fputs("Try '" PROG " --help'.\n", stderr);
		return rc < 0 ? EXIT_TROUBLE : 0;
	}
	return run ? cmd_run(&o) : cmd_verify(&o);
}
