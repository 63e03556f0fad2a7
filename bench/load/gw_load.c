/*
 * gw_load: the bench's foreground load generator. "run" drives a table
 * with single-row autocommit statements at a fixed rate, open loop, and
 * writes one JSON line of latencies per second (or per --interval); "report"
 * cuts those lines
 * into named time windows.
 *
 *   gw_load run    --url URL --table T --profile sbtest|orders --rows N --out FILE
 *                  [--rate R] [--conns C] [--mix select=50,update=30,insert=10,delete=10]
 *                  [--seconds S] [--stop-file F] [--seed X] [--interval MS]
 *   gw_load report --in FILE [--window NAME=START,END]... [--series OUT.tsv [--t0 EPOCH]]
 *
 * run: C connections, one thread each. Statement n of connection i has the
 * intended start t0 + (n * C + i) / R, t0 the moment every connection is
 * open; a connection that is early sleeps until then, one that is late
 * starts at once, and latency runs from the intended start to the end of
 * the statement. A stall is therefore charged to every statement queued
 * behind it (no coordinated omission). A lost connection is reopened every
 * 100 ms until the stop; the statements due meanwhile queue behind it. The
 * run stops after S seconds, when F exists, or on SIGINT/SIGTERM; the
 * statements due 0.1 s before the stop that never started are counted as
 * due_not_started.
 *
 * Output: one line per second of intended start ("t" its start in epoch
 * seconds, "dt" its width: --interval MS makes slots of another width), in
 * time order, written as soon as every statement due in that slot has
 * finished (normally a fraction of a second after it ends; after a stall,
 * when the stall ends), then a summary line. The --series TSV gives n as
 * statements per second whatever the width. Latencies are histograms (hist.h) in microseconds,
 * shown in milliseconds. The URL is never printed: it holds a password.
 *
 * Exit status: run 0 when no statement failed, 1 when one did, 2 for bad
 * usage, a failed first connection or an unwritable output file; report 0,
 * or 2 for bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "hist.h"
#include "workload.h"

#define PROG "gw_load"
#define EXIT_FAILED 1                /* run: a statement failed */
#define EXIT_TROUBLE 2               /* usage, first connection, files */
#define DEFAULT_RATE 200.0
#define DEFAULT_CONNS 4
#define MAX_CONNS 1000
#define MAX_RATE 1e6
#define INSERT_BASE 4000000000LL     /* first fresh id of connection 0 */
#define INSERT_SPAN 100000000LL      /* fresh ids per connection */
#define POLL_S 0.05                  /* main loop: stop checks and output */
#define SLICE_S 0.1                  /* longest sleep of a worker between stop checks */
#define RECONNECT_S 0.1              /* pause between reconnection attempts */
#define DUE_SLACK_S 0.1              /* due this long before the stop, yet not started: a backlog */
#define STOP_GRACE_S 10.0            /* wait for statements in flight at the stop */
#define MAX_SAMPLES 5                /* error messages kept per kind */
#define ID_TEXT_MAX 24
#define C_LEN 120                    /* sbtest's c */
#define JSON_FLAGS (JSON_REAL_PRECISION(15))

enum op { OP_SELECT, OP_UPDATE, OP_INSERT, OP_DELETE, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"select", "update", "insert", "delete"};

enum err_kind {
	EK_DEADLOCK,
	EK_LOCK_TIMEOUT,
	EK_DUPLICATE,
	EK_UNDEFINED,
	EK_CONNECTION,
	EK_OTHER,
	EK_COUNT,
	EK_NONE = EK_COUNT, /* the statement succeeded */
};
static const char *const kind_names[EK_COUNT] = {
	"deadlock", "lock_timeout", "duplicate", "undefined", "connection", "other",
};

enum profile { PROFILE_SBTEST, PROFILE_ORDERS };
static const char *const profile_names[] = {"sbtest", "orders"};

static const char *const statuses[] = {"new", "paid", "shipped", "delivered", "cancelled",
				       "refunded"};


/* ---- small helpers ----------------------------------------------------- */

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until monotonic time t; an early wake-up (signal) only shortens it. */
static void sleep_until(double t)
{
	struct timespec ts;

	if (t <= 0)
		return;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int bad_value(const char *name, const char *value, const char *why)
{
	fprintf(stderr, PROG ": invalid %s '%s'%s%s\n", name, value, why ? ": " : "",
		why ? why : "");
	return -1;
}

static int need(const void *value, const char *name)
{
	if (value)
		return 0;
	fprintf(stderr, PROG ": missing %s\n", name);
	return -1;
}

/* Milliseconds of a microsecond count, as a JSON number. */
static json_t *json_ms(uint64_t us)
{
	return json_real((double)us / 1000.0);
}

/* ---- command line of run ----------------------------------------------- */

struct run_opts {
	const char *url;
	const char *table;
	const char *out;
	const char *stop_file;      /* NULL if none */
	const char *mix_text;       /* as given, for messages */
	int profile;                /* enum profile, -1 until given */
	long long rows;             /* N, -1 until given */
	double rate;                /* statements per second, all connections */
	int conns;
	int mix[OP_COUNT];          /* percent per operation, summing to 100 */
	double seconds;             /* <= 0: no time limit */
	long interval_ms;           /* width of an output line's slot */
	uint64_t seed;
};

enum opt_id {
	OPT_URL = 256,
	OPT_TABLE,
	OPT_PROFILE,
	OPT_ROWS,
	OPT_OUT,
	OPT_RATE,
	OPT_CONNS,
	OPT_MIX,
	OPT_SECONDS,
	OPT_STOP_FILE,
	OPT_SEED,
	OPT_INTERVAL,
	OPT_IN,
	OPT_WINDOW,
	OPT_SERIES,
	OPT_T0,
	OPT_HELP,
};

static const struct option run_options[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"table", required_argument, NULL, OPT_TABLE},
	{"profile", required_argument, NULL, OPT_PROFILE},
	{"rows", required_argument, NULL, OPT_ROWS},
	{"out", required_argument, NULL, OPT_OUT},
	{"rate", required_argument, NULL, OPT_RATE},
	{"conns", required_argument, NULL, OPT_CONNS},
	{"mix", required_argument, NULL, OPT_MIX},
	{"seconds", required_argument, NULL, OPT_SECONDS},
	{"stop-file", required_argument, NULL, OPT_STOP_FILE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const struct option report_options[] = {
	{"in", required_argument, NULL, OPT_IN},
	{"window", required_argument, NULL, OPT_WINDOW},
	{"series", required_argument, NULL, OPT_SERIES},
	{"t0", required_argument, NULL, OPT_T0},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fputs("usage: " PROG " run --url URL --table T --profile sbtest|orders --rows N --out FILE\n"
	      "                  [--rate R] [--conns C] [--mix select=50,update=30,insert=10,delete=10]\n"
	      "                  [--seconds S] [--stop-file F] [--seed X] [--interval MS]\n"
	      "       " PROG " report --in FILE [--window NAME=START,END]... [--series OUT.tsv [--t0 EPOCH]]\n"
	      "\n"
	      "run: C connections (default 4) run R statements/s in all (default 200) on a\n"
	      "fixed schedule (open loop: latency counts from the intended start), and\n"
	      "write one JSON line per second (or per --interval MS, 10 to 60000) to FILE,\n"
	      "then a summary line. It stops after\n"
	      "S seconds, when F exists, or on SIGINT/SIGTERM; with none of these it runs\n"
	      "until a signal. The mix gives percentages that sum to 100 (missing\n"
	      "operations: 0). The table holds ids 1..N before the run.\n"
	      "report: prints a JSON object with the latencies (ms) of each window (epoch\n"
	      "seconds; a line counts when its slot's midpoint is in [START, END)) and of\n"
	      "the whole run; --series writes a gnuplot TSV, one row per line.\n"
	      "Exit status: 0 clean, 1 a statement failed (run), 2 trouble.\n",
	      f);
}

/* Parse "select=50,update=30,..." into mix; -1 after printing a message. */
static int parse_mix(const char *text, int *mix)
{
	char *copy = gw_strdup(text), *save = NULL, *part;
	bool seen[OP_COUNT] = {false};
	int sum = 0, rc = -1;

	for (int k = 0; k < OP_COUNT; k++)
		mix[k] = 0;
	for (part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');
		long long v;
		int k;

		if (!eq) {
			bad_value("--mix", text, "want NAME=PERCENT, comma separated");
			goto out;
		}
		*eq = '\0';
		for (k = 0; k < OP_COUNT && strcmp(part, op_names[k]) != 0; k++)
			;
		if (k == OP_COUNT) {
			char *why = gw_asprintf("unknown operation '%s' (select, update, insert, delete)",
						part);

			bad_value("--mix", text, why);
			free(why);
			goto out;
		}
		if (seen[k]) {
			char *why = gw_asprintf("operation '%s' given twice", part);

			bad_value("--mix", text, why);
			free(why);
			goto out;
		}
		if (parse_ll(eq + 1, 0, 100, &v) < 0) {
			char *why = gw_asprintf("'%s' is not a percentage (0 to 100)", eq + 1);

			bad_value("--mix", text, why);
			free(why);
			goto out;
		}
		seen[k] = true;
		mix[k] = (int)v;
		sum += (int)v;
	}
	if (sum != 100) {
		char *why = gw_asprintf("percentages sum to %d, not 100", sum);

		bad_value("--mix", text, why);
		free(why);
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* Apply one option of run; -1 after printing a message. */
static int set_run_opt(struct run_opts *o, int id, const char *arg)
{
	long long v;

	switch (id) {
	case OPT_URL:
		o->url = arg;
		break;
	case OPT_TABLE:
		if (!*arg)
			return bad_value("--table", arg, "empty");
		o->table = arg;
		break;
	case OPT_OUT:
		o->out = arg;
		break;
	case OPT_STOP_FILE:
		o->stop_file = arg;
		break;
	case OPT_PROFILE:
		if (strcmp(arg, "sbtest") == 0)
			o->profile = PROFILE_SBTEST;
		else if (strcmp(arg, "orders") == 0)
			o->profile = PROFILE_ORDERS;
		else
			return bad_value("--profile", arg, "want sbtest or orders");
		break;
	case OPT_ROWS:
		if (parse_ll(arg, 1, INSERT_BASE - 1, &v) < 0)
			return bad_value("--rows", arg, "want a count from 1 below 4000000000");
		o->rows = v;
		break;
	case OPT_RATE:
		if (parse_double(arg, &o->rate) < 0 || o->rate <= 0 || o->rate > MAX_RATE)
			return bad_value("--rate", arg, "want statements per second above 0");
		break;
	case OPT_CONNS:
		if (parse_ll(arg, 1, MAX_CONNS, &v) < 0)
			return bad_value("--conns", arg, "want 1 to 1000");
		o->conns = (int)v;
		break;
	case OPT_MIX:
		o->mix_text = arg;
		return parse_mix(arg, o->mix);
	case OPT_SECONDS:
		if (parse_double(arg, &o->seconds) < 0 || o->seconds <= 0)
			return bad_value("--seconds", arg, "want a duration above 0");
		break;
	case OPT_SEED:
		if (parse_seed(arg, &o->seed) < 0)
			return bad_value("--seed", arg, "want an unsigned integer");
		break;
	case OPT_INTERVAL:
		if (parse_ll(arg, 10, 60000, &v) < 0)
			return bad_value("--interval", arg, "want 10 to 60000 milliseconds");
		o->interval_ms = (long)v;
		break;
	default:
		return -1;
	}
	return 0;
}

/* Fill o from argv (argv[0] is the command); 1 means --help was printed. */
static int parse_run_args(int argc, char **argv, struct run_opts *o)
{
	int id;

	memset(o, 0, sizeof(*o));
	o->profile = -1;
	o->rows = -1;
	o->rate = DEFAULT_RATE;
	o->conns = DEFAULT_CONNS;
	o->seed = 1;
	o->interval_ms = 1000;
	o->mix[OP_SELECT] = 50;
	o->mix[OP_UPDATE] = 30;
	o->mix[OP_INSERT] = 10;
	o->mix[OP_DELETE] = 10;
	optind = 1;
	while ((id = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
		if (id == OPT_HELP) {
			usage(stdout);
			return 1;
		}
		if (id == '?' || set_run_opt(o, id, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (need(o->url, "--url") < 0 || need(o->table, "--table") < 0 ||
	    need(o->out, "--out") < 0)
		return -1;
	if (o->profile < 0)
		return need(NULL, "--profile");
	if (o->rows < 0)
		return need(NULL, "--rows");
	return 0;
}

/* ---- run: shared state ------------------------------------------------- */

/* The statements of one second of intended start. */
struct slot {
	uint64_t n;
	uint64_t ops[OP_COUNT];
	uint64_t errors[EK_COUNT];
	struct gw_hist all;      /* every statement */
	struct gw_hist writes;   /* update, insert, delete */
};

struct sample {
	int kind;                /* enum err_kind */
	int op;                  /* enum op */
	char msg[256];
};

struct worker;

/* What the workers and the main thread share; fields below lock are guarded by it. */
struct shared {
	const struct run_opts *o;
	const struct gw_driver *drv;
	char *sql_select;
	char *sql_update[2];
	char *sql_insert;
	char *sql_delete;
	double t0;               /* monotonic start of the schedule */
	double t0_wall;          /* the same moment in epoch seconds */
	atomic_int stop;         /* workers start no statement once set */
	struct worker *workers;  /* o->conns */

	pthread_mutex_t lock;
	double stop_at;          /* monotonic moment of the stop, once stop is set */
	struct slot **slots;     /* slots[k]: second base + k, NULL while empty */
	size_t nslots, cap_slots;
	long long base;          /* epoch second of slots[0] */
	bool closed;             /* output final: a late record is dropped */
	int nrunning;            /* workers not yet finished */
	struct gw_hist total;
	uint64_t ops[OP_COUNT];
	uint64_t errors[EK_COUNT];
	uint64_t failed;
	long long reconnects;
	struct sample samples[EK_COUNT * MAX_SAMPLES];
	size_t nsamples;
	int nsamples_kind[EK_COUNT];
};

/* One connection's thread. Fields below the mark are guarded by shared.lock. */
struct worker {
	struct shared *sh;
	int i;                   /* connection index, 0 .. conns - 1 */
	struct gw_conn *conn;    /* NULL while lost */
	pthread_t thread;
	bool thread_started;
	uint64_t rng;
	long long next;          /* number of the next statement to start */
	long long next_insert;   /* j of the next fresh id */
	long long next_pre;      /* next pre-existing id to delete, counting down */
	long long *fifo;         /* fresh ids inserted and not deleted, oldest first */
	size_t fifo_head, fifo_len, fifo_cap;
	bool update_alt;         /* which of the two updates comes next */
	char text[C_LEN + 1];
	/* guarded by shared.lock */
	long long started;       /* statements started */
	double watermark;        /* intended start of the oldest statement not recorded */
	bool running;
};

static double intended(const struct shared *sh, int i, long long n)
{
	return sh->t0 + ((double)n * sh->o->conns + i) / sh->o->rate;
}

/* The number of the slot (epoch time / interval) holding monotonic moment mono. */
static long long epoch_slot(const struct shared *sh, double mono)
{
	double w = (sh->t0_wall + (mono - sh->t0)) * 1000.0 / (double)sh->o->interval_ms;

	return (long long)w; /* epoch time is positive: truncation is floor */
}

/* ---- run: statements --------------------------------------------------- */

/* The SQL of the profile, table quoted for the engine. */
static void build_sql(struct shared *sh, const struct gw_conn *c)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	struct gw_buf b = GW_BUF_INIT;
	char *t;

	d->ident(&b, sh->o->table);
	t = gw_buf_detach(&b);
	sh->sql_delete = gw_asprintf("DELETE FROM %s WHERE id = $1", t);
	if (sh->o->profile == PROFILE_SBTEST) {
		sh->sql_select = gw_asprintf("SELECT c FROM %s WHERE id = $1", t);
		sh->sql_update[0] = gw_asprintf("UPDATE %s SET k = k + 1 WHERE id = $1", t);
		sh->sql_update[1] = gw_asprintf("UPDATE %s SET c = $1 WHERE id = $2", t);
		sh->sql_insert = gw_asprintf("INSERT INTO %s (id, k, c) VALUES ($1, $2, $3)", t);
	} else {
		sh->sql_select = gw_asprintf("SELECT status, amount, email FROM %s WHERE id = $1", t);
		sh->sql_update[0] = gw_asprintf("UPDATE %s SET status = $1, updated_at = "
						"CURRENT_TIMESTAMP WHERE id = $2", t);
		sh->sql_update[1] = gw_asprintf("UPDATE %s SET amount = amount + 1 WHERE id = $1", t);
		/*
		 * No casts on PostgreSQL: it types the untyped parameters of
		 * INSERT ... VALUES from the target columns (numeric, jsonb),
		 * and so keeps working when a migration changes those types.
		 */
		sh->sql_insert = gw_asprintf("INSERT INTO %s (id, customer_id, status, amount, email, "
					     "attrs) VALUES ($1, $2, 'new', $3, $4, $5)", t);
	}
	free(t);
}

static void random_text(uint64_t *rng, char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t k = 0; k < len; k++)
		out[k] = alphabet[rng_below(rng, sizeof(alphabet) - 1)];
	out[len] = '\0';
}

static void fifo_push(struct worker *w, long long id)
{
	if (w->fifo_len == w->fifo_cap) {
		size_t cap = w->fifo_cap ? 2 * w->fifo_cap : 256;
		long long *v = gw_malloc(cap * sizeof(*v));

		/* unroll the ring into the new array */
		for (size_t k = 0; k < w->fifo_len; k++)
			v[k] = w->fifo[(w->fifo_head + k) % w->fifo_cap];
		free(w->fifo);
		w->fifo = v;
		w->fifo_cap = cap;
		w->fifo_head = 0;
	}
	w->fifo[(w->fifo_head + w->fifo_len) % w->fifo_cap] = id;
	w->fifo_len++;
}

static long long fifo_pop(struct worker *w)
{
	long long id = w->fifo[w->fifo_head];

	w->fifo_head = (w->fifo_head + 1) % w->fifo_cap;
	w->fifo_len--;
	return id;
}

/* One statement ready to run: its SQL and text parameters. */
struct stmt {
	int op;                  /* enum op */
	const char *sql;
	int nparams;
	const char *params[5];
	bool rows;               /* a SELECT: fetch the result */
	long long insert_id;     /* the fresh id of an insert, else -1 */
	char id[ID_TEXT_MAX];
	char num[ID_TEXT_MAX];
	char amount[ID_TEXT_MAX];
	char email[64];
	char attrs[64];
};

/* The operation of the next statement, by the mix. */
static int pick_op(struct worker *w)
{
	const int *mix = w->sh->o->mix;
	int p = (int)rng_below(&w->rng, 100), k;

	for (k = 0; k < OP_COUNT - 1; k++) {
		if (p < mix[k])
			break;
		p -= mix[k];
	}
	/* the fresh-id space of a connection lasts 100 million inserts; then update */
	if (k == OP_INSERT && w->next_insert >= INSERT_SPAN)
		k = OP_UPDATE;
	return k;
}

/*
 * The id a delete removes: the oldest fresh id this connection inserted,
 * else its next pre-existing id counting down from the top (N - i, N - i -
 * C, ...). Once those run out the ids go to 0 and below: nothing, deleted.
 */
static long long delete_id(struct worker *w)
{
	long long id;

	if (w->fifo_len > 0)
		return fifo_pop(w);
	id = w->next_pre;
	w->next_pre -= w->sh->o->conns;
	return id;
}

static void prepare(struct worker *w, struct stmt *s)
{
	const struct shared *sh = w->sh;
	long long rows = sh->o->rows;
	bool orders = sh->o->profile == PROFILE_ORDERS;

	memset(s, 0, sizeof(*s));
	s->insert_id = -1;
	s->op = pick_op(w);
	switch (s->op) {
	case OP_SELECT:
		snprintf(s->id, sizeof(s->id), "%lld", 1 + (long long)rng_below(&w->rng, (uint64_t)rows));
		s->sql = sh->sql_select;
		s->params[0] = s->id;
		s->nparams = 1;
		s->rows = true;
		break;
	case OP_UPDATE:
		snprintf(s->id, sizeof(s->id), "%lld", 1 + (long long)rng_below(&w->rng, (uint64_t)rows));
		w->update_alt = !w->update_alt;
		s->sql = sh->sql_update[w->update_alt ? 0 : 1];
		if (orders == w->update_alt) {
			/* a value then the id: sbtest's c, orders' status */
			if (orders) {
				s->params[0] = statuses[rng_below(&w->rng, GW_ARRAY_SIZE(statuses))];
			} else {
				random_text(&w->rng, w->text, C_LEN);
				s->params[0] = w->text;
			}
			s->params[1] = s->id;
			s->nparams = 2;
		} else {
			s->params[0] = s->id;
			s->nparams = 1;
		}
		break;
	case OP_INSERT:
		s->insert_id = INSERT_BASE + (long long)w->i * INSERT_SPAN + w->next_insert++;
		snprintf(s->id, sizeof(s->id), "%lld", s->insert_id);
		s->sql = sh->sql_insert;
		s->params[0] = s->id;
		if (orders) {
			long long customers = rows / 20 > 1 ? rows / 20 : 1;
			long long cents = (long long)rng_below(&w->rng, 10000000);

			snprintf(s->num, sizeof(s->num), "%lld",
				 1 + (long long)rng_below(&w->rng, (uint64_t)customers));
			snprintf(s->amount, sizeof(s->amount), "%lld.%02lld", cents / 100, cents % 100);
			snprintf(s->email, sizeof(s->email), "u%lld@example.com", s->insert_id);
			snprintf(s->attrs, sizeof(s->attrs), "{\"source\": \"bench\", \"items\": %d}",
				 1 + (int)rng_below(&w->rng, 9));
			s->params[1] = s->num;
			s->params[2] = s->amount;
			s->params[3] = s->email;
			s->params[4] = s->attrs;
			s->nparams = 5;
		} else {
			snprintf(s->num, sizeof(s->num), "%lld",
				 (long long)rng_below(&w->rng, (uint64_t)rows + 1));
			random_text(&w->rng, w->text, C_LEN);
			s->params[1] = s->num;
			s->params[2] = w->text;
			s->nparams = 3;
		}
		break;
	default:
		snprintf(s->id, sizeof(s->id), "%lld", delete_id(w));
		s->sql = sh->sql_delete;
		s->params[0] = s->id;
		s->nparams = 1;
		break;
	}
}

/*
 * The kind of a failure. A lost connection shows as GW_ERR_CONNECT, as a
 * SQLSTATE of class 08 or a client errno (2006, 2013, 2055, MariaDB's 1927
 * "connection was killed"), or, on PostgreSQL, as a retryable error
 * without any SQLSTATE (libpq found the connection bad) or one of the
 * shutdown states 57P01..57P03 (the server ended the session).
 */
static int classify(const struct gw_error *e)
{
	bool lost = strncmp(e->sqlstate, "08", 2) == 0 || e->db_errno == 2006 ||
		    e->db_errno == 2013 || e->db_errno == 2055 || e->db_errno == 1927;

	switch (e->code) {
	case GW_ERR_CONNECT:
		return EK_CONNECTION;
	case GW_ERR_DB_LOCK_TIMEOUT:
		return EK_LOCK_TIMEOUT;
	case GW_ERR_DB_DUPLICATE:
		return EK_DUPLICATE;
	case GW_ERR_DB_UNDEFINED:
		return EK_UNDEFINED;
	case GW_ERR_DB_RETRY:
		if (lost)
			return EK_CONNECTION;
		if (strcmp(e->sqlstate, "40001") == 0 || strcmp(e->sqlstate, "40P01") == 0 ||
		    e->db_errno == 1213)
			return EK_DEADLOCK;
		if (strncmp(e->sqlstate, "57P0", 4) == 0 || e->db_errno == 1053 ||
		    (!e->sqlstate[0] && e->db_errno == 0))
			return EK_CONNECTION;
		return EK_OTHER;
	case GW_ERR_DB:
		return lost ? EK_CONNECTION : EK_OTHER;
	default:
		return EK_OTHER;
	}
}

/* The slot of epoch second s, created when missing. Under sh->lock. */
static struct slot *slot_at(struct shared *sh, long long s)
{
	size_t k;

	gw_assert(s >= sh->base); /* its second is not written before it is recorded */
	k = (size_t)(s - sh->base);
	if (k >= sh->cap_slots) {
		size_t cap = sh->cap_slots ? sh->cap_slots : 16;

		while (cap <= k)
			cap *= 2;
		sh->slots = gw_realloc(sh->slots, cap * sizeof(*sh->slots));
		sh->cap_slots = cap;
	}
	while (sh->nslots <= k)
		sh->slots[sh->nslots++] = NULL;
	if (!sh->slots[k])
		sh->slots[k] = gw_calloc(1, sizeof(struct slot));
	return sh->slots[k];
}

/* Account statement w->started - 1, intended at due, ended at end. */
static void record(struct worker *w, const struct stmt *s, double due, double end, int kind,
		   const char *msg)
{
	struct shared *sh = w->sh;
	double lat = end > due ? (end - due) * 1e6 + 0.5 : 0;
	uint64_t us = (uint64_t)lat;
	bool write = s->op != OP_SELECT;

	pthread_mutex_lock(&sh->lock);
	if (!sh->closed) {
		struct slot *sl = slot_at(sh, epoch_slot(sh, due));

		sl->n++;
		sl->ops[s->op]++;
		gw_hist_add(&sl->all, us);
		if (write)
			gw_hist_add(&sl->writes, us);
		sh->ops[s->op]++;
		gw_hist_add(&sh->total, us);
		if (kind != EK_NONE) {
			sl->errors[kind]++;
			sh->errors[kind]++;
			sh->failed++;
			if (sh->nsamples_kind[kind] < MAX_SAMPLES) {
				struct sample *sa = &sh->samples[sh->nsamples++];

				sh->nsamples_kind[kind]++;
				sa->kind = kind;
				sa->op = s->op;
				snprintf(sa->msg, sizeof(sa->msg), "%s", msg);
				fprintf(stderr, PROG ": connection %d: %s failed (%s): %s\n", w->i,
					op_names[s->op], kind_names[kind], msg);
			}
		}
	}
	w->watermark = intended(sh, w->i, w->next);
	pthread_mutex_unlock(&sh->lock);
}

/* Run the statement w->next, intended at due. */
static void run_one(struct worker *w, double due)
{
	struct gw_error err = GW_ERROR_INIT;
	struct gw_result *res = NULL;
	struct stmt s;
	int rc, kind = EK_NONE;
	double end;

	prepare(w, &s);
	pthread_mutex_lock(&w->sh->lock);
	w->started++;
	pthread_mutex_unlock(&w->sh->lock);
	rc = gw_conn_query(w->conn, s.sql, s.nparams, s.params, s.rows ? &res : NULL, &err);
	end = mono_s();
	gw_result_free(res);
	w->next++;
	if (rc < 0)
		kind = classify(&err);
	/*
	 * The delete FIFO holds rows that are there: a fresh id whose insert
	 * surely failed is left out, one lost with the connection may have
	 * committed and goes in.
	 */
	if (s.insert_id >= 0 && (kind == EK_NONE || kind == EK_CONNECTION))
		fifo_push(w, s.insert_id);
	record(w, &s, due, end, kind, err.msg);
	if (kind == EK_CONNECTION) {
		gw_conn_close(w->conn);
		w->conn = NULL;
	}
}

/* Sleep until monotonic time due; false if the stop came first. */
static bool wait_due(struct worker *w, double due)
{
	for (;;) {
		double now = mono_s();

		if (atomic_load(&w->sh->stop))
			return false;
		if (now >= due)
			return true;
		sleep_until(due - now < SLICE_S ? due : now + SLICE_S);
	}
}

/* Open w->conn again, every RECONNECT_S until it works; false at the stop. */
static bool reconnect(struct worker *w)
{
	bool told = false;

	for (;;) {
		struct gw_error err = GW_ERROR_INIT;

		if (atomic_load(&w->sh->stop))
			return false;
		if (gw_connect(w->sh->o->url, &w->conn, &err) == 0) {
			pthread_mutex_lock(&w->sh->lock);
			w->sh->reconnects++;
			pthread_mutex_unlock(&w->sh->lock);
			if (told)
				fprintf(stderr, PROG ": connection %d: reconnected\n", w->i);
			return true;
		}
		w->conn = NULL;
		if (!told)
			fprintf(stderr, PROG ": connection %d: could not reconnect, retrying: %s\n",
				w->i, err.msg);
		told = true;
		if (!wait_due(w, mono_s() + RECONNECT_S))
			return false;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	const struct run_opts *o = sh->o;
	double deadline = o->seconds > 0 ? sh->t0 + o->seconds : INFINITY;

	for (;;) {
		double due = intended(sh, w->i, w->next);

		if (due >= deadline || !wait_due(w, due))
			break;
		if (!w->conn && !reconnect(w))
			break;
		run_one(w, due);
	}
	pthread_mutex_lock(&sh->lock);
	w->watermark = INFINITY;
	w->running = false;
	sh->nrunning--;
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

/* ---- run: output ------------------------------------------------------- */

/* Operation counts as a new JSON object, every operation present. */
static json_t *ops_json(const uint64_t *ops)
{
	json_t *o = json_object();

	for (int k = 0; k < OP_COUNT; k++)
		json_object_set_new(o, op_names[k], json_integer((json_int_t)ops[k]));
	return o;
}

/* Error counts as a new JSON object, non-zero kinds only. */
static json_t *errors_json(const uint64_t *errors)
{
	json_t *o = json_object();

	for (int k = 0; k < EK_COUNT; k++)
		if (errors[k])
			json_object_set_new(o, kind_names[k], json_integer((json_int_t)errors[k]));
	return o;
}

/* Write j as one line of f and flush it; -1 on a write error. Steals j. */
static int put_line(FILE *f, json_t *j)
{
	char *text = json_dumps(j, JSON_FLAGS);
	int rc = 0;

	json_decref(j);
	if (!text)
		GW_BUG("json_dumps failed");
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF || fflush(f) != 0)
		rc = -1;
	free(text);
	return rc;
}

/* The line of slot k (epoch seconds k * interval to (k + 1) * interval). */
static int write_slot(FILE *f, long interval_ms, long long k, const struct slot *sl)
{
	json_t *j = json_object();

	json_object_set_new(j, "t", json_real((double)k * (double)interval_ms / 1000.0));
	json_object_set_new(j, "dt", json_real((double)interval_ms / 1000.0));
	json_object_set_new(j, "n", json_integer((json_int_t)sl->n));
	json_object_set_new(j, "ops", ops_json(sl->ops));
	json_object_set_new(j, "errors", errors_json(sl->errors));
	json_object_set_new(j, "p50", json_ms(gw_hist_quantile(&sl->all, 0.50)));
	json_object_set_new(j, "p95", json_ms(gw_hist_quantile(&sl->all, 0.95)));
	json_object_set_new(j, "p99", json_ms(gw_hist_quantile(&sl->all, 0.99)));
	json_object_set_new(j, "max", json_ms(sl->all.max_us));
	json_object_set_new(j, "wmax", sl->writes.n ? json_ms(sl->writes.max_us) : json_null());
	json_object_set_new(j, "h", gw_hist_to_json(&sl->all));
	json_object_set_new(j, "hw", gw_hist_to_json(&sl->writes));
	return put_line(f, j);
}

/*
 * Write the lines of every second whose statements are all recorded: those
 * before the earliest intended start not recorded yet of any worker (every
 * second when all is set). The slots leave the shared array under the lock
 * and are written after it, so the workers never wait for the disk.
 * -1 on a write error.
 */
static int flush_seconds(struct shared *sh, FILE *f, bool all)
{
	struct slot **done = NULL;
	long long first, limit = 0;
	size_t count = 0;
	int rc = 0;

	pthread_mutex_lock(&sh->lock);
	if (!all) {
		double wm = INFINITY;

		for (int i = 0; i < sh->o->conns; i++)
			if (sh->workers[i].watermark < wm)
				wm = sh->workers[i].watermark;
		if (!isinf(wm))
			limit = epoch_slot(sh, wm);
		else
			all = true;
	}
	first = sh->base;
	if (all)
		count = sh->nslots;
	else if (limit > sh->base)
		count = (size_t)(limit - sh->base) < sh->nslots ? (size_t)(limit - sh->base)
								: sh->nslots;
	if (count) {
		done = gw_malloc(count * sizeof(*done));
		memcpy(done, sh->slots, count * sizeof(*done));
		memmove(sh->slots, sh->slots + count, (sh->nslots - count) * sizeof(*done));
		sh->nslots -= count;
		sh->base += (long long)count;
	}
	/* seconds nobody recorded anything in are complete too */
	if (!all && sh->nslots == 0 && limit > sh->base)
		sh->base = limit;
	pthread_mutex_unlock(&sh->lock);
	for (size_t k = 0; k < count; k++) {
		if (done[k] && done[k]->n && rc == 0 && write_slot(f, sh->o->interval_ms, first + (long long)k, done[k]) < 0)
			rc = -1;
		free(done[k]);
	}
	free(done);
	return rc;
}

/* Statements of worker i due by T (monotonic) that never started. */
static long long due_not_started(const struct shared *sh, const struct worker *w, double T)
{
	double x = (T - sh->t0) * sh->o->rate - w->i;
	long long due;

	if (x < 0)
		return 0;
	due = (long long)(x / sh->o->conns) + 1;
	return due > w->started ? due - w->started : 0;
}

static json_t *samples_json(const struct shared *sh)
{
	json_t *a = json_array();

	for (size_t k = 0; k < sh->nsamples; k++) {
		const struct sample *s = &sh->samples[k];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "kind", kind_names[s->kind],
						   "op", op_names[s->op], "msg", s->msg));
	}
	return a;
}

static int write_summary(FILE *f, const struct shared *sh, long long dns, int unfinished)
{
	const struct run_opts *o = sh->o;
	json_t *j = json_object(), *mix = json_object();

	for (int k = 0; k < OP_COUNT; k++)
		json_object_set_new(mix, op_names[k], json_integer(o->mix[k]));
	json_object_set_new(j, "summary", json_true());
	json_object_set_new(j, "t0", json_real(sh->t0_wall));
	json_object_set_new(j, "stopped", json_real(sh->t0_wall + (sh->stop_at - sh->t0)));
	json_object_set_new(j, "rate", json_real(o->rate));
	json_object_set_new(j, "conns", json_integer(o->conns));
	json_object_set_new(j, "profile", json_string(profile_names[o->profile]));
	json_object_set_new(j, "engine", json_string(sh->drv->name));
	json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(j, "interval", json_real((double)o->interval_ms / 1000.0));
	json_object_set_new(j, "mix", mix);
	json_object_set_new(j, "n", json_integer((json_int_t)sh->total.n));
	json_object_set_new(j, "ops", ops_json(sh->ops));
	json_object_set_new(j, "errors", errors_json(sh->errors));
	json_object_set_new(j, "error_samples", samples_json(sh));
	json_object_set_new(j, "due_not_started", json_integer(dns));
	json_object_set_new(j, "unfinished", json_integer(unfinished));
	json_object_set_new(j, "reconnects", json_integer(sh->reconnects));
	return put_line(f, j);
}

/* ---- run: the main thread ---------------------------------------------- */

/* Start every worker with SIGINT/SIGTERM blocked: the main thread takes them. */
static int start_workers(struct shared *sh)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sh->t0 = mono_s();
	sh->t0_wall = wall_s();
	sh->base = epoch_slot(sh, sh->t0);
	for (int i = 0; i < sh->o->conns; i++) {
		struct worker *w = &sh->workers[i];

		w->watermark = intended(sh, i, 0);
		w->running = true;
		pthread_mutex_lock(&sh->lock);
		sh->nrunning++;
		pthread_mutex_unlock(&sh->lock);
		errno = pthread_create(&w->thread, NULL, worker_main, w);
		if (errno != 0) {
			fprintf(stderr, PROG ": could not start a thread: %s\n", strerror(errno));
			pthread_mutex_lock(&sh->lock);
			w->running = false;
			w->watermark = INFINITY;
			sh->nrunning--;
			pthread_mutex_unlock(&sh->lock);
			rc = -1;
			break;
		}
		w->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Set the stop at monotonic time at (the reason's moment). */
static void set_stop(struct shared *sh, double at)
{
	pthread_mutex_lock(&sh->lock);
	sh->stop_at = at;
	atomic_store(&sh->stop, 1);
	pthread_mutex_unlock(&sh->lock);
}

/*
 * Watch for the stop, write each complete second, and after the stop wait
 * up to STOP_GRACE_S for the statements in flight. Returns the number of
 * workers still running then; *write_failed on an output error.
 */
static int main_loop(struct shared *sh, FILE *out, bool *write_failed)
{
	const struct run_opts *o = sh->o;
	bool stopping = false;
	int running = 0;

	for (;;) {
		double now = mono_s();

		if (!stopping) {
			if (o->seconds > 0 && now >= sh->t0 + o->seconds)
				set_stop(sh, sh->t0 + o->seconds);
			else if (stop_signal || file_exists(o->stop_file) || *write_failed)
				set_stop(sh, now);
			stopping = atomic_load(&sh->stop) != 0;
		}
		if (!*write_failed && flush_seconds(sh, out, false) < 0) {
			fprintf(stderr, PROG ": could not write '%s': %s\n", o->out, strerror(errno));
			*write_failed = true;
		}
		pthread_mutex_lock(&sh->lock);
		running = sh->nrunning;
		pthread_mutex_unlock(&sh->lock);
		if (stopping && (running == 0 || now > sh->stop_at + STOP_GRACE_S))
			break;
		if (!stopping && running == 0) /* every thread failed to start or ended */
			set_stop(sh, now);
		sleep_until(now + POLL_S);
	}
	return running;
}

static void shared_release(struct shared *sh)
{
	for (int i = 0; sh->workers && i < sh->o->conns; i++) {
		gw_conn_close(sh->workers[i].conn);
		free(sh->workers[i].fifo);
	}
	free(sh->workers);
	for (size_t k = 0; k < sh->nslots; k++)
		free(sh->slots[k]);
	free(sh->slots);
	free(sh->sql_select);
	free(sh->sql_update[0]);
	free(sh->sql_update[1]);
	free(sh->sql_insert);
	free(sh->sql_delete);
	pthread_mutex_destroy(&sh->lock);
}

static int cmd_run(const struct run_opts *o)
{
	struct shared *sh = gw_calloc(1, sizeof(*sh));
	FILE *out = NULL;
	bool write_failed = false;
	long long dns = 0;
	int unfinished = 0, status = EXIT_TROUBLE;
	double secs;

	sh->o = o;
	pthread_mutex_init(&sh->lock, NULL);
	sh->workers = gw_calloc((size_t)o->conns, sizeof(*sh->workers));
	if (install_signals() < 0) {
		fprintf(stderr, PROG ": could not install signal handlers: %s\n", strerror(errno));
		goto out;
	}
	out = fopen(o->out, "w");
	if (!out) {
		fprintf(stderr, PROG ": could not write '%s': %s\n", o->out, strerror(errno));
		goto out;
	}
	for (int i = 0; i < o->conns; i++) {
		struct worker *w = &sh->workers[i];
		struct gw_error err = GW_ERROR_INIT;

		w->sh = sh;
		w->i = i;
		w->rng = o->seed ^ (UINT64_C(0xd1b54a32d192ed03) * ((uint64_t)i + 1));
		(void)rng_next(&w->rng);
		w->next_pre = o->rows - i;
		if (gw_connect(o->url, &w->conn, &err) < 0) {
			fprintf(stderr, PROG ": could not connect (connection %d): %s\n", i, err.msg);
			if (err.hint[0])
				fprintf(stderr, "hint: %s\n", err.hint);
			goto out;
		}
	}
	sh->drv = sh->workers[0].conn->drv;
	build_sql(sh, sh->workers[0].conn);
	if (start_workers(sh) < 0)
		set_stop(sh, mono_s());
	unfinished = main_loop(sh, out, &write_failed);

	/* close the books: late records of abandoned statements are dropped */
	pthread_mutex_lock(&sh->lock);
	sh->closed = true;
	for (int i = 0; i < o->conns; i++)
		dns += due_not_started(sh, &sh->workers[i], sh->stop_at - DUE_SLACK_S);
	pthread_mutex_unlock(&sh->lock);
	if (!write_failed && (flush_seconds(sh, out, true) < 0 ||
			      write_summary(out, sh, dns, unfinished) < 0)) {
		fprintf(stderr, PROG ": could not write '%s': %s\n", o->out, strerror(errno));
		write_failed = true;
	}
	secs = sh->stop_at - sh->t0;
	printf(PROG ": %s %s: %llu statements in %.1f s (%.1f/s, target %.1f), p50 %.3f ms, "
	       "p99 %.3f ms, max %.3f ms, %llu failed, %lld due but not started%s\n",
	       sh->drv->name, profile_names[o->profile], (unsigned long long)sh->total.n, secs,
	       secs > 0 ? (double)sh->total.n / secs : 0.0, o->rate,
	       (double)gw_hist_quantile(&sh->total, 0.50) / 1000.0,
	       (double)gw_hist_quantile(&sh->total, 0.99) / 1000.0,
	       (double)sh->total.max_us / 1000.0, (unsigned long long)sh->failed, dns,
	       unfinished ? " (statements still running at exit)" : "");
	status = write_failed ? EXIT_TROUBLE : sh->failed ? EXIT_FAILED : 0;
	if (unfinished) {
		/*
		 * A statement hangs past the grace: its thread still uses the
		 * shared state, so leave it all to the process exit.
		 */
		fprintf(stderr, PROG ": %d connection(s) still in a statement %.0f s after the stop; "
			"leaving them\n", unfinished, STOP_GRACE_S);
		if (fclose(out) != 0 && status != EXIT_TROUBLE)
			status = EXIT_TROUBLE;
		return status;
	}
	for (int i = 0; i < o->conns; i++)
		if (sh->workers[i].thread_started)
			pthread_join(sh->workers[i].thread, NULL);
out:
	if (out && fclose(out) != 0 && status != EXIT_TROUBLE) {
		fprintf(stderr, PROG ": could not write '%s': %s\n", o->out, strerror(errno));
		status = EXIT_TROUBLE;
	}
	shared_release(sh);
	free(sh);
	return status;
}

/* ---- report ------------------------------------------------------------ */

struct window {
	const char *name;        /* borrowed from argv; NULL for the total */
	double start, end;       /* epoch seconds, [start, end) */
	struct gw_hist all;
	struct gw_hist writes;
	json_t *errors;          /* kind -> count, owned */
	long long errors_total;
};

struct report_opts {
	const char *in;
	const char *series;      /* NULL if none */
	double t0;
	bool t0_set;
	struct window *windows;  /* owned array */
	size_t nwindows;
};

/* Parse "NAME=START,END" into a new window; -1 after printing a message. */
static int add_window(struct report_opts *o, const char *text)
{
	const char *eq = strchr(text, '=');
	const char *comma = eq ? strchr(eq + 1, ',') : NULL;
	char *name = NULL, *start = NULL;
	struct window *w;
	int rc = -1;

	if (!eq || eq == text || !comma) {
		bad_value("--window", text, "want NAME=START,END (epoch seconds)");
		goto out;
	}
	name = gw_strndup(text, (size_t)(eq - text));
	start = gw_strndup(eq + 1, (size_t)(comma - eq - 1));
	o->windows = gw_realloc(o->windows, (o->nwindows + 1) * sizeof(*o->windows));
	w = &o->windows[o->nwindows];
	memset(w, 0, sizeof(*w));
	if (parse_double(start, &w->start) < 0 || parse_double(comma + 1, &w->end) < 0) {
		bad_value("--window", text, "START and END must be numbers (epoch seconds)");
		goto out;
	}
	if (!(w->end > w->start)) {
		bad_value("--window", text, "END must come after START");
		goto out;
	}
	for (size_t k = 0; k < o->nwindows; k++) {
		if (strcmp(o->windows[k].name, name) == 0) {
			bad_value("--window", text, "a window of that name is given already");
			goto out;
		}
	}
	w->name = name;
	name = NULL;
	o->nwindows++;
	rc = 0;
out:
	free(name);
	free(start);
	return rc;
}

static void report_opts_release(struct report_opts *o)
{
	for (size_t k = 0; k < o->nwindows; k++) {
		free((char *)o->windows[k].name);
		json_decref(o->windows[k].errors);
	}
	free(o->windows);
	o->windows = NULL;
	o->nwindows = 0;
}

static int parse_report_args(int argc, char **argv, struct report_opts *o)
{
	int id;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((id = getopt_long(argc, argv, "", report_options, NULL)) != -1) {
		switch (id) {
		case OPT_HELP:
			usage(stdout);
			return 1;
		case OPT_IN:
			o->in = optarg;
			break;
		case OPT_SERIES:
			o->series = optarg;
			break;
		case OPT_T0:
			if (parse_double(optarg, &o->t0) < 0)
				return bad_value("--t0", optarg, "want epoch seconds");
			o->t0_set = true;
			break;
		case OPT_WINDOW:
			if (add_window(o, optarg) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (need(o->in, "--in") < 0)
		return -1;
	if (o->t0_set && !o->series) {
		fprintf(stderr, PROG ": --t0 needs --series\n");
		return -1;
	}
	return 0;
}

/* One per-second (per-slot) line, decoded. */
struct line {
	double t;                /* epoch seconds of the slot's start */
	double dt;               /* its width: 1 s unless the run had --interval */
	struct gw_hist all;
	struct gw_hist writes;
	json_t *errors;          /* borrowed from the line's JSON */
	long long nerrors;
};

/* Microseconds of a millisecond value of the output (3 decimals: exact). */
static uint64_t us_of_ms(double ms)
{
	return ms > 0 ? (uint64_t)(ms * 1000.0 + 0.5) : 0;
}

static bool is_ms(const json_t *v)
{
	return json_is_number(v) && json_number_value(v) >= 0;
}

/* Decode a per-second line j into l; a message in err. */
static int read_line(const json_t *j, struct line *l, struct gw_error *err)
{
	json_t *t = json_object_get(j, "t"), *n = json_object_get(j, "n");
	json_t *dt = json_object_get(j, "dt");
	json_t *max = json_object_get(j, "max"), *wmax = json_object_get(j, "wmax");
	json_t *errors = json_object_get(j, "errors");
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_number(t) || !json_is_integer(n) || json_integer_value(n) < 0)
		return gw_error_set(err, GW_ERR_INPUT, "\"t\" must be a number, \"n\" a count");
	if (dt && (!json_is_number(dt) || json_number_value(dt) <= 0))
		return gw_error_set(err, GW_ERR_INPUT, "\"dt\" must be a positive number of seconds");
	if (!is_ms(max) || (wmax && !json_is_null(wmax) && !is_ms(wmax)))
		return gw_error_set(err, GW_ERR_INPUT, "\"max\" and \"wmax\" must be milliseconds");
	if (errors && !json_is_object(errors))
		return gw_error_set(err, GW_ERR_INPUT, "\"errors\" must be an object");
	gw_hist_init(&l->all);
	gw_hist_init(&l->writes);
	l->t = json_number_value(t);
	l->dt = dt ? json_number_value(dt) : 1.0;
	l->errors = errors;
	l->nerrors = 0;
	json_object_foreach(errors, key, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return gw_error_set(err, GW_ERR_INPUT, "error count \"%s\" is not a count", key);
		l->nerrors += json_integer_value(v);
	}
	rc = gw_hist_from_json(&l->all, json_object_get(j, "h"), err);
	if (rc == 0)
		rc = gw_hist_from_json(&l->writes, json_object_get(j, "hw"), err);
	if (rc < 0) {
		/* name the field, keep the detail */
		char detail[sizeof(err->msg)];

		snprintf(detail, sizeof(detail), "%s", err->msg);
		gw_error_clear(err);
		return gw_error_set(err, GW_ERR_INPUT, "\"h\"/\"hw\": %s", detail);
	}
	if ((json_int_t)l->all.n != json_integer_value(n))
		return gw_error_set(err, GW_ERR_INPUT, "\"h\" holds %llu statements, \"n\" says %"
				    JSON_INTEGER_FORMAT, (unsigned long long)l->all.n,
				    json_integer_value(n));
	l->all.max_us = us_of_ms(json_number_value(max));
	if (l->writes.n)
		l->writes.max_us = is_ms(wmax) ? us_of_ms(json_number_value(wmax)) : l->all.max_us;
	return 0;
}

static void window_add(struct window *w, const struct line *l)
{
	const char *key;
	json_t *v;

	gw_hist_merge(&w->all, &l->all);
	gw_hist_merge(&w->writes, &l->writes);
	if (!w->errors)
		w->errors = json_object();
	json_object_foreach(l->errors, key, v)
	{
		json_t *have = json_object_get(w->errors, key);
		json_int_t sum = json_integer_value(v) + (have ? json_integer_value(have) : 0);

		json_object_set_new(w->errors, key, json_integer(sum));
	}
	w->errors_total += l->nerrors;
}

/* Quantile in ms, null when empty. */
static json_t *q_json(const struct gw_hist *h, double q)
{
	return h->n ? json_ms(gw_hist_quantile(h, q)) : json_null();
}

static json_t *window_json(const struct window *w)
{
	json_t *j = json_object(), *wr = json_object();
	double secs = w->end - w->start;

	json_object_set_new(j, "start", json_real(w->start));
	json_object_set_new(j, "end", json_real(w->end));
	json_object_set_new(j, "seconds", json_real(secs));
	json_object_set_new(j, "n", json_integer((json_int_t)w->all.n));
	json_object_set_new(j, "rate", secs > 0 ? json_real((double)w->all.n / secs) : json_null());
	json_object_set_new(j, "p50", q_json(&w->all, 0.50));
	json_object_set_new(j, "p95", q_json(&w->all, 0.95));
	json_object_set_new(j, "p99", q_json(&w->all, 0.99));
	json_object_set_new(j, "max", w->all.n ? json_ms(w->all.max_us) : json_null());
	json_object_set_new(wr, "n", json_integer((json_int_t)w->writes.n));
	json_object_set_new(wr, "p50", q_json(&w->writes, 0.50));
	json_object_set_new(wr, "p99", q_json(&w->writes, 0.99));
	json_object_set_new(wr, "max", w->writes.n ? json_ms(w->writes.max_us) : json_null());
	json_object_set_new(j, "writes", wr);
	json_object_set_new(j, "errors", w->errors ? json_incref(w->errors) : json_object());
	json_object_set_new(j, "errors_total", json_integer(w->errors_total));
	return j;
}

/* A millisecond cell of the series: NaN (gnuplot's missing value) when empty. */
static void put_cell(FILE *f, const struct gw_hist *h, double q, bool max)
{
	if (!h->n)
		fputs("\tNaN", f);
	else
		fprintf(f, "\t%.3f", (double)(max ? h->max_us : gw_hist_quantile(h, q)) / 1000.0);
}

static void series_row(FILE *f, double t0, const struct line *l)
{
	fprintf(f, "%.3f\t%.1f", l->t - t0, (double)l->all.n / l->dt);
	put_cell(f, &l->all, 0.50, false);
	put_cell(f, &l->all, 0.95, false);
	put_cell(f, &l->all, 0.99, false);
	put_cell(f, &l->all, 1.0, true);
	put_cell(f, &l->writes, 0.99, false);
	put_cell(f, &l->writes, 1.0, true);
	fprintf(f, "\t%lld\n", l->nerrors);
}

static int bad_input(const char *path, size_t line, const char *why)
{
	fprintf(stderr, PROG ": '%s' line %zu: %s\n", path, line, why);
	return -1;
}

/* Check and keep a summary line's fields. */
static int read_summary(const json_t *j, json_t **summary, struct gw_error *err)
{
	json_t *t0 = json_object_get(j, "t0"), *stopped = json_object_get(j, "stopped");
	json_t *dns = json_object_get(j, "due_not_started");
	json_t *samples = json_object_get(j, "error_samples");

	if (*summary)
		return gw_error_set(err, GW_ERR_INPUT, "a second summary line");
	if (!json_is_number(t0) || !json_is_number(stopped) || !json_is_integer(dns) ||
	    (samples && !json_is_array(samples)))
		return gw_error_set(err, GW_ERR_INPUT, "summary line lacks \"t0\", \"stopped\" or "
				    "\"due_not_started\"");
	*summary = json_incref((json_t *)j);
	return 0;
}

static int cmd_report(struct report_opts *o)
{
	struct window total;
	struct line *l = gw_calloc(1, sizeof(*l));
	json_t *summary = NULL, *j = NULL, *result = NULL, *windows;
	FILE *in = NULL, *series = NULL;
	char *buf = NULL, *text = NULL;
	size_t bufcap = 0, lineno = 0, nlines = 0;
	double first_t = 0, last_t = 0, last_dt = 1;
	double series_t0 = o->t0;
	ssize_t len;
	int status = EXIT_TROUBLE;

	memset(&total, 0, sizeof(total));
	in = fopen(o->in, "r");
	if (!in) {
		fprintf(stderr, PROG ": could not read '%s': %s\n", o->in, strerror(errno));
		goto out;
	}
	if (o->series && !(series = fopen(o->series, "w"))) {
		fprintf(stderr, PROG ": could not write '%s': %s\n", o->series, strerror(errno));
		goto out;
	}
	if (series)
		fputs("# seconds\tper_second\tp50_ms\tp95_ms\tp99_ms\tmax_ms\twrites_p99_ms\twrites_max_ms"
		      "\terrors\n", series);
	while ((len = getline(&buf, &bufcap, in)) != -1) {
		struct gw_error err = GW_ERROR_INIT;
		json_error_t jerr;

		lineno++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len == 0)
			continue;
		json_decref(j);
		j = json_loads(buf, 0, &jerr);
		if (!j || !json_is_object(j)) {
			char *why = gw_asprintf("not a JSON object%s%s", j ? "" : ": ",
						j ? "" : jerr.text);

			bad_input(o->in, lineno, why);
			free(why);
			goto out;
		}
		if (json_is_true(json_object_get(j, "summary"))) {
			if (read_summary(j, &summary, &err) < 0) {
				bad_input(o->in, lineno, err.msg);
				goto out;
			}
			continue;
		}
		if (read_line(j, l, &err) < 0) {
			bad_input(o->in, lineno, err.msg);
			goto out;
		}
		if (nlines == 0 || l->t < first_t)
			first_t = l->t;
		if (nlines == 0 || l->t > last_t) {
			last_t = l->t;
			last_dt = l->dt;
		}
		if (nlines == 0 && !o->t0_set)
			series_t0 = l->t;
		nlines++;
		window_add(&total, l);
		for (size_t k = 0; k < o->nwindows; k++) {
			double mid = l->t + l->dt / 2;

			if (mid >= o->windows[k].start && mid < o->windows[k].end)
				window_add(&o->windows[k], l);
		}
		if (series)
			series_row(series, series_t0, l);
	}
	if (ferror(in)) {
		fprintf(stderr, PROG ": could not read '%s': %s\n", o->in, strerror(errno));
		goto out;
	}
	/* the run's own span when it finished; else the seconds the lines cover */
	if (summary) {
		total.start = json_number_value(json_object_get(summary, "t0"));
		total.end = json_number_value(json_object_get(summary, "stopped"));
	} else if (nlines) {
		total.start = first_t;
		total.end = last_t + last_dt;
	}
	result = json_object();
	windows = json_object();
	for (size_t k = 0; k < o->nwindows; k++)
		json_object_set_new(windows, o->windows[k].name, window_json(&o->windows[k]));
	json_object_set_new(result, "windows", windows);
	json_object_set_new(result, "total", window_json(&total));
	json_object_set_new(result, "due_not_started",
			    summary ? json_incref(json_object_get(summary, "due_not_started"))
				    : json_null());
	json_object_set_new(result, "error_samples",
			    summary && json_object_get(summary, "error_samples")
				    ? json_incref(json_object_get(summary, "error_samples"))
				    : json_array());
	text = json_dumps(result, JSON_INDENT(2) | JSON_FLAGS);
	if (!text)
		GW_BUG("json_dumps failed");
	puts(text);
	if (!summary)
		fprintf(stderr, PROG ": '%s' has no summary line (run killed?)\n", o->in);
	status = 0;
out:
	if (series && fclose(series) != 0 && status == 0) {
		fprintf(stderr, PROG ": could not write '%s': %s\n", o->series, strerror(errno));
		status = EXIT_TROUBLE;
	}
	if (in)
		fclose(in);
	free(text);
	free(buf);
	free(l);
	json_decref(j);
	json_decref(result);
	json_decref(summary);
	json_decref(total.errors);
	return status;
}

int main(int argc, char **argv)
{
	char run_name[] = PROG " run", report_name[] = PROG " report";
	int rc;

	if (argc >= 2 && strcmp(argv[1], "run") == 0) {
		struct run_opts o;

		argv[1] = run_name; /* getopt's messages name argv[0] */
		rc = parse_run_args(argc - 1, argv + 1, &o);
		if (rc != 0)
			return rc < 0 ? EXIT_TROUBLE : 0;
		return cmd_run(&o);
	}
	if (argc >= 2 && strcmp(argv[1], "report") == 0) {
		struct report_opts o;

		argv[1] = report_name;
		rc = parse_report_args(argc - 1, argv + 1, &o);
		if (rc == 0)
			rc = cmd_report(&o);
		else
			rc = rc < 0 ? EXIT_TROUBLE : 0;
		report_opts_release(&o);
		return rc;
	}
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_TROUBLE;
}
