/*
 * Shadow-table rebuilds, phase by phase (see shadow.h):
 *
 *   expand:   create "_gw_t_new" like t, apply the new definition to it,
 *             install the capture triggers on t;
 *   backfill: copy t into it in chunks, verify by checksum;
 *   contract: swap (the shadow becomes t, t is kept as "_gw_t_old" with
 *             reverse capture); undone by the reverse swap;
 *   cleanup:  drop the old table and the reverse capture.
 *
 * What depends on the tables as they are at run time (columns, keys,
 * foreign keys, views) is built by the jobs when they run.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/shadow.h"
#include "phases_int.h"

static const char *path_of(const struct gw_phase_req *req)
{
	return req->m && req->m->path ? req->m->path : "migration";
}

static const char *option(const char *op_value, const char *m_value)
{
	return op_value ? op_value : m_value;
}

bool gw_shadow(const struct gw_migration *m, const struct gw_op *op)
{
	const char *strategy = option(op->strategy, m ? m->options.strategy : NULL);

	return op->kind == GW_OP_REBUILD_TABLE ||
	       (op->kind == GW_OP_ALTER_COLUMN && strategy && strcmp(strategy, "shadow") == 0);
}

/* What the engines or this version cannot do, refused before anything runs. */
static int refuse(const struct gw_phase_req *req, struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_table_info *t = req->live;

	if (req->m && req->m->options.on_duplicate && strcmp(req->m->options.on_duplicate, "fail")) {
		gw_error_set(err, GW_ERR_UNSUPPORTED,
			     "%s: operation %d (%s): option 'on_duplicate': only \"fail\" is available "
			     "for shadow-table rebuilds",
			     path_of(req), op->index, gw_op_kind_name(op->kind));
		return GW_ERR_UNSUPPORTED;
	}
	if (op->kind == GW_OP_ALTER_COLUMN && (op->up || op->down)) {
		gw_error_set(err, GW_ERR_INPUT,
			     "%s: operation %d (alter_column): field 'up': a shadow rebuild converts "
			     "values as the engine assigns them, with no expression",
			     path_of(req), op->index);
		gw_error_hint(err, "drop \"up\" and \"down\", or use \"strategy\": \"inplace\"");
		return GW_ERR_INPUT;
	}
	if (!t || req->phase != GW_PHASE_EXPAND || req->undo)
		return 0;
	if (req->dialect->id == GW_DIALECT_MYSQL && (t->nfk_in || t->nfk_out)) {
		gw_error_set(err, GW_ERR_UNSUPPORTED,
			     "%s: operation %d (%s): table '%s' %s foreign keys; MariaDB/MySQL bind "
			     "them to the table itself, so a renamed copy would leave them pointing "
			     "at the old table",
			     path_of(req), op->index, gw_op_kind_name(op->kind), op->table,
			     t->nfk_in ? "is referenced by" : "has");
		gw_error_hint(err, "drop the foreign keys in a migration before this one and add them "
				   "back after, or change the table in place");
		return GW_ERR_UNSUPPORTED;
	}
	for (size_t i = 0; i < t->ntriggers; i++) {
		if (req->dialect->id == GW_DIALECT_MYSQL && strncmp(t->triggers[i].name, "_gw_", 4)) {
			gw_error_set(err, GW_ERR_UNSUPPORTED,
				     "%s: operation %d (%s): table '%s' has trigger '%s'; it would "
				     "not follow the table to its rebuild on MariaDB/MySQL",
				     path_of(req), op->index, gw_op_kind_name(op->kind), op->table,
				     t->triggers[i].name);
			gw_error_hint(err, "drop the trigger before the rebuild and create it again after");
			return GW_ERR_UNSUPPORTED;
		}
	}
	{
		struct gw_key k;
		int rc = gw_key_choose(t, &k, err);

		gw_key_release(&k);
		return rc;
	}
}

static bool replication(const struct gw_phase_req *req)
{
	const char *capture = option(req->op->capture, req->m ? req->m->options.capture : NULL);

	return capture && strcmp(capture, "replication") == 0;
}

/* Append a job of kind on the operation's table, by replication when it is so captured. */
static void add_job(struct gw_steps *out, const struct gw_phase_req *req, unsigned flags,
		    enum gw_job_kind kind, char *sql_owned)
{
	gw_steps_add_job(out, flags, kind, req->op->table, sql_owned);
	out->v[out->n - 1].job->replication = replication(req) && kind != GW_JOB_UNSWAP;
}

static void add_sql(struct gw_steps *out, unsigned flags, const struct gw_dialect *d,
		    const char *head, const char *table, const char *tail)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, head);
	d->ident(&b, table);
	gw_buf_puts(&b, tail);
	gw_steps_add(out, flags, gw_buf_detach(&b));
}

static int expand(const struct gw_phase_req *req, const char *shadow, struct gw_steps *out,
		  struct gw_error *err)
{
	const struct gw_op *op = req->op;
	const struct gw_dialect *d = req->dialect;
	bool pg = d->id == GW_DIALECT_POSTGRES;
	struct gw_buf b = GW_BUF_INIT;
	char *record = gw_shadow_name(op->table, "ix");

	/* a record of deferred indexes is trusted only from this expand (copier/indexes.c) */
	add_sql(out, 0, d, "DROP TABLE IF EXISTS ", record, "");
	free(record);
	gw_buf_puts(&b, "CREATE TABLE ");
	d->ident(&b, shadow);
	gw_buf_puts(&b, pg ? " (LIKE " : " LIKE ");
	d->ident(&b, op->table);
	gw_buf_puts(&b, pg ? " INCLUDING ALL)" : "");
	gw_steps_add(out, 0, gw_buf_detach(&b));
	if (op->kind == GW_OP_REBUILD_TABLE) {
		gw_alter_table_prefix(&b, d, shadow);
		gw_buf_puts(&b, op->alter);
		gw_steps_add(out, 0, gw_buf_detach(&b));
	} else {
		struct gw_alter a = {
			.table = shadow,
			.column = op->column_name,
			.type = op->type,
			.nullable = op->nullable,
			.default_expr = op->default_expr,
			.drop_default = op->drop_default,
		};
		int rc = d->alter_column(out, &a, gw_live_column(req, op->column_name), err);

		if (rc < 0)
			return rc;
	}
	if (replication(req)) {
		gw_buf_printf(&b, "-- capture: every change of %s read from the %s and applied to %s",
			      op->table, pg ? "logical replication slot (pgoutput)" : "binlog", shadow);
		add_job(out, req, GW_STEP_NO_TXN, GW_JOB_CAPTURE, gw_buf_detach(&b));
		return 0;
	}
	gw_buf_printf(&b, "-- capture: triggers on %s apply every INSERT, UPDATE and DELETE to %s",
		      op->table, shadow);
	add_job(out, req, GW_STEP_MAY_BLOCK, GW_JOB_CAPTURE, gw_buf_detach(&b));
	return 0;
}

/* Drop a replication capture: its slot, publication and state. */
static void release(const struct gw_phase_req *req, struct gw_steps *out)
{
	if (replication(req))
		add_job(out, req, GW_STEP_NO_TXN, GW_JOB_RELEASE,
			gw_asprintf("-- release the replication capture of %s%s", req->op->table,
				    req->dialect->id == GW_DIALECT_POSTGRES
					    ? ": drop its slot and publication" : ""));
}

static void expand_undo(const struct gw_phase_req *req, const char *shadow,
			struct gw_steps *out)
{
	char *record = gw_shadow_name(req->op->table, "ix");

	release(req, out);
	gw_capture_drop(out, req->dialect, req->op->table, req->op->table, "fwd");
	add_sql(out, 0, req->dialect, "DROP TABLE IF EXISTS ", shadow, "");
	add_sql(out, 0, req->dialect, "DROP TABLE IF EXISTS ", record, "");
	free(record);
}

static void backfill(const struct gw_phase_req *req, const char *shadow, struct gw_steps *out)
{
	const char *t = req->op->table;

	add_job(out, req, GW_STEP_NO_TXN, GW_JOB_COPY,
		gw_asprintf("-- copy: INSERT INTO %s SELECT ... FROM %s in keyset chunks, "
			    "each committed with the checkpoint; secondary indexes that are not "
			    "unique are built after it",
			    shadow, t));
	add_job(out, req, GW_STEP_NO_TXN, GW_JOB_VERIFY,
		gw_asprintf("-- verify: checksum of %s against %s chunk by chunk; a chunk "
			    "that differs is copied again",
			    t, shadow));
	if (req->dialect->id == GW_DIALECT_POSTGRES)
		add_sql(out, 0, req->dialect, "ANALYZE ", shadow, "");
}

/* The swap (or back): lock both tables (PostgreSQL), swap, validate foreign keys. */
static void swap(const struct gw_phase_req *req, bool back, struct gw_steps *out)
{
	const struct gw_dialect *d = req->dialect;
	const char *t = req->op->table;
	char *other = gw_shadow_name(t, back ? "old" : "new");
	char *aside = gw_shadow_name(t, back ? "new" : "old");
	struct gw_buf b = GW_BUF_INIT;

	if (d->id == GW_DIALECT_POSTGRES) {
		gw_buf_puts(&b, "LOCK TABLE ");
		d->ident(&b, t);
		gw_buf_puts(&b, ", ");
		d->ident(&b, other);
		gw_buf_puts(&b, " IN ACCESS EXCLUSIVE MODE");
		gw_steps_add(out, GW_STEP_LOCKED, gw_buf_detach(&b));
		gw_buf_printf(&b, "-- %s: rename %s to %s and %s to %s; move foreign keys (NOT "
				  "VALID), views, triggers, sequences, grants and index names to it; "
				  "capture from %s into %s",
			      back ? "swap back" : "swap", t, aside, other, t, t, aside);
	} else {
		gw_buf_printf(&b, "-- %s: capture from %s into %s; sentry %s; LOCK TABLES; %s"
				  "RENAME TABLE %s TO %s, %s TO %s queued from a second connection; "
				  "drop the sentry; UNLOCK TABLES",
			      back ? "swap back" : "swap", other, t, aside,
			      replication(req) && !back ? "drain the binlog; " : "", t, aside, other, t);
	}
	add_job(out, req, GW_STEP_LOCKED, back ? GW_JOB_UNSWAP : GW_JOB_SWAP, gw_buf_detach(&b));
	if (!back)
		release(req, out);
	if (d->id == GW_DIALECT_POSTGRES)
		add_job(out, req, GW_STEP_NO_TXN, GW_JOB_VALIDATE,
			gw_asprintf("-- validate the foreign keys the swap added NOT VALID"));
	free(other);
	free(aside);
}

int gw_shadow_steps(const struct gw_phase_req *req, struct gw_steps *out, struct gw_error *err)
{
	char *shadow = gw_shadow_name(req->op->table, "new");
	int rc = refuse(req, err);

	if (rc < 0)
		goto out;
	switch (req->phase) {
	case GW_PHASE_EXPAND:
		if (req->undo)
			expand_undo(req, shadow, out);
		else
			rc = expand(req, shadow, out, err);
		break;
	case GW_PHASE_BACKFILL:
		if (!req->undo)
			backfill(req, shadow, out);
		break;
	case GW_PHASE_CONTRACT:
		swap(req, req->undo, out);
		break;
	}
out:
	free(shadow);
	return rc;
}

void gw_shadow_cleanup_steps(const struct gw_dialect *d, const struct gw_op *op,
			     struct gw_steps *out)
{
	char *old = gw_shadow_name(op->table, "old");

	gw_capture_drop(out, d, op->table, op->table, "rev");
	add_sql(out, 0, d, "DROP TABLE IF EXISTS ", old, "");
	free(old);
}
