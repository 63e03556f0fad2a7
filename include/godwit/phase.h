/*
 * Phases and their states, and the steps (SQL statements) each phase runs
 * per operation, forward and in reverse. Steps are pure: built from the
 * operation, the dialect and, when connected, the live table.
 */
#ifndef GODWIT_PHASE_H
#define GODWIT_PHASE_H

#include <stddef.h>

#include "godwit/common.h"
#include "godwit/migration.h"

struct gw_dialect;
struct gw_table_info;

enum gw_phase {
	GW_PHASE_EXPAND = 0,
	GW_PHASE_BACKFILL = 1,
	GW_PHASE_CONTRACT = 2,
};
#define GW_NPHASES 3

enum gw_state {
	GW_STATE_PENDING = 0,
	GW_STATE_RUNNING,
	GW_STATE_PAUSED,
	GW_STATE_COMPLETED,
	GW_STATE_FAILED,
	GW_STATE_ROLLED_BACK,
};
#define GW_NSTATES 6

/* Borrowed static names; NULL if out of range. */
const char *gw_phase_name(int phase);
const char *gw_state_name(int state);
/* Index of a name, or -1. */
int gw_phase_parse(const char *s);
int gw_state_parse(const char *s);

/*
 * The state machine of one phase: true if from -> to is allowed. The rules
 * across phases (previous completed before starting; later ones pending or
 * rolled back before rolling back) are gw_phase_may_start/_may_rollback.
 */
bool gw_state_transition_ok(enum gw_state from, enum gw_state to);
/* states[GW_NPHASES] of one migration. */
bool gw_phase_may_start(const enum gw_state *states, enum gw_phase p);
bool gw_phase_may_rollback(const enum gw_state *states, enum gw_phase p);

enum {
	GW_STEP_NO_TXN = 1 << 0,    /* must run outside a transaction (CONCURRENTLY) */
	GW_STEP_MAY_BLOCK = 1 << 1, /* takes a lock that blocks writes while it runs */
	GW_STEP_LOCKED = 1 << 2,    /* part of a LOCK TABLES ... UNLOCK TABLES group, run
				       and checkpointed as one unit (MariaDB/MySQL) */
};

/*
 * A fill: "UPDATE table SET set [WHERE where]" that the copier runs in
 * keyset chunks, each chunk committed with the phase checkpoint.
 */
struct gw_fill {
	char *table;
	char *set;       /* rendered assignments: "`b` = (`a`)" */
	char *where;     /* extra condition, NULL if none */
	char *mode;      /* NULL: godwit's triggers let the fill through; "down":
			    they fill the old column from the new (see triggers.h) */
};

/*
 * A job: work on a shadow table whose SQL depends on the tables as they are
 * when it runs (the shadow is made by an earlier step), so it is built then
 * by the runner. See shadow.h.
 */
enum gw_job_kind {
	GW_JOB_CAPTURE,   /* triggers copying each write of table into its shadow */
	GW_JOB_COPY,      /* chunked copy of table into its shadow */
	GW_JOB_VERIFY,    /* checksum of table against its shadow, re-copying what differs */
	GW_JOB_SWAP,      /* cut-over: the shadow becomes table, table is kept as old */
	GW_JOB_UNSWAP,    /* its reverse */
	GW_JOB_VALIDATE,  /* validate the foreign keys a swap added NOT VALID (PostgreSQL) */
	GW_JOB_RELEASE,   /* drop the replication capture of table (stream.h) */
};
#define GW_NJOBS 7

struct gw_job {
	enum gw_job_kind kind;
	char *table;             /* the application's table */
	bool replication;        /* capture by replication (stream.h), not triggers */
};

/* Borrowed static name of a job kind ("copy"), or NULL; index of a name, or -1. */
const char *gw_job_name(int kind);
int gw_job_parse(const char *s);

struct gw_step {
	char *sql;              /* owned; for a fill or job, what it does, for display */
	unsigned flags;         /* GW_STEP_* */
	struct gw_fill *fill;   /* owned, NULL for a plain statement */
	struct gw_job *job;     /* owned, NULL unless a job */
	/*
	 * Owned, may be NULL: a query that gives 1 once the statement has
	 * taken effect. A resumed run skips the statement then: a statement
	 * that cannot run twice may have been applied by the server after
	 * godwit died waiting for it (DDL on MariaDB is not transactional).
	 */
	char *done_if;
};

struct gw_steps {
	size_t n, cap;
	struct gw_step *v;
};
#define GW_STEPS_INIT {0, 0, NULL}

void gw_steps_add(struct gw_steps *s, unsigned flags, char *sql_owned);
/* Append a fill of table: set (n assignments) where rows match where (may be NULL). */
void gw_steps_add_fill(struct gw_steps *s, const struct gw_dialect *d, const char *table,
		       size_t n, const struct gw_assign *set, const char *where);
/* New fill of its parts (copied; where and mode may be NULL). */
struct gw_fill *gw_fill_new(const char *table, const char *set, const char *where,
			    const char *mode);
/* Append a fill given its parts (copied), as stored. */
void gw_steps_add_fill_raw(struct gw_steps *s, const struct gw_dialect *d, const char *table,
			   const char *set, const char *where, const char *mode);
/* Append job kind on table, sql saying what it does (owned). */
void gw_steps_add_job(struct gw_steps *s, unsigned flags, enum gw_job_kind kind,
		      const char *table, char *sql_owned);
/* Move every step of from to the end of to; from is left empty. */
void gw_steps_append(struct gw_steps *to, struct gw_steps *from);
void gw_steps_release(struct gw_steps *s);

/*
 * What one phase does for one operation. live is the operation's table as
 * introspected now (NULL when offline: the steps then describe what will be
 * decided at run time). undo asks for the reverse of the phase, computed
 * from the same pre-state, so that the runner can store it with the forward
 * run. GW_ERR_NO_INVERSE when undo is asked and the operation has no safe
 * inverse and no "down"; GW_ERR_UNSUPPORTED when the engine cannot do it.
 */
struct gw_phase_req {
	enum gw_phase phase;
	bool undo;
	const struct gw_migration *m;
	const struct gw_op *op;
	const struct gw_dialect *dialect;
	const struct gw_table_info *live;
};

GW_MUSTCHECK int gw_phase_steps(const struct gw_phase_req *req, struct gw_steps *out,
				struct gw_error *err);

/* The per-phase builders behind gw_phase_steps, one file each in phases/. */
GW_MUSTCHECK int gw_expand_steps(const struct gw_phase_req *req, struct gw_steps *out,
				 struct gw_error *err);
GW_MUSTCHECK int gw_backfill_steps(const struct gw_phase_req *req, struct gw_steps *out,
				   struct gw_error *err);
GW_MUSTCHECK int gw_contract_steps(const struct gw_phase_req *req, struct gw_steps *out,
				   struct gw_error *err);

#endif
