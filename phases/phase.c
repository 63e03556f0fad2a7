/*
 * Phases: names, the per-phase state machine, the step list, and dispatch
 * to the builder of each phase.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "phases_int.h"

static const char *const phase_names[GW_NPHASES] = {"expand", "backfill", "contract"};
static const char *const state_names[GW_NSTATES] = {
	"pending", "running", "paused", "completed", "failed", "rolled_back",
};

const char *gw_phase_name(int phase)
{
	return phase >= 0 && phase < GW_NPHASES ? phase_names[phase] : NULL;
}

const char *gw_state_name(int state)
{
	return state >= 0 && state < GW_NSTATES ? state_names[state] : NULL;
}

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int gw_phase_parse(const char *s)
{
	return lookup(phase_names, GW_NPHASES, s);
}

int gw_state_parse(const char *s)
{
	return lookup(state_names, GW_NSTATES, s);
}

/*
 * A phase that is running when its runner died stays "running" in the
 * store; the next runner (which holds the lock, so the old one is gone)
 * takes it over, hence running -> running.
 */
bool gw_state_transition_ok(enum gw_state from, enum gw_state to)
{
	switch (from) {
	case GW_STATE_PENDING:
		return to == GW_STATE_RUNNING || to == GW_STATE_COMPLETED ||
		       to == GW_STATE_PAUSED;
	case GW_STATE_RUNNING:
		return to == GW_STATE_RUNNING || to == GW_STATE_PAUSED ||
		       to == GW_STATE_COMPLETED || to == GW_STATE_FAILED ||
		       to == GW_STATE_ROLLED_BACK;
	case GW_STATE_PAUSED:
		return to == GW_STATE_RUNNING || to == GW_STATE_PENDING ||
		       to == GW_STATE_ROLLED_BACK || to == GW_STATE_FAILED;
	case GW_STATE_COMPLETED:
		/* failed: its rollback failed */
		return to == GW_STATE_RUNNING || to == GW_STATE_ROLLED_BACK ||
		       to == GW_STATE_FAILED;
	case GW_STATE_FAILED:
		return to == GW_STATE_RUNNING || to == GW_STATE_ROLLED_BACK ||
		       to == GW_STATE_PAUSED || to == GW_STATE_FAILED;
	case GW_STATE_ROLLED_BACK:
		return to == GW_STATE_RUNNING || to == GW_STATE_COMPLETED;
	}
	return false;
}

bool gw_phase_may_start(const enum gw_state *states, enum gw_phase p)
{
	if (p > GW_PHASE_EXPAND && states[p - 1] != GW_STATE_COMPLETED)
		return false;
	return states[p] != GW_STATE_COMPLETED;
}

bool gw_phase_may_rollback(const enum gw_state *states, enum gw_phase p)
{
	for (int q = (int)p + 1; q < GW_NPHASES; q++)
		if (states[q] != GW_STATE_PENDING && states[q] != GW_STATE_ROLLED_BACK)
			return false;
	return true;
}

static struct gw_step *step_new(struct gw_steps *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = gw_realloc(s->v, s->cap * sizeof(*s->v));
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

void gw_steps_add(struct gw_steps *s, unsigned flags, char *sql_owned)
{
	struct gw_step *st = step_new(s);

	st->sql = sql_owned;
	st->flags = flags;
}

struct gw_fill *gw_fill_new(const char *table, const char *set, const char *where,
			    const char *mode)
{
	struct gw_fill *f = gw_calloc(1, sizeof(*f));

	f->table = gw_strdup(table);
	f->set = gw_strdup(set);
	f->where = gw_strdup(where);
	f->mode = gw_strdup(mode);
	return f;
}

void gw_steps_add_fill_raw(struct gw_steps *s, const struct gw_dialect *d, const char *table,
			   const char *set, const char *where, const char *mode)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "UPDATE ");
	d->ident(&b, table);
	gw_buf_printf(&b, " SET %s", set);
	if (where)
		gw_buf_printf(&b, " WHERE (%s)", where);
	gw_buf_printf(&b, " -- in keyset chunks%s",
		      mode ? ", the triggers filling the old column" : "");
	gw_steps_add(s, 0, gw_buf_detach(&b));
	s->v[s->n - 1].fill = gw_fill_new(table, set, where, mode);
}

void gw_steps_add_fill(struct gw_steps *s, const struct gw_dialect *d, const char *table,
		       size_t n, const struct gw_assign *set, const char *where)
{
	struct gw_buf b = GW_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (i)
			gw_buf_puts(&b, ", ");
		d->ident(&b, set[i].column);
		gw_buf_printf(&b, " = (%s)", set[i].expr);
	}
	gw_steps_add_fill_raw(s, d, table, b.data, where, NULL);
	gw_buf_release(&b);
}

void gw_steps_append(struct gw_steps *to, struct gw_steps *from)
{
	for (size_t i = 0; i < from->n; i++)
		*step_new(to) = from->v[i];
	free(from->v);
	memset(from, 0, sizeof(*from));
}

static void fill_free(struct gw_fill *f)
{
	if (!f)
		return;
	free(f->table);
	free(f->set);
	free(f->where);
	free(f->mode);
	free(f);
}

static const char *const job_names[GW_NJOBS] = {
	[GW_JOB_CAPTURE] = "capture", [GW_JOB_COPY] = "copy",   [GW_JOB_VERIFY] = "verify",
	[GW_JOB_SWAP] = "swap",       [GW_JOB_UNSWAP] = "unswap", [GW_JOB_VALIDATE] = "validate",
	[GW_JOB_RELEASE] = "release",
};

const char *gw_job_name(int kind)
{
	return kind >= 0 && kind < GW_NJOBS ? job_names[kind] : NULL;
}

int gw_job_parse(const char *s)
{
	for (int i = 0; s && i < GW_NJOBS; i++)
		if (strcmp(s, job_names[i]) == 0)
			return i;
	return -1;
}

void gw_steps_add_job(struct gw_steps *s, unsigned flags, enum gw_job_kind kind,
		      const char *table, char *sql_owned)
{
	struct gw_job *j = gw_calloc(1, sizeof(*j));

	j->kind = kind;
	j->table = gw_strdup(table);
	gw_steps_add(s, flags, sql_owned);
	s->v[s->n - 1].job = j;
}

void gw_steps_release(struct gw_steps *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].sql);
		free(s->v[i].done_if);
		fill_free(s->v[i].fill);
		if (s->v[i].job)
			free(s->v[i].job->table);
		free(s->v[i].job);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int gw_phase_steps(const struct gw_phase_req *req, struct gw_steps *out, struct gw_error *err)
{
	if (gw_shadow(req->m, req->op))
		return gw_shadow_steps(req, out, err);
	if (gw_inplace(req->op))
		return gw_inplace_steps(req, out, err);
	switch (req->phase) {
	case GW_PHASE_EXPAND:
		return gw_expand_steps(req, out, err);
	case GW_PHASE_BACKFILL:
		return gw_backfill_steps(req, out, err);
	case GW_PHASE_CONTRACT:
		return gw_contract_steps(req, out, err);
	}
	GW_BUG("bad phase");
}

char *gw_aside_name(const char *table)
{
	return gw_asprintf("_gw_del_%.*s", gw_utf8_prefix(table, 55), table);
}

bool gw_add_column_defers_not_null(const struct gw_op *op)
{
	return op->column.nullable == GW_FALSE && !op->column.primary_key &&
	       (op->backfill || !op->column.default_expr);
}

int gw_down_or_refuse(const struct gw_phase_req *req, struct gw_steps *out, const char *why,
		      struct gw_error *err)
{
	if (req->op->down) {
		gw_steps_add(out,
			     req->op->kind == GW_OP_SQL && !req->op->transactional ? GW_STEP_NO_TXN : 0,
			     gw_strdup(req->op->down));
		return 0;
	}
	gw_error_set(err, GW_ERR_NO_INVERSE, "%s: operation %d (%s) has no safe inverse: %s",
		     req->m && req->m->path ? req->m->path : "migration", req->op->index,
		     gw_op_kind_name(req->op->kind), why);
	gw_error_hint(err, "give the operation a \"down\" with the SQL that undoes it");
	return GW_ERR_NO_INVERSE;
}

const struct gw_column_info *gw_live_column(const struct gw_phase_req *req, const char *col)
{
	return req->live ? gw_table_info_column(req->live, col) : NULL;
}

void gw_alter_table_prefix(struct gw_buf *b, const struct gw_dialect *d, const char *table)
{
	gw_buf_puts(b, "ALTER TABLE ");
	d->ident(b, table);
	gw_buf_putc(b, ' ');
}

void gw_not_null_prove(struct gw_steps *out, const struct gw_dialect *d, const char *table,
		       const char *column, const char *check)
{
	struct gw_buf b = GW_BUF_INIT;

	/* A check left by an interrupted run is replaced. */
	gw_drop_check_if_exists(out, d, table, check);
	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "ADD CONSTRAINT ");
	d->ident(&b, check);
	gw_buf_puts(&b, " CHECK (");
	d->ident(&b, column);
	gw_buf_puts(&b, " IS NOT NULL) NOT VALID");
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "VALIDATE CONSTRAINT ");
	d->ident(&b, check);
	gw_steps_add(out, 0, gw_buf_detach(&b));
}

void gw_not_null_set(struct gw_steps *out, const struct gw_dialect *d, const char *table,
		     const char *column, const char *check)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "ALTER COLUMN ");
	d->ident(&b, column);
	gw_buf_puts(&b, " SET NOT NULL, DROP CONSTRAINT IF EXISTS ");
	d->ident(&b, check);
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
}

void gw_drop_check_if_exists(struct gw_steps *out, const struct gw_dialect *d,
			     const char *table, const char *check)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_alter_table_prefix(&b, d, table);
	gw_buf_puts(&b, "DROP CONSTRAINT IF EXISTS ");
	d->ident(&b, check);
	gw_steps_add(out, 0, gw_buf_detach(&b));
}
