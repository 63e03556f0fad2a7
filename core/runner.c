/*
 * The runner: applies and rolls back migrations phase by phase, recording
 * each transition, checkpoint and reverse step in the state store.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "godwit/copier.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/runner.h"
#include "godwit/shadow.h"
#include "godwit/stream.h"
#include "godwit/throttle.h"

#define LOCK_RETRIES 5

static json_t *step_json(const struct gw_step *st)
{
	/* Invalid UTF-8 must not silently drop a reverse step. */
	json_t *o = json_pack("{s:s, s:i}", "sql", st->sql, "flags", (int)st->flags);

	if (o && st->job)
		json_object_set_new(o, "job",
				    json_pack("{s:s, s:s, s:s*}", "kind", gw_job_name((int)st->job->kind),
					      "table", st->job->table, "capture",
					      st->job->replication ? "replication" : NULL));
	if (o && st->done_if)
		json_object_set_new(o, "done_if", json_string(st->done_if));
	if (o && st->fill)
		json_object_set_new(o, "fill",
				    json_pack("{s:s, s:s, s:s?, s:s?}", "table", st->fill->table, "set",
					      st->fill->set, "where", st->fill->where, "mode",
					      st->fill->mode));
	if (!o || (st->fill && !json_object_get(o, "fill")) || (st->job && !json_object_get(o, "job")))
		GW_BUG("step is not valid UTF-8");
	return o;
}

char *gw_steps_to_json(const struct gw_steps *s)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < s->n; i++)
		if (json_array_append_new(a, step_json(&s->v[i])) < 0)
			GW_BUG("json_array_append_new failed");
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (!text)
		GW_BUG("json_dumps failed");
	return text;
}

static int steps_from_array(json_t *a, struct gw_steps *s, struct gw_error *err)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		const char *sql = json_string_value(json_object_get(v, "sql"));
		json_int_t flags = json_integer_value(json_object_get(v, "flags"));
		json_t *f = json_object_get(v, "fill"), *job = json_object_get(v, "job");

		if (!sql)
			return gw_error_set(err, GW_ERR_STATE, "recorded step %zu has no sql", i);
		if (job) {
			int kind = gw_job_parse(json_string_value(json_object_get(job, "kind")));
			const char *table = json_string_value(json_object_get(job, "table"));

			if (kind < 0 || !table)
				return gw_error_set(err, GW_ERR_STATE,
						    "recorded job step %zu is not valid", i);
			gw_steps_add_job(s, (unsigned)flags, (enum gw_job_kind)kind, table,
					 gw_strdup(sql));
			s->v[s->n - 1].job->replication = json_string_value(
				json_object_get(job, "capture")) != NULL;
			continue;
		}
		gw_steps_add(s, (unsigned)flags, gw_strdup(sql));
		if (json_is_string(json_object_get(v, "done_if")))
			s->v[s->n - 1].done_if =
				gw_strdup(json_string_value(json_object_get(v, "done_if")));
		if (f) {
			const char *table = json_string_value(json_object_get(f, "table"));
			const char *set = json_string_value(json_object_get(f, "set"));

			if (!table || !set)
				return gw_error_set(err, GW_ERR_STATE,
						    "recorded fill step %zu is not valid", i);
			s->v[s->n - 1].fill =
				gw_fill_new(table, set, json_string_value(json_object_get(f, "where")),
					    json_string_value(json_object_get(f, "mode")));
		}
	}
	return 0;
}

int gw_steps_from_json(const char *text, struct gw_steps *s, struct gw_error *err)
{
	json_error_t jerr;
	json_t *a = json_loads(text, 0, &jerr);
	int rc;

	if (!json_is_array(a))
		rc = gw_error_set(err, GW_ERR_STATE, "recorded steps are not valid: %s",
				  a ? "expected a list" : jerr.text);
	else
		rc = steps_from_array(a, s, err);
	json_decref(a);
	return rc;
}

static bool is_pg(const struct gw_ctx *ctx)
{
	return gw_conn_dialect(ctx->conn)->id == GW_DIALECT_POSTGRES;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Strong locks wait at most lock_timeout (PostgreSQL) or lock_wait_timeout
 * (MariaDB/MySQL) so that godwit never queues behind a long transaction
 * while everyone queues behind it; the caller retries with backoff.
 */
static int session_setup(struct gw_ctx *ctx)
{
	static const char *const pg[] = {"SET lock_timeout = '2s'"};
	/* Row locks wait as briefly; READ COMMITTED takes no gap locks while filling. */
	static const char *const my[] = {
		"SET SESSION lock_wait_timeout = 2",
		"SET SESSION innodb_lock_wait_timeout = 2",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	};
	const char *const *v = is_pg(ctx) ? pg : my;
	size_t n = is_pg(ctx) ? GW_ARRAY_SIZE(pg) : GW_ARRAY_SIZE(my);
	int rc = 0;

	catch_signals();
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = gw_conn_exec(ctx->conn, v[i], &ctx->err);
	return rc;
}

/* Live table of op, NULL if the op has none or the table does not exist. */
static int describe_op(struct gw_ctx *ctx, const struct gw_op *op, struct gw_table_info **out)
{
	const char *table = op->kind == GW_OP_RENAME_TABLE ? op->from : op->table;
	struct gw_error local = GW_ERROR_INIT;
	int rc;

	*out = NULL;
	if (!table)
		return 0;
	rc = gw_conn_describe(ctx->conn, table, out, &local);
	if (rc == GW_ERR_DB_UNDEFINED)
		return 0;
	if (rc < 0)
		ctx->err = local;
	return rc;
}

/* A phase being run: what checkpoints, control and progress need. */
struct phase_run {
	struct gw_ctx *ctx;
	const struct gw_migration *m;
	enum gw_phase p;
	char label[300];
	bool record;              /* write checkpoints */
	bool undoing;             /* a rollback: its checkpoints are {"rollback": step} */
	size_t op;                /* operation in progress */
	const char *steps_json;   /* its forward steps */
	const char *undo_json;    /* the phase's reverse, this operation included */
	size_t stmt;              /* the step in progress */
	long long rows_total;     /* estimate for the fill in progress, -1 unknown */
	double last_print;
	bool line_open;           /* a progress line is on the terminal */
	struct gw_capture *cap;   /* replication capture open for cap_table, or NULL */
	char *cap_table;
	struct gw_throttle *th;   /* of the copy, made at its first chunk */
	struct gw_limits live;    /* set by an operator, read with the control row */
	struct gw_limits lim;     /* in force */
	struct gw_throttle_state ts;  /* the last look at the signals */
};

static void capture_close(struct phase_run *pr)
{
	gw_capture_close(pr->cap);
	free(pr->cap_table);
	pr->cap = NULL;
	pr->cap_table = NULL;
}

/*
 * The replication capture of job's table, opened once per phase run.
 * NULL with triggers, and once it has been released (after a swap back,
 * triggers keep the shadow in sync).
 */
static int capture_of(struct phase_run *pr, const struct gw_job *job, struct gw_capture **out)
{
	struct gw_ctx *ctx = pr->ctx;
	bool set_up = false, shadow = false;
	char *name;
	int rc;

	*out = NULL;
	if (!job->replication)
		return 0;
	if (pr->cap && strcmp(pr->cap_table, job->table) == 0) {
		*out = pr->cap;
		return 0;
	}
	capture_close(pr);
	rc = gw_capture_exists(ctx->conn, job->table, &set_up, &ctx->err);
	if (rc < 0 || !set_up)
		return rc;
	/* A swap that went through before an interruption left nothing to apply. */
	name = gw_shadow_name(job->table, "new");
	rc = gw_table_exists(ctx->conn, name, &shadow, &ctx->err);
	free(name);
	if (rc < 0 || !shadow)
		return rc;
	rc = gw_capture_open(ctx->database_url, ctx->conn, job->table, &pr->cap, &ctx->err);
	if (rc == 0) {
		pr->cap_table = gw_strdup(job->table);
		*out = pr->cap;
	}
	return rc;
}

/* Apply what the stream has so far (fill hook). */
static int capture_sync(void *arg, struct gw_error *err)
{
	struct phase_run *pr = arg;

	return pr->cap ? gw_capture_sync(pr->cap, false, err) : 0;
}

static int capture_freeze(void *arg, bool on, struct gw_error *err)
{
	struct phase_run *pr = arg;

	return pr->cap ? gw_capture_freeze(pr->cap, on, err) : 0;
}

static void end_line(struct phase_run *pr)
{
	if (pr->line_open)
		fputc('\n', stderr);
	pr->line_open = false;
}

static int set_state(struct phase_run *pr, enum gw_state to, const char *detail)
{
	end_line(pr);
	return gw_store_transition(&pr->ctx->store, pr->m->id, pr->p, to, NULL, NULL, detail,
				   &pr->ctx->err);
}

/*
 * Obey the operator and signals: a pause waits (checking every second)
 * until resumed; "stop" or SIGINT/SIGTERM records the phase paused and
 * returns GW_ERR_INTERRUPTED (exit 4).
 */
static int obey(struct phase_run *pr, struct gw_error *err)
{
	bool paused = false;
	char want[32];
	int rc;

	if (!pr->record || pr->undoing)
		return 0;
	for (;;) {
		if (stop_signal) {
			rc = set_state(pr, GW_STATE_PAUSED, "stopped by signal");
			if (rc == 0)
				rc = gw_error_set(err, GW_ERR_INTERRUPTED,
						  "%s: stopped by signal %d; run again to resume",
						  pr->label, (int)stop_signal);
			return rc;
		}
		rc = gw_store_desired(&pr->ctx->store, pr->m->id, pr->p, want, sizeof(want), &pr->live,
				      err);
		if (rc < 0)
			return rc;
		if (strcmp(want, "stop") == 0) {
			rc = set_state(pr, GW_STATE_PAUSED, "stopped by operator");
			if (rc == 0) {
				rc = gw_error_set(err, GW_ERR_INTERRUPTED, "%s: stopped by operator",
						  pr->label);
				gw_error_hint(err, "godwit resume %s, then run again", pr->m->id);
			}
			return rc;
		}
		if (strcmp(want, "paused") != 0)
			break;
		if (!paused) {
			rc = set_state(pr, GW_STATE_PAUSED, "paused by operator");
			if (rc < 0)
				return rc;
			gw_info(pr->label, "paused by operator; waiting for 'godwit resume %s'",
				pr->m->id);
			paused = true;
		}
		rc = gw_store_progress(&pr->ctx->store, pr->m->id, pr->p, NULL, NULL,
				       &(struct gw_progress){-1, -1, "{\"throttle\":\"paused\","
								     "\"waiting\":\"paused by operator\"}"},
				       err);
		if (rc < 0)
			return rc;
		for (int i = 0; i < 10 && !stop_signal; i++)
			gw_sleep_ms(100);
	}
	if (paused) {
		gw_info(pr->label, "resumed");
		return set_state(pr, GW_STATE_RUNNING, "resumed");
	}
	return 0;
}

/*
 * {"op":N,"stmt":K,"steps":[...],"fill":{...}} while operation N runs;
 * {"op":N+1} once it is done (done).
 */
static char *phase_checkpoint(const struct phase_run *pr, size_t stmt, const char *fill,
			      bool done)
{
	if (pr->undoing)
		return gw_asprintf("{\"rollback\":%zu,\"fill\":%s}", stmt, fill ? fill : "null");
	if (done)
		return gw_asprintf("{\"op\":%zu}", pr->op + 1);
	return gw_asprintf("{\"op\":%zu,\"stmt\":%zu,\"steps\":%s,\"fill\":%s}", pr->op, stmt,
			   pr->steps_json, fill ? fill : "null");
}

static void show_progress(struct phase_run *pr, const struct gw_fill_progress *p)
{
	double t = gw_now_ms();
	char pct[16] = "", eta[32] = "";

	/* Nothing to say before the first chunk has given a rate. */
	if (!gw_log_enabled(GW_LOG_INFO) || p->rows_per_s <= 0 ||
	    (t - pr->last_print < (isatty(2) ? 250 : 10000)))
		return;
	pr->last_print = t;
	if (p->rows_total > 0)
		snprintf(pct, sizeof(pct), " (%.1f%%)",
			 100.0 * (double)(p->rows_done < p->rows_total ? p->rows_done : p->rows_total) /
				 (double)p->rows_total);
	if (p->rows_total > p->rows_done && p->rows_per_s > 0) {
		long s = (long)((double)(p->rows_total - p->rows_done) / p->rows_per_s);

		snprintf(eta, sizeof(eta), "  ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	}
	if (isatty(2)) {
		fprintf(stderr, "\r\033[K%s  %lld rows%s  %.0f rows/s%s  chunk %ld", pr->label,
			p->rows_done, pct, p->rows_per_s, eta, p->chunk);
		pr->line_open = true;
	} else {
		gw_info(pr->label, "%lld rows%s, %.0f rows/s%s, chunk %ld", p->rows_done, pct,
			p->rows_per_s, eta, p->chunk);
	}
}

/* What status shows of a copy: its progress, the capture, the throttle. */
static char *progress_json(struct phase_run *pr, const struct gw_fill_progress *p)
{
	json_t *o = json_pack("{s:f, s:I, s:f, s:I}", "rate", p->rows_per_s, "chunk",
			      (json_int_t)p->chunk, "chunk_ms", p->last_ms, "retries",
			      (json_int_t)p->retries);
	char *text;

	if (pr->cap) {
		long long applied;
		double lag;

		gw_capture_stats(pr->cap, &applied, &lag);
		json_object_set_new(o, "applied", json_integer(applied));
		json_object_set_new(o, "lag_ms", json_integer((json_int_t)lag));
	}
	if (pr->th)
		gw_throttle_json(pr->th, &pr->lim, &pr->ts, o);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/*
 * Wait while the operator pauses or any throttle signal says so (see
 * godwit/throttle.h), saying why; set the next chunk's target time and
 * size cap. Outside the schedule window with --until-window-ends: stop,
 * paused, exit 4.
 */
static int throttle(struct phase_run *pr, struct gw_fill_progress *p, struct gw_error *err)
{
	enum gw_throttle_kind said = GW_THROTTLE_NONE;
	double since = -1, shown = 0, now;
	int rc = 0;

	if (!pr->th)
		rc = gw_throttle_new(&pr->th, pr->m, pr->ctx->conn, &pr->ctx->store,
				     pr->ctx->database_url, err);
	while (rc == 0) {
		rc = obey(pr, err);
		if (rc < 0)
			break;
		gw_throttle_limits(&pr->m->options, &pr->live, &pr->lim);
		gw_throttle_check(pr->th, &pr->lim, p->rows_done, &pr->ts);
		p->target_ms = (double)pr->lim.chunk_time_ms;
		p->max_chunk = pr->ts.max_chunk;
		if (p->max_chunk > 0 && p->chunk > p->max_chunk)
			p->chunk = p->max_chunk;
		if (pr->ts.kind == GW_THROTTLE_NONE)
			break;
		if (pr->ts.kind == GW_THROTTLE_SCHEDULE && pr->ctx->until_window_ends) {
			rc = set_state(pr, GW_STATE_PAUSED, "outside the schedule window");
			if (rc == 0) {
				rc = gw_error_set(err, GW_ERR_INTERRUPTED, "%s: %s", pr->label,
						  pr->ts.reason);
				gw_error_hint(err, "run again in the next window: it resumes where it "
						   "stopped");
			}
			break;
		}
		now = gw_now_ms();
		if (since < 0)
			since = now;
		if (pr->ts.kind != said && pr->ts.kind != GW_THROTTLE_RATE) {
			end_line(pr);
			gw_info(pr->label, "waiting: %s", pr->ts.reason);
		}
		said = pr->ts.kind;
		/* rate waits are short and many: status shows them at the next chunk */
		if (pr->ts.kind != GW_THROTTLE_RATE && now - shown >= 1000) {
			char *json = progress_json(pr, p);

			shown = now;
			rc = gw_store_progress(&pr->ctx->store, pr->m->id, pr->p, NULL, NULL,
					       &(struct gw_progress){-1, -1, json}, err);
			free(json);
		}
		/* the stream is never throttled: apply it while the copy waits */
		if (rc == 0)
			rc = capture_sync(pr, err);
		gw_sleep_ms((long)(pr->ts.wait_ms < 250 ? pr->ts.wait_ms + 1 : 250));
	}
	if (rc == 0 && since >= 0 && gw_now_ms() - since >= 1000)
		gw_info(pr->label, "going on after waiting %.1f s", (gw_now_ms() - since) / 1000.0);
	return rc;
}

/* Before each chunk: the progress so far (rate included), the operator, the throttle, the stream. */
static int fill_before_chunk(void *arg, struct gw_fill_progress *p, struct gw_error *err)
{
	struct phase_run *pr = arg;
	int rc;

	rc = pr->record && !pr->undoing ? throttle(pr, p, err) : 0;
	show_progress(pr, p);
	return rc == 0 ? capture_sync(arg, err) : rc;
}

static int fill_checkpoint(void *arg, const char *ckpt, const struct gw_fill_progress *p,
			   struct gw_error *err)
{
	struct phase_run *pr = arg;
	char *text, *json;
	int rc;

	if (!pr->record)
		return 0;
	text = phase_checkpoint(pr, pr->stmt, ckpt, false);
	json = progress_json(pr, p);
	rc = gw_store_progress(&pr->ctx->store, pr->m->id, pr->p, text, pr->undo_json,
			       &(struct gw_progress){p->rows_done, p->rows_total, json}, err);
	free(json);
	free(text);
	return rc;
}

static int run_fill(struct phase_run *pr, const struct gw_fill *f, const char *resume)
{
	struct gw_fill_hooks h = {pr, fill_before_chunk, fill_checkpoint, NULL, NULL};
	long target = pr->m->options.chunk_time_ms > 0 ? pr->m->options.chunk_time_ms : 500;
	double t0 = gw_now_ms();
	int rc;

	gw_info(pr->label, "filling '%s' in chunks of about %ld ms", f->table, target);
	rc = gw_fill_run(pr->ctx->conn, f, resume, pr->rows_total, (double)target, &h,
			 &pr->ctx->err);
	end_line(pr);
	if (rc == 0)
		gw_info(pr->label, "filled '%s' (%.1f s)", f->table, (gw_now_ms() - t0) / 1000.0);
	return rc;
}

/* Checkpoint: steps before next are done (all n: the operation is). */
static int save(struct phase_run *pr, size_t next, size_t n, struct gw_error *err)
{
	char *ckpt;
	int rc;

	if (!pr->record)
		return 0;
	ckpt = phase_checkpoint(pr, next, NULL, next == n);
	rc = gw_store_checkpoint(&pr->ctx->store, pr->m->id, pr->p, ckpt, pr->undo_json, err);
	free(ckpt);
	return rc;
}

/*
 * Tests die here, as kill -9 would, after the Nth statement a run executes
 * (GODWIT_CRASH_AFTER=N): after the server has done it, before godwit has
 * recorded it, which is where a crash is the hardest to resume from.
 */
static void crash_point(void)
{
	static long left = -1;

	if (left < 0) {
		const char *v = getenv("GODWIT_CRASH_AFTER");

		left = v ? strtol(v, NULL, 10) : 0;
		if (left <= 0)
			left = LONG_MAX;
	}
	if (--left == 0)
		raise(SIGKILL);
}

/* On resume: whether the server applied st before godwit died. */
static int already_done(struct phase_run *pr, const struct gw_step *st, bool *done,
			struct gw_error *e)
{
	struct gw_result *r = NULL;
	int rc = gw_conn_query(pr->ctx->conn, st->done_if, 0, NULL, &r, e);
	const char *v = rc == 0 && r->nrows == 1 ? gw_result_get(r, 0, 0) : NULL;

	*done = v && strcmp(v, "1") == 0;
	gw_result_free(r);
	if (*done)
		gw_info(pr->label, "already applied before the interruption: %s", st->sql);
	return rc;
}

/*
 * One statement of a unit. Statements flagged LOCKED block writes while
 * they run (and, in a transaction, until it commits): *since is when the
 * first of them started, *blocked the time of those outside a transaction.
 */
static int exec_stmt(struct phase_run *pr, const struct gw_step *st, bool txn, double *since,
		     double *blocked, struct gw_error *e)
{
	double t0 = gw_now_ms();
	int rc;

	gw_info(pr->label, "%s", st->sql);
	if ((st->flags & GW_STEP_LOCKED) && *since < 0)
		*since = t0;
	rc = gw_conn_exec(pr->ctx->conn, st->sql, e);
	if ((st->flags & GW_STEP_LOCKED) && !txn)
		*blocked += gw_now_ms() - t0;
	crash_point();
	return rc;
}

/* Record the time writes were blocked by a cut-over with the phase, and say it. */
static void report_blocked(struct phase_run *pr, double ms)
{
	struct gw_error ignored = GW_ERROR_INIT;
	char *json;

	gw_info(pr->label, "writes were blocked for %.0f ms", ms);
	if (!pr->record)
		return;
	json = gw_asprintf("{\"blocked_ms\":%.0f}", ms);
	if (gw_store_progress(&pr->ctx->store, pr->m->id, pr->p, NULL, NULL,
			      &(struct gw_progress){-1, -1, json}, &ignored) < 0)
		gw_warn(pr->label, "could not record the blocked time: %s", ignored.msg);
	free(json);
}

/*
 * Steps [k, j) as one unit: on PostgreSQL in one transaction with the
 * checkpoint; on MariaDB/MySQL (DDL commits by itself) a single statement,
 * or a LOCK TABLES group, followed by the checkpoint. A job's statements are
 * built when it runs, from the tables as they are then. A lock timeout is
 * retried with backoff. After a crash, the first statement of a resumed
 * operation may have been applied already (MariaDB/MySQL): "already exists"
 * there means done.
 */
/*
 * A job that runs itself rather than as statements: a MariaDB/MySQL
 * cut-over (with a sentry and a second connection), or the release of a
 * replication capture, which must not be open then.
 */
static int run_job(struct phase_run *pr, const struct gw_job *job, struct gw_error *e)
{
	struct gw_ctx *ctx = pr->ctx;
	struct gw_capture *cap = NULL;
	double blocked = -1;
	int rc;

	if (job->kind == GW_JOB_RELEASE) {
		capture_close(pr);
		return gw_capture_teardown(ctx->conn, job->table, e);
	}
	rc = capture_of(pr, job, &cap);
	if (rc < 0) {
		*e = ctx->err;
		return rc;
	}
	rc = gw_shadow_cutover_mysql(ctx->conn, ctx->database_url, job, cap, &blocked, e);
	if (rc == 0 && blocked >= 0)
		report_blocked(pr, blocked);
	return rc;
}

static bool runs_itself(const struct gw_ctx *ctx, const struct gw_step *st)
{
	return st->job && (st->job->kind == GW_JOB_RELEASE ||
			   (!is_pg(ctx) && (st->job->kind == GW_JOB_SWAP ||
					    st->job->kind == GW_JOB_UNSWAP)));
}

/* A swap in a transaction drains the capture under its lock: catch up before. */
static int catch_up(struct phase_run *pr, const struct gw_steps *s, size_t k, size_t j,
		    struct gw_capture **cap)
{
	*cap = NULL;
	for (size_t i = k; i < j; i++) {
		const struct gw_job *job = s->v[i].job;
		int rc;

		if (!job || job->kind != GW_JOB_SWAP || !job->replication)
			continue;
		rc = capture_of(pr, job, cap);
		if (rc == 0 && *cap)
			rc = gw_capture_sync(*cap, false, &pr->ctx->err);
		return rc;
	}
	return 0;
}

static int run_unit(struct phase_run *pr, const struct gw_steps *s, size_t k, size_t j, bool txn,
		    bool resumed)
{
	struct gw_ctx *ctx = pr->ctx;
	bool locked = !txn && (s->v[k].flags & GW_STEP_LOCKED) && !s->v[k].job;
	struct gw_capture *cap = NULL;
	int rc = catch_up(pr, s, k, j, &cap);

	if (rc < 0)
		return rc;
	for (int attempt = 0;; attempt++) {
		struct gw_error e = GW_ERROR_INIT;
		double since = -1, blocked = 0;

		rc = txn ? gw_conn_exec(ctx->conn, "BEGIN", &e) : 0;
		for (size_t i = k; rc == 0 && i < j; i++) {
			struct gw_steps gen = GW_STEPS_INIT;

			if (!s->v[i].job && resumed && s->v[i].done_if) {
				bool done = false;

				rc = already_done(pr, &s->v[i], &done, &e);
				if (rc < 0 || done)
					continue;
			}
			if (!s->v[i].job) {
				rc = exec_stmt(pr, &s->v[i], txn, &since, &blocked, &e);
				if (rc == GW_ERR_DB_EXISTS && resumed && !txn && i == k) {
					gw_info(pr->label, "already applied before the interruption: %s",
						e.msg);
					gw_error_clear(&e);
					rc = 0;
				}
				continue;
			}
			gw_info(pr->label, "%s", s->v[i].sql);
			if (runs_itself(ctx, &s->v[i])) {
				rc = run_job(pr, s->v[i].job, &e);
				continue;
			}
			if (cap && s->v[i].job->kind == GW_JOB_SWAP)
				rc = gw_capture_sync(cap, true, &e);
			if (rc == 0)
				rc = gw_shadow_job_sql(ctx->conn, s->v[i].job, &gen, &e);
			for (size_t g = 0; rc == 0 && g < gen.n; g++)
				rc = exec_stmt(pr, &gen.v[g], txn, &since, &blocked, &e);
			gw_steps_release(&gen);
		}
		if (rc == 0)
			rc = save(pr, j, s->n, &e);
		if (rc == 0 && txn)
			rc = gw_conn_exec(ctx->conn, "COMMIT", &e);
		if (rc == 0 && txn && since >= 0)
			blocked = gw_now_ms() - since;
		if (rc == 0 && since >= 0)
			report_blocked(pr, blocked);
		if (rc == 0)
			return 0;
		if (txn && gw_conn_exec(ctx->conn, "ROLLBACK", NULL) < 0)
			gw_warn(pr->label, "could not roll back the failed transaction");
		if (locked && gw_conn_exec(ctx->conn, "UNLOCK TABLES", NULL) < 0)
			gw_warn(pr->label, "could not unlock the tables");
		if (rc != GW_ERR_DB_LOCK_TIMEOUT || attempt + 1 >= LOCK_RETRIES) {
			ctx->err = e;
			return rc;
		}
		gw_warn(pr->label, "lock wait timed out, retrying (%d of %d)", attempt + 1,
			LOCK_RETRIES - 1);
		gw_sleep_ms(500L << attempt);
	}
}

/* A copy or verify job: the copier walks the table, chunk by chunk, with checkpoints. */
static int run_walk_job(struct phase_run *pr, const struct gw_job *job, const char *resume)
{
	struct gw_fill_hooks h = {pr, fill_before_chunk, fill_checkpoint, NULL, NULL};
	long target = pr->m->options.chunk_time_ms > 0 ? pr->m->options.chunk_time_ms : 500;
	char *shadow = gw_shadow_name(job->table, "new");
	struct gw_capture *cap = NULL;
	struct gw_shadow_map map;
	double t0 = gw_now_ms();
	long differed = 0;
	int rc;

	memset(&map, 0, sizeof(map));
	rc = capture_of(pr, job, &cap);
	/* The stream first: what it holds is older than what the copy reads. */
	if (rc == 0 && cap)
		rc = gw_capture_sync(cap, false, &pr->ctx->err);
	if (rc == 0)
		rc = gw_shadow_map_resolve(pr->ctx->conn, job->table, shadow, &map, &pr->ctx->err);
	if (rc < 0)
		goto out;
	h.sync = cap ? capture_sync : NULL;
	h.freeze = cap ? capture_freeze : NULL;
	gw_info(pr->label, "%s '%s' %s '%s' in chunks of about %ld ms%s",
		job->kind == GW_JOB_COPY ? "copying" : "verifying", job->table,
		job->kind == GW_JOB_COPY ? "into" : "against", shadow, target,
		cap ? ", applying the replication stream between chunks" : "");
	if (job->kind == GW_JOB_COPY)
		rc = gw_copy_run(pr->ctx->conn, &map, resume, pr->rows_total, (double)target, &h,
				 &pr->ctx->err);
	else
		rc = gw_verify_run(pr->ctx->conn, &map, true, resume, pr->rows_total, (double)target,
				   &h, &differed, &pr->ctx->err);
	end_line(pr);
	if (differed)
		gw_info(pr->label, "%ld chunk%s differed and %s copied again", differed,
			differed == 1 ? "" : "s", differed == 1 ? "was" : "were");
	if (rc == 0)
		gw_info(pr->label, "%s '%s' (%.1f s)", job->kind == GW_JOB_COPY ? "copied" : "verified",
			job->table, (gw_now_ms() - t0) / 1000.0);
	if (rc == 0 && cap) {
		long long applied;
		double lag;

		gw_capture_stats(cap, &applied, &lag);
		gw_info(pr->label, "replication capture: %lld changes applied, lag %.0f ms", applied,
			lag);
	}
	/*
	 * Nothing reads the stream while the indexes build: close it, or the
	 * server drops it on a long build (wal_sender_timeout,
	 * net_write_timeout); the verify opens it again where it was recorded.
	 */
	if (rc == 0 && job->kind == GW_JOB_COPY) {
		bool online = !cap;   /* triggers write the shadow meanwhile */

		if (cap)
			capture_close(pr);
		rc = gw_shadow_build_indexes(pr->ctx->conn, job->table, online, &pr->ctx->err);
	}
out:
	gw_shadow_map_release(&map);
	free(shadow);
	return rc;
}

static bool walks(const struct gw_step *st)
{
	return st->fill || (st->job && (st->job->kind == GW_JOB_COPY || st->job->kind == GW_JOB_VERIFY));
}

/*
 * Run steps from step `from` on: fills and walking jobs by the copier
 * (resume is the checkpoint of the first one if it was interrupted), runs
 * of transactional statements together on PostgreSQL, every other
 * statement alone. The operator is obeyed between units.
 */
static int run_steps(struct phase_run *pr, const struct gw_steps *s, size_t from, bool resumed,
		     const char *resume)
{
	int rc = 0;

	for (size_t k = from; rc == 0 && k < s->n;) {
		size_t j = k + 1;
		bool txn = is_pg(pr->ctx) && !walks(&s->v[k]) && !(s->v[k].flags & GW_STEP_NO_TXN);

		rc = obey(pr, &pr->ctx->err);
		if (rc < 0)
			break;
		pr->stmt = k;
		if (walks(&s->v[k])) {
			if (s->v[k].fill)
				rc = run_fill(pr, s->v[k].fill, k == from ? resume : NULL);
			else
				rc = run_walk_job(pr, s->v[k].job, k == from ? resume : NULL);
			if (rc == 0)
				rc = save(pr, j, s->n, &pr->ctx->err);
		} else {
			while (txn && j < s->n && !walks(&s->v[j]) && !(s->v[j].flags & GW_STEP_NO_TXN))
				j++;
			while (!txn && (s->v[k].flags & GW_STEP_LOCKED) && !s->v[k].job && j < s->n &&
			       (s->v[j].flags & GW_STEP_LOCKED) && !s->v[j].job)
				j++;
			rc = run_unit(pr, s, k, j, txn, k == from && resumed);
		}
		k = j;
	}
	return rc;
}

static int reload(struct gw_ctx *ctx, struct gw_applied_set *a)
{
	gw_applied_set_release(a);
	return gw_store_load(&ctx->store, a, &ctx->err);
}

/* Refuse to run when an applied migration's file changed or disappeared. */
static int check_files(struct gw_ctx *ctx, const struct gw_applied_set *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct gw_migration *m = gw_migration_set_find(&ctx->set, a->v[i].id);

		if (!m) {
			gw_error_set(&ctx->err, GW_ERR_CHECKSUM,
				     "applied migration '%s' has no file in '%s'", a->v[i].id,
				     ctx->migrations_dir);
			gw_error_hint(&ctx->err, "restore the file, or roll it back with the file "
						 "in place before deleting it");
			return GW_ERR_CHECKSUM;
		}
		if (strcmp(m->checksum, a->v[i].checksum) != 0) {
			gw_error_set(&ctx->err, GW_ERR_CHECKSUM,
				     "%s: migration '%s' was edited after it was applied", m->path,
				     m->id);
			gw_error_hint(&ctx->err,
				      "stored checksum %s, file checksum %s: restore the file, or "
				      "roll the migration back before editing it",
				      a->v[i].checksum, m->checksum);
			return GW_ERR_CHECKSUM;
		}
	}
	return 0;
}

/* Before a run: session settings, the state store loaded, no applied file edited. */
static int begin(struct gw_ctx *ctx, struct gw_applied_set *a)
{
	int rc = session_setup(ctx);

	if (rc == 0)
		rc = reload(ctx, a);
	if (rc == 0)
		rc = check_files(ctx, a);
	if (rc == 0)
		rc = gw_capture_sweep(ctx->conn, &ctx->err);
	return rc;
}

/* Where a phase stopped: the operation, and within it the step and fill. */
struct resume_point {
	bool undoing;            /* a rollback was interrupted at stmt */
	size_t op, stmt;
	struct gw_steps steps;   /* recorded forward steps of op, n 0 if none */
	char *fill;              /* fill checkpoint text, NULL if none */
};

static int parse_checkpoint(const char *text, struct resume_point *rp, struct gw_error *err)
{
	json_error_t jerr;
	json_t *o, *steps, *fill;
	int rc = 0;

	memset(rp, 0, sizeof(*rp));
	if (!text || !*text)
		return 0;
	o = json_loads(text, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return gw_error_set(err, GW_ERR_STATE, "phase checkpoint is not valid: %s", text);
	}
	rp->undoing = json_object_get(o, "rollback") != NULL;
	rp->op = (size_t)json_integer_value(json_object_get(o, "op"));
	rp->stmt = (size_t)json_integer_value(json_object_get(o, rp->undoing ? "rollback" : "stmt"));
	steps = json_object_get(o, "steps");
	fill = json_object_get(o, "fill");
	if (json_is_array(steps))
		rc = steps_from_array(steps, &rp->steps, err);
	if (json_is_object(fill))
		rp->fill = json_dumps(fill, JSON_COMPACT);
	json_decref(o);
	return rc;
}

/* Prepend rev (last operation's reverse) to undo, moving its steps. */
static void undo_prepend(struct gw_steps *undo, struct gw_steps *rev)
{
	struct gw_steps all = GW_STEPS_INIT;

	gw_steps_append(&all, rev);
	gw_steps_append(&all, undo);
	*undo = all;
}

/*
 * One phase of one migration, resumable: each operation's steps run with
 * checkpoints (and fills chunk by chunk), and its reverse, computed from
 * the table before it ran, is recorded with them.
 */
static int run_phase(struct gw_ctx *ctx, const struct gw_migration *m, struct gw_applied *a,
		     enum gw_phase p)
{
	struct phase_run pr = {.ctx = ctx, .m = m, .p = p, .record = true, .rows_total = -1};
	struct gw_steps undo = GW_STEPS_INIT;
	struct resume_point rp;
	double t0 = gw_now_ms();
	long nstatements = 0;
	char *undo_json = NULL;
	int rc;

	snprintf(pr.label, sizeof(pr.label), "%s:%s", m->id, gw_phase_name((int)p));
	memset(&rp, 0, sizeof(rp));
	if (a->state[p] == GW_STATE_RUNNING || a->state[p] == GW_STATE_FAILED ||
	    a->state[p] == GW_STATE_PAUSED) {
		rc = parse_checkpoint(a->checkpoint[p], &rp, &ctx->err);
		if (rc == 0 && rp.undoing) {
			rc = gw_error_set(&ctx->err, GW_ERR_STATE,
					  "%s: its rollback was interrupted at step %zu", pr.label,
					  rp.stmt + 1);
			gw_error_hint(&ctx->err, "finish it first: godwit rollback %s", m->id);
		}
		if (rc == 0 && a->undo[p])
			rc = gw_steps_from_json(a->undo[p], &undo, &ctx->err);
		if (rc < 0)
			goto out;
		gw_info(pr.label, "resuming at operation %zu of %zu (was %s)", rp.op + 1, m->nops,
			gw_state_name((int)a->state[p]));
	}
	rc = obey(&pr, &ctx->err);
	if (rc == 0)
		rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_RUNNING, NULL, NULL,
					 "started", &ctx->err);
	if (rc < 0)
		goto out;

	for (size_t i = rp.op; i < m->nops; i++) {
		struct gw_table_info *live = NULL;
		struct gw_steps fwd = GW_STEPS_INIT, rev = GW_STEPS_INIT;
		struct gw_phase_req req = {p, false, m, &m->ops[i], gw_conn_dialect(ctx->conn), NULL};
		struct gw_error noinv = GW_ERROR_INIT;
		bool resumed = i == rp.op && rp.steps.n;
		char *steps_json = NULL;

		rc = describe_op(ctx, &m->ops[i], &live);
		req.live = live;
		if (rc == 0 && resumed) {
			fwd = rp.steps;
			memset(&rp.steps, 0, sizeof(rp.steps));
		} else if (rc == 0) {
			rc = gw_phase_steps(&req, &fwd, &ctx->err);
			req.undo = true;
			/* No inverse is not an error until someone asks to roll back. */
			if (rc == 0 && gw_phase_steps(&req, &rev, &noinv) == GW_ERR_NO_INVERSE) {
				gw_steps_release(&rev);
				gw_steps_add(&rev, 0, gw_asprintf("-- no inverse: %s", noinv.msg));
			}
			if (rc == 0 && fwd.n)
				undo_prepend(&undo, &rev);
		}
		if (rc == 0 && fwd.n) {
			free(undo_json);
			undo_json = gw_steps_to_json(&undo);
			steps_json = gw_steps_to_json(&fwd);
			pr.op = i;
			pr.steps_json = steps_json;
			pr.undo_json = undo_json;
			pr.rows_total = live ? live->row_estimate : -1;
			/*
			 * The plan is recorded before its first statement runs: a
			 * DDL statement cannot be undone by a crash, and planning
			 * again from the half-changed table would refuse it.
			 */
			if (!resumed)
				rc = save(&pr, 0, fwd.n, &ctx->err);
			if (rc == 0)
				rc = run_steps(&pr, &fwd, resumed ? rp.stmt : 0, resumed,
					       resumed ? rp.fill : NULL);
			nstatements += (long)fwd.n;
		}
		free(steps_json);
		gw_steps_release(&fwd);
		gw_steps_release(&rev);
		gw_table_info_free(live);
		if (rc < 0)
			break;
	}
	if (rc == GW_ERR_INTERRUPTED)
		goto out;
	if (rc < 0) {
		struct gw_error ignored = GW_ERROR_INIT;

		end_line(&pr);
		if (gw_store_transition(&ctx->store, m->id, p, GW_STATE_FAILED, ctx->err.msg, NULL,
					NULL, &ignored) < 0)
			gw_warn(pr.label, "could not record the failure: %s", ignored.msg);
		goto out;
	}
	free(undo_json);
	undo_json = gw_steps_to_json(&undo);
	rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_COMPLETED, NULL, undo_json,
				 nstatements ? "completed" : "completed with no work", &ctx->err);
	if (rc == 0)
		gw_info(pr.label, "completed (%ld step%s, %.1f s)", nstatements,
			nstatements == 1 ? "" : "s", (gw_now_ms() - t0) / 1000.0);
out:
	capture_close(&pr);
	gw_throttle_free(pr.th);
	gw_steps_release(&rp.steps);
	free(rp.fill);
	free(undo_json);
	gw_steps_release(&undo);
	return rc;
}

/* True when every parent of node i is complete. */
static bool parents_done(struct gw_ctx *ctx, const struct gw_applied_set *a, size_t i,
			 const char **waiting_for)
{
	for (size_t k = 0; k < ctx->graph.nparents[i]; k++) {
		const struct gw_migration *pm = ctx->graph.node[ctx->graph.parents[i][k]];

		if (!gw_applied_done(gw_applied_find(a, pm->id))) {
			*waiting_for = pm->id;
			return false;
		}
	}
	return true;
}

static bool *done_flags(struct gw_ctx *ctx, const struct gw_applied_set *a, bool touched)
{
	bool *v = gw_calloc(ctx->graph.n ? ctx->graph.n : 1, sizeof(bool));

	for (size_t i = 0; i < ctx->graph.n; i++) {
		const struct gw_applied *r = gw_applied_find(a, ctx->graph.node[i]->id);

		v[i] = touched ? gw_applied_touched(r) : gw_applied_done(r);
	}
	return v;
}

static bool in_names(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Column an operation needs to exist already, or NULL. */
static const char *needed_column(const struct gw_op *op)
{
	switch (op->kind) {
	case GW_OP_DROP_COLUMN:
	case GW_OP_ALTER_COLUMN:
		return op->column_name;
	case GW_OP_RENAME_COLUMN:
		return op->from;
	default:
		return NULL;
	}
}

/*
 * Before anything changes: every phase of every migration to run must be
 * expressible on this engine, and every table (and column) an operation
 * needs must exist, unless an earlier operation of the run makes it. Bad
 * input is refused here with exit 2 and nothing touched.
 */
static int preflight(struct gw_ctx *ctx, const struct gw_applied_set *a, const size_t *order,
		     size_t n)
{
	char **made = NULL;   /* tables created, renamed to, or changed by the run so far */
	size_t nmade = 0;
	bool sql_seen = false;
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < n; k++) {
		const struct gw_migration *m = ctx->graph.node[order[k]];
		bool fresh = !gw_applied_touched(gw_applied_find(a, m->id));
		struct gw_throttle *th = NULL;

		/* its throttling options: schedule, replicas */
		rc = gw_throttle_new(&th, m, ctx->conn, &ctx->store, ctx->database_url, &ctx->err);
		gw_throttle_free(th);

		for (size_t i = 0; rc == 0 && i < m->nops; i++) {
			const struct gw_op *op = &m->ops[i];
			const char *table = op->kind == GW_OP_RENAME_TABLE ? op->from : op->table;
			const char *col = needed_column(op);
			struct gw_table_info *live = NULL;

			for (int p = 0; rc == 0 && p < GW_NPHASES; p++) {
				struct gw_phase_req req = {(enum gw_phase)p, false, m, op,
							   gw_conn_dialect(ctx->conn), NULL};
				struct gw_steps steps = GW_STEPS_INIT;

				rc = gw_phase_steps(&req, &steps, &ctx->err);
				gw_steps_release(&steps);
			}
			if (rc < 0 || !fresh || sql_seen || !table || op->kind == GW_OP_CREATE_TABLE ||
			    op->kind == GW_OP_SQL || in_names(made, nmade, table))
				goto next;
			rc = gw_conn_describe(ctx->conn, table, &live, &ctx->err);
			if (rc == GW_ERR_DB_UNDEFINED) {
				gw_error_clear(&ctx->err);
				rc = gw_error_set(&ctx->err, GW_ERR_INPUT,
						  "%s: operation %zu (%s): field '%s': table '%s' does not exist",
						  m->path, i, gw_op_kind_name(op->kind),
						  op->kind == GW_OP_RENAME_TABLE ? "from" : "table", table);
			} else if (rc == 0 && col && !gw_table_info_column(live, col)) {
				rc = gw_error_set(&ctx->err, GW_ERR_INPUT,
						  "%s: operation %zu (%s): field '%s': column '%s' does not "
						  "exist in table '%s'",
						  m->path, i, gw_op_kind_name(op->kind),
						  op->kind == GW_OP_RENAME_COLUMN ? "from" : "column", col,
						  table);
			}
			gw_table_info_free(live);
next:
			if (op->kind == GW_OP_CREATE_TABLE || op->kind == GW_OP_RENAME_TABLE ||
			    op->kind == GW_OP_ADD_COLUMN || op->kind == GW_OP_RENAME_COLUMN ||
			    op->kind == GW_OP_SQL) {
				const char *t = op->kind == GW_OP_RENAME_TABLE ? op->to : op->table;

				made = gw_realloc(made, (nmade + 1) * sizeof(char *));
				made[nmade++] = (char *)(t ? t : "");
			}
			/* Arbitrary SQL may make anything: stop checking after it. */
			sql_seen |= op->kind == GW_OP_SQL;
		}
	}
	free(made);
	return rc;
}

int gw_run_forward(struct gw_ctx *ctx, const struct gw_target *t, enum gw_phase first,
		   enum gw_phase last)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	size_t *order = gw_calloc(ctx->graph.n + 1, sizeof(size_t));
	bool *done = NULL;
	size_t n = 0, ran = 0;
	int rc;

	rc = begin(ctx, &a);
	if (rc < 0)
		goto out;
	done = done_flags(ctx, &a, false);
	rc = gw_graph_upgrade(&ctx->graph, done, t, order, &n, &ctx->err);
	if (rc == 0)
		rc = preflight(ctx, &a, order, n);
	if (rc < 0)
		goto out;

	for (size_t k = 0; k < n; k++) {
		const struct gw_migration *m = ctx->graph.node[order[k]];
		const char *waiting_for = NULL;
		enum gw_phase stop = last;
		struct gw_applied *r;

		if (t->kind == GW_TARGET_REV && order[k] == t->rev && t->phase >= 0 &&
		    (enum gw_phase)t->phase < stop)
			stop = (enum gw_phase)t->phase;
		if (!parents_done(ctx, &a, order[k], &waiting_for)) {
			gw_info(m->id, "waits for '%s' to complete all its phases; stopping here",
				waiting_for);
			break;
		}
		rc = gw_store_record(&ctx->store, m, &ctx->err);
		if (rc == 0)
			rc = reload(ctx, &a);
		if (rc < 0)
			goto out;
		r = gw_applied_find(&a, m->id);
		for (int p = (int)first; p <= (int)stop; p++) {
			if (r->state[p] == GW_STATE_COMPLETED)
				continue;
			if (p == GW_PHASE_CONTRACT && first < GW_PHASE_CONTRACT &&
			    m->options.postpone_cutover) {
				gw_info(m->id, "cut-over postponed (option postpone_cutover): what "
					       "was built stays in sync; run 'godwit contract %s' to "
					       "cut over",
					m->id);
				goto out;
			}
			if (!gw_phase_may_start(r->state, (enum gw_phase)p)) {
				gw_info(m->id, "%s waits for %s to complete", gw_phase_name(p),
					gw_phase_name(p - 1));
				goto out;
			}
			rc = run_phase(ctx, m, r, (enum gw_phase)p);
			if (rc < 0)
				goto out;
			ran++;
			rc = reload(ctx, &a);
			if (rc < 0)
				goto out;
			r = gw_applied_find(&a, m->id);
		}
	}
	if (ran == 0)
		gw_info(NULL, "nothing to do");
out:
	free(done);
	free(order);
	gw_applied_set_release(&a);
	return rc;
}

static int rollback_phase(struct gw_ctx *ctx, const struct gw_migration *m,
			  const struct gw_applied *r, enum gw_phase p)
{
	struct phase_run pr = {.ctx = ctx, .m = m, .p = p, .record = true, .undoing = true,
			       .rows_total = -1};
	const char *label = pr.label;
	struct gw_steps steps = GW_STEPS_INIT;
	struct resume_point rp;
	int rc = 0;

	snprintf(pr.label, sizeof(pr.label), "%s:%s", m->id, gw_phase_name((int)p));
	memset(&rp, 0, sizeof(rp));
	if (r->state[p] == GW_STATE_PENDING || r->state[p] == GW_STATE_ROLLED_BACK)
		return 0;
	if (!gw_phase_may_rollback(r->state, p)) {
		gw_error_set(&ctx->err, GW_ERR_STATE,
			     "cannot roll back '%s': a later phase of '%s' is still applied", label,
			     m->id);
		gw_error_hint(&ctx->err, "roll back the later phases first: godwit rollback %s",
			      m->id);
		return GW_ERR_STATE;
	}
	if (r->undo[p]) {
		rc = gw_steps_from_json(r->undo[p], &steps, &ctx->err);
	} else {
		/* Stamped: no reverse was recorded; derive it without a pre-state. */
		for (size_t i = m->nops; rc == 0 && i > 0; i--) {
			struct gw_phase_req req = {p, true, m, &m->ops[i - 1],
						   gw_conn_dialect(ctx->conn), NULL};

			rc = gw_phase_steps(&req, &steps, &ctx->err);
		}
	}
	for (size_t i = 0; rc == 0 && i < steps.n; i++) {
		const char *why = steps.v[i].sql, *hint;

		if (strncmp(why, "-- no inverse: ", 15) != 0)
			continue;
		/* "-- no inverse: WHY[ -- hint: HINT]" */
		hint = strstr(why + 15, " -- hint: ");
		gw_error_set(&ctx->err, GW_ERR_NO_INVERSE, "%.*s",
			     (int)(hint ? (size_t)(hint - why - 15) : strlen(why + 15)), why + 15);
		gw_error_hint(&ctx->err, "%s",
			      hint ? hint + 10
				   : "give the operation a \"down\" with the SQL that undoes it");
		rc = GW_ERR_NO_INVERSE;
	}
	if (rc == 0)
		rc = parse_checkpoint(r->checkpoint[p], &rp, &ctx->err);
	if (rc < 0)
		goto out;
	if (!rp.undoing)
		rp.stmt = 0;
	if (rp.undoing)
		gw_info(label, "resuming the rollback at step %zu of %zu", rp.stmt + 1, steps.n);
	else if (steps.n)
		gw_info(label, "rolling back (%zu statement%s)", steps.n, steps.n == 1 ? "" : "s");
	/*
	 * Until it ends, the phase is failed and its checkpoint says how far
	 * the rollback got: run again, it goes on from there.
	 */
	rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_FAILED,
				 "its rollback did not finish", NULL, "rolling back", &ctx->err);
	if (rc == 0 && !rp.undoing)
		rc = save(&pr, 0, steps.n, &ctx->err);
	if (rc == 0)
		rc = run_steps(&pr, &steps, rp.stmt, rp.undoing, rp.fill);
	capture_close(&pr);
	if (rc < 0) {
		struct gw_error ignored = GW_ERROR_INIT;

		if (gw_store_transition(&ctx->store, m->id, p, GW_STATE_FAILED, ctx->err.msg, NULL,
					"rollback failed", &ignored) < 0)
			gw_warn(label, "could not record the failure: %s", ignored.msg);
		goto out;
	}
	rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_ROLLED_BACK, NULL, NULL,
				 "rolled back", &ctx->err);
	if (rc == 0)
		rc = gw_store_checkpoint(&ctx->store, m->id, p, "", "[]", &ctx->err);
out:
	gw_steps_release(&steps);
	gw_steps_release(&rp.steps);
	free(rp.fill);
	return rc;
}

static int forget_if_untouched(struct gw_ctx *ctx, const struct gw_migration *m)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	const struct gw_applied *r;
	int rc = reload(ctx, &a);

	r = rc == 0 ? gw_applied_find(&a, m->id) : NULL;
	if (r && !gw_applied_touched(r))
		rc = gw_store_forget(&ctx->store, m->id, "rolled back", &ctx->err);
	gw_applied_set_release(&a);
	return rc;
}

/* Roll back phases [from, contract] of m latest first; forget m when none is left. */
static int rollback_migration(struct gw_ctx *ctx, const struct gw_migration *m,
			      enum gw_phase from)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	struct gw_applied *r;
	int rc = reload(ctx, &a);

	if (rc < 0)
		goto out;
	for (int p = GW_NPHASES - 1; p >= (int)from; p--) {
		r = gw_applied_find(&a, m->id);
		if (!r)
			break;
		rc = rollback_phase(ctx, m, r, (enum gw_phase)p);
		if (rc == 0)
			rc = reload(ctx, &a);
		if (rc < 0)
			goto out;
	}
	rc = forget_if_untouched(ctx, m);
out:
	gw_applied_set_release(&a);
	return rc;
}

int gw_run_down(struct gw_ctx *ctx, const struct gw_target *t)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	size_t *order = gw_calloc(ctx->graph.n + 1, sizeof(size_t));
	bool *touched = NULL;
	size_t n = 0;
	int rc;

	rc = begin(ctx, &a);
	if (rc < 0)
		goto out;
	touched = done_flags(ctx, &a, true);
	rc = gw_graph_downgrade(&ctx->graph, touched, t, order, &n, &ctx->err);
	for (size_t k = 0; rc == 0 && k < n; k++)
		rc = rollback_migration(ctx, ctx->graph.node[order[k]], GW_PHASE_EXPAND);
	if (rc == 0 && t->kind == GW_TARGET_REV && t->phase >= 0 && t->phase + 1 < GW_NPHASES)
		rc = rollback_migration(ctx, ctx->graph.node[t->rev], (enum gw_phase)(t->phase + 1));
	if (rc == 0 && n == 0)
		gw_info(NULL, "nothing to roll back");
out:
	free(touched);
	free(order);
	gw_applied_set_release(&a);
	return rc;
}

int gw_run_rollback(struct gw_ctx *ctx, size_t rev, int phase)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	const struct gw_migration *m = ctx->graph.node[rev];
	int rc;

	rc = begin(ctx, &a);
	if (rc < 0)
		goto out;
	if (!gw_applied_find(&a, m->id)) {
		gw_info(m->id, "not applied: nothing to roll back");
		goto out;
	}
	if (phase < 0) {
		for (size_t k = 0; k < ctx->graph.nchildren[rev]; k++) {
			const struct gw_migration *c = ctx->graph.node[ctx->graph.children[rev][k]];

			if (gw_applied_touched(gw_applied_find(&a, c->id))) {
				rc = gw_error_set(&ctx->err, GW_ERR_STATE,
						  "cannot roll back '%s': '%s' depends on it and is applied",
						  m->id, c->id);
				gw_error_hint(&ctx->err, "roll back to it instead: godwit down %s", m->id);
				goto out;
			}
		}
		rc = rollback_migration(ctx, m, GW_PHASE_EXPAND);
	} else {
		struct gw_applied *r = gw_applied_find(&a, m->id);

		rc = rollback_phase(ctx, m, r, (enum gw_phase)phase);
		if (rc == 0)
			rc = forget_if_untouched(ctx, m);
	}
out:
	gw_applied_set_release(&a);
	return rc;
}

int gw_run_stamp(struct gw_ctx *ctx, const struct gw_target *t)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	int rc = reload(ctx, &a);

	if (rc == 0)
		rc = check_files(ctx, &a);
	if (rc < 0)
		goto out;
	/* Forget what is not below the target, children first. */
	for (size_t k = ctx->graph.n; rc == 0 && k > 0; k--) {
		const struct gw_migration *m = ctx->graph.node[k - 1];
		bool keep = t->kind != GW_TARGET_BASE && gw_graph_reaches(&ctx->graph, k - 1, t->rev);

		if (!keep && gw_applied_find(&a, m->id))
			rc = gw_store_forget(&ctx->store, m->id, "stamp", &ctx->err);
	}
	for (size_t k = 0; rc == 0 && t->kind != GW_TARGET_BASE && k < ctx->graph.n; k++) {
		const struct gw_migration *m = ctx->graph.node[k];
		const struct gw_applied *r;

		if (!gw_graph_reaches(&ctx->graph, k, t->rev))
			continue;
		rc = gw_store_record(&ctx->store, m, &ctx->err);
		if (rc == 0)
			rc = reload(ctx, &a);
		r = rc == 0 ? gw_applied_find(&a, m->id) : NULL;
		for (int p = 0; rc == 0 && p < GW_NPHASES; p++)
			if (r->state[p] != GW_STATE_COMPLETED)
				rc = gw_store_transition(&ctx->store, m->id, (enum gw_phase)p,
							 GW_STATE_COMPLETED, NULL, NULL, "stamp",
							 &ctx->err);
		if (rc == 0)
			gw_info(m->id, "stamped");
	}
out:
	gw_applied_set_release(&a);
	return rc;
}

/* The statements of an operation-level job run outside any phase (cleanup, verify). */
static void label_of(struct phase_run *pr, const struct gw_migration *m, const char *what)
{
	snprintf(pr->label, sizeof(pr->label), "%s:%s", m->id, what);
}

int gw_run_cleanup(struct gw_ctx *ctx, size_t rev)
{
	const struct gw_migration *m = ctx->graph.node[rev];
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	struct phase_run pr = {.ctx = ctx, .m = m, .p = GW_PHASE_CONTRACT, .rows_total = -1};
	struct gw_steps steps = GW_STEPS_INIT, undo = GW_STEPS_INIT;
	const struct gw_applied *r;
	char *json = NULL;
	int rc;

	label_of(&pr, m, "cleanup");
	rc = begin(ctx, &a);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < m->nops; i++)
		if (gw_shadow(m, &m->ops[i]))
			gw_shadow_cleanup_steps(gw_conn_dialect(ctx->conn), &m->ops[i], &steps);
	r = gw_applied_find(&a, m->id);
	if (steps.n == 0) {
		gw_info(m->id, "keeps nothing for revert: nothing to clean up");
		goto out;
	}
	if (!r || r->state[GW_PHASE_CONTRACT] != GW_STATE_COMPLETED) {
		rc = gw_error_set(&ctx->err, GW_ERR_STATE,
				  "cannot clean up '%s': its contract phase is not completed, so the "
				  "old table is still the application's",
				  m->id);
		gw_error_hint(&ctx->err, "run 'godwit contract %s' first, or roll the migration back "
					 "to drop what it built",
			      m->id);
		goto out;
	}
	/* From now on the contract cannot be undone: say so in its recorded reverse. */
	gw_steps_add(&undo, 0,
		     gw_asprintf("-- no inverse: '%s' was cleaned up: the old table and its sync "
				 "are gone -- hint: a rebuild back to the old definition is a new "
				 "migration",
				 m->id));
	if (r->undo[GW_PHASE_CONTRACT])
		rc = gw_steps_from_json(r->undo[GW_PHASE_CONTRACT], &undo, &ctx->err);
	if (rc == 0) {
		json = gw_steps_to_json(&undo);
		rc = gw_store_checkpoint(&ctx->store, m->id, GW_PHASE_CONTRACT, NULL, json,
					 &ctx->err);
	}
	if (rc == 0)
		rc = gw_store_event(&ctx->store, m->id, GW_PHASE_CONTRACT, "completed", "completed",
				    "cleanup", &ctx->err);
	if (rc == 0)
		rc = run_steps(&pr, &steps, 0, false, NULL);
	if (rc == 0)
		gw_info(pr.label, "dropped what was kept for revert");
out:
	free(json);
	gw_steps_release(&steps);
	gw_steps_release(&undo);
	gw_applied_set_release(&a);
	return rc;
}

int gw_run_verify(struct gw_ctx *ctx, size_t rev)
{
	const struct gw_migration *m = ctx->graph.node[rev];
	struct phase_run pr = {.ctx = ctx, .m = m, .p = GW_PHASE_BACKFILL, .rows_total = -1};
	struct gw_fill_hooks h = {&pr, fill_before_chunk, fill_checkpoint, NULL, NULL};
	size_t n = 0;
	int rc = session_setup(ctx);

	label_of(&pr, m, "verify");
	for (size_t i = 0; rc == 0 && i < m->nops; i++) {
		const char *t = m->ops[i].table;
		char *shadow, *old;
		struct gw_shadow_map map;
		const char *from = t, *to;
		bool swapped;
		long differed = 0;

		if (!gw_shadow(m, &m->ops[i]))
			continue;
		shadow = gw_shadow_name(t, "new");
		old = gw_shadow_name(t, "old");
		/*
		 * Before cut-over the shadow is compared with the table and repaired;
		 * after, the new table is the application's: the old one is compared
		 * with it the same way (old values as the new types), and only reported.
		 */
		rc = gw_table_exists(ctx->conn, old, &swapped, &ctx->err);
		if (rc < 0) {
			free(shadow);
			free(old);
			break;
		}
		from = swapped ? old : t;
		to = swapped ? t : shadow;
		rc = gw_shadow_map_resolve(ctx->conn, from, to, &map, &ctx->err);
		if (rc < 0) {
			gw_error_hint(&ctx->err, "verify compares a table with its rebuild: run it "
						 "between expand and cleanup");
		} else {
			/* Before cut-over, a replication capture brings the shadow up to date. */
			struct gw_job job = {GW_JOB_VERIFY, (char *)t, true};
			struct gw_capture *cap = NULL;

			if (!swapped)
				rc = capture_of(&pr, &job, &cap);
			if (rc == 0 && cap)
				rc = gw_capture_sync(cap, false, &ctx->err);
			h.sync = cap ? capture_sync : NULL;
			h.freeze = cap ? capture_freeze : NULL;
			gw_info(pr.label, "comparing '%s' with '%s' by checksum", from, to);
			if (rc == 0)
				rc = gw_verify_run(ctx->conn, &map, !swapped, NULL, -1, 500, &h,
						   &differed, &ctx->err);
			capture_close(&pr);
			end_line(&pr);
			gw_shadow_map_release(&map);
		}
		if (rc == 0 && differed && swapped) {
			rc = gw_error_set(&ctx->err, GW_ERR_DB,
					  "verify: %ld chunk%s of '%s' differ from '%s'", differed,
					  differed == 1 ? "" : "s", from, to);
			gw_error_hint(&ctx->err, "the old table no longer mirrors the new one: rolling "
						 "the contract back would not give the application its rows");
		} else if (rc == 0) {
			gw_info(pr.label, "'%s' and '%s' are equal%s", from, to,
				differed ? " (after copying again the chunks that differed)" : "");
		}
		n++;
		free(shadow);
		free(old);
	}
	if (rc == 0 && n == 0)
		gw_info(m->id, "has no shadow-table rebuild to verify");
	return rc;
}
