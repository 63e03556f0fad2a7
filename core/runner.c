/*
 * The runner: applies and rolls back migrations phase by phase, recording
 * each transition, checkpoint and reverse step in the state store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/runner.h"

#define LOCK_RETRIES 5

char *gw_steps_to_json(const struct gw_steps *s)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < s->n; i++) {
		/* Invalid UTF-8 must not silently drop a reverse step. */
		json_t *o = json_pack("{s:s, s:i}", "sql", s->v[i].sql, "flags", (int)s->v[i].flags);

		if (!o || json_array_append_new(a, o) < 0)
			GW_BUG("reverse step is not valid UTF-8");
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (!text)
		GW_BUG("json_dumps failed");
	return text;
}

int gw_steps_from_json(const char *text, struct gw_steps *s, struct gw_error *err)
{
	json_error_t jerr;
	json_t *a = json_loads(text, 0, &jerr);
	size_t i;
	json_t *v;
	int rc = 0;

	if (!json_is_array(a)) {
		rc = gw_error_set(err, GW_ERR_STATE, "recorded undo steps are not valid: %s",
				  a ? "expected a list" : jerr.text);
		goto out;
	}
	json_array_foreach(a, i, v) {
		const char *sql = json_string_value(json_object_get(v, "sql"));
		json_int_t flags = json_integer_value(json_object_get(v, "flags"));

		if (!sql) {
			rc = gw_error_set(err, GW_ERR_STATE, "recorded undo step %zu has no sql", i);
			goto out;
		}
		gw_steps_add(s, (unsigned)flags, gw_strdup(sql));
	}
out:
	json_decref(a);
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static bool is_pg(const struct gw_ctx *ctx)
{
	return gw_conn_dialect(ctx->conn)->id == GW_DIALECT_POSTGRES;
}

/*
 * Strong locks wait at most lock_timeout (PostgreSQL) or lock_wait_timeout
 * (MariaDB/MySQL) so that godwit never queues behind a long transaction
 * while everyone queues behind it; the caller retries with backoff.
 */
static int session_setup(struct gw_ctx *ctx)
{
	return gw_conn_exec(ctx->conn, is_pg(ctx) ? "SET lock_timeout = '2s'"
						  : "SET SESSION lock_wait_timeout = 2",
			    &ctx->err);
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

static bool steps_transactional(const struct gw_steps *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].flags & GW_STEP_NO_TXN)
			return false;
	return true;
}

/*
 * Run steps, then the checkpoint write. On PostgreSQL, when every step can,
 * they run in one transaction with the checkpoint, so a crash leaves either
 * all or nothing. MariaDB/MySQL commit DDL implicitly: the checkpoint
 * follows the statements. A lock timeout is retried with backoff.
 */
static int run_steps(struct gw_ctx *ctx, const char *label, const struct gw_steps *s,
		     const char *id, enum gw_phase p, const char *checkpoint, const char *undo)
{
	bool txn = is_pg(ctx) && steps_transactional(s);
	int rc = 0;

	for (int attempt = 0;; attempt++) {
		struct gw_error e = GW_ERROR_INIT;

		rc = txn ? gw_conn_exec(ctx->conn, "BEGIN", &e) : 0;
		for (size_t i = 0; rc == 0 && i < s->n; i++) {
			gw_info(label, "%s", s->v[i].sql);
			rc = gw_conn_exec(ctx->conn, s->v[i].sql, &e);
		}
		if (rc == 0 && checkpoint)
			rc = gw_store_checkpoint(&ctx->store, id, p, checkpoint, undo, &e);
		if (rc == 0 && txn)
			rc = gw_conn_exec(ctx->conn, "COMMIT", &e);
		if (rc == 0)
			return 0;
		if (txn && gw_conn_exec(ctx->conn, "ROLLBACK", NULL) < 0)
			gw_warn(label, "could not roll back the failed transaction");
		if (rc != GW_ERR_DB_LOCK_TIMEOUT || attempt + 1 >= LOCK_RETRIES ||
		    (!txn && s->n > 1)) {
			ctx->err = e;
			return rc;
		}
		gw_warn(label, "lock wait timed out, retrying (%d of %d)", attempt + 1,
			LOCK_RETRIES - 1);
		sleep_ms(500L << attempt);
	}
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

/* Ops already done according to a phase checkpoint ("ops=N"). */
static size_t ops_done(const char *checkpoint)
{
	unsigned long n = 0;

	if (checkpoint && sscanf(checkpoint, "ops=%lu", &n) == 1)
		return n;
	return 0;
}

/*
 * One phase of one migration, resumable: each operation's steps run with a
 * checkpoint, and its reverse (computed from the state before it ran) is
 * recorded before the next operation starts.
 */
static int run_phase(struct gw_ctx *ctx, const struct gw_migration *m, struct gw_applied *a,
		     enum gw_phase p)
{
	char label[300];
	struct gw_steps undo = GW_STEPS_INIT;
	size_t first = 0;
	double t0 = now_ms();
	long nstatements = 0;
	char *undo_json = NULL;
	int rc;

	snprintf(label, sizeof(label), "%s:%s", m->id, gw_phase_name((int)p));
	if (a->state[p] == GW_STATE_RUNNING || a->state[p] == GW_STATE_FAILED ||
	    a->state[p] == GW_STATE_PAUSED) {
		first = ops_done(a->checkpoint[p]);
		if (a->undo[p] && (rc = gw_steps_from_json(a->undo[p], &undo, &ctx->err)) < 0)
			goto out;
		gw_info(label, "resuming after %zu of %zu operations (was %s)", first, m->nops,
			gw_state_name((int)a->state[p]));
	}
	rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_RUNNING, NULL, NULL, "started",
				 &ctx->err);
	if (rc < 0)
		goto out;

	for (size_t i = first; i < m->nops; i++) {
		struct gw_table_info *live = NULL;
		struct gw_steps fwd = GW_STEPS_INIT, rev = GW_STEPS_INIT;
		struct gw_phase_req req = {p, false, m, &m->ops[i], gw_conn_dialect(ctx->conn), NULL};
		char checkpoint[32];
		struct gw_error noinv = GW_ERROR_INIT;

		rc = describe_op(ctx, &m->ops[i], &live);
		req.live = live;
		if (rc == 0)
			rc = gw_phase_steps(&req, &fwd, &ctx->err);
		if (rc == 0) {
			req.undo = true;
			/* No inverse is not an error until someone asks to roll back. */
			if (gw_phase_steps(&req, &rev, &noinv) == GW_ERR_NO_INVERSE) {
				gw_steps_release(&rev);
				gw_steps_add(&rev, 0, gw_asprintf("-- no inverse: %s", noinv.msg));
			}
		}
		/* The reverse of the phase undoes operations last first. */
		for (size_t k = rev.n; rc == 0 && k > 0; k--) {
			gw_steps_add(&undo, 0, NULL);
			memmove(undo.v + 1, undo.v, (undo.n - 1) * sizeof(*undo.v));
			undo.v[0] = rev.v[k - 1];
			rev.v[k - 1].sql = NULL;
		}
		if (rc == 0 && fwd.n) {
			free(undo_json);
			undo_json = gw_steps_to_json(&undo);
			snprintf(checkpoint, sizeof(checkpoint), "ops=%zu", i + 1);
			/* The reverse goes with the checkpoint so that a resume keeps it. */
			rc = run_steps(ctx, label, &fwd, m->id, p, checkpoint, undo_json);
			nstatements += (long)fwd.n;
		}
		gw_steps_release(&fwd);
		gw_steps_release(&rev);
		gw_table_info_free(live);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		struct gw_error ignored = GW_ERROR_INIT;

		if (gw_store_transition(&ctx->store, m->id, p, GW_STATE_FAILED, ctx->err.msg, NULL,
					NULL, &ignored) < 0)
			gw_warn(label, "could not record the failure: %s", ignored.msg);
		goto out;
	}
	free(undo_json);
	undo_json = gw_steps_to_json(&undo);
	rc = gw_store_transition(&ctx->store, m->id, p, GW_STATE_COMPLETED, NULL, undo_json,
				 nstatements ? "completed" : "completed with no work", &ctx->err);
	if (rc == 0)
		gw_info(label, "completed (%ld statement%s, %.0f ms)", nstatements,
			nstatements == 1 ? "" : "s", now_ms() - t0);
out:
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

	rc = session_setup(ctx);
	if (rc == 0)
		rc = reload(ctx, &a);
	if (rc == 0)
		rc = check_files(ctx, &a);
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
	char label[300];
	struct gw_steps steps = GW_STEPS_INIT;
	int rc = 0;

	snprintf(label, sizeof(label), "%s:%s", m->id, gw_phase_name((int)p));
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
		if (strncmp(steps.v[i].sql, "-- no inverse: ", 15) == 0) {
			gw_error_set(&ctx->err, GW_ERR_NO_INVERSE, "%s", steps.v[i].sql + 15);
			gw_error_hint(&ctx->err, "give the operation a \"down\" with the SQL that "
						 "undoes it");
			rc = GW_ERR_NO_INVERSE;
		}
	}
	if (rc < 0)
		goto out;
	if (steps.n)
		gw_info(label, "rolling back (%zu statement%s)", steps.n, steps.n == 1 ? "" : "s");
	rc = run_steps(ctx, label, &steps, m->id, p, NULL, NULL);
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

	rc = session_setup(ctx);
	if (rc == 0)
		rc = reload(ctx, &a);
	if (rc == 0)
		rc = check_files(ctx, &a);
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

	rc = session_setup(ctx);
	if (rc == 0)
		rc = reload(ctx, &a);
	if (rc == 0)
		rc = check_files(ctx, &a);
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
