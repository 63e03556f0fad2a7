/*
 * The state store in the target database (schema "godwit" on PostgreSQL,
 * tables prefixed "godwit_" on MariaDB/MySQL): applied migrations, phase
 * states, operator control rows, an append-only event audit, and the
 * single-runner lock with its holder.
 */
#ifndef GODWIT_STATE_H
#define GODWIT_STATE_H

#include <stddef.h>

#include "godwit/common.h"
#include "godwit/migration.h"
#include "godwit/phase.h"

struct gw_conn;

struct gw_store {
	struct gw_conn *conn;   /* borrowed */
	char who[128];          /* "host:pid", recorded with every change */
	bool locked;            /* this store holds the runner lock */
	bool beats;             /* the heartbeat table is known to exist */
};

/* Borrowed conn must outlive the store. */
void gw_store_init(struct gw_store *s, struct gw_conn *conn);

/*
 * New SQL text: tmpl with {migrations}, {phases}, {control}, {events},
 * {runner}, {heartbeat} replaced by the quoted table names and {now} by the dialect's
 * current timestamp. Caller frees with free().
 */
char *gw_store_sql(const struct gw_store *s, const char *tmpl);

/* Create the store (idempotent): godwit init. */
GW_MUSTCHECK int gw_store_create(struct gw_store *s, struct gw_error *err);
/* GW_ERR_STATE with a hint to run "godwit init" when the store is missing. */
GW_MUSTCHECK int gw_store_check(struct gw_store *s, struct gw_error *err);

/*
 * Take the runner lock for this database. GW_ERR_LOCKED naming the holder
 * (host:pid, since) when another runner has it. Released by unlock or when
 * the session ends (crash).
 */
GW_MUSTCHECK int gw_store_lock(struct gw_store *s, struct gw_error *err);
void gw_store_unlock(struct gw_store *s);

/*
 * Limits an operator set live on a phase (godwit throttle), over the
 * migration file's options: GW_LIMIT_UNSET where none is set, 0 for "no
 * limit". max_lag_ms and max_load throttle the copy; rate is rows/s;
 * chunk_time_ms the chunk target.
 */
struct gw_limits {
	long long rate, chunk_time_ms, max_lag_ms, max_load;
};
#define GW_LIMIT_UNSET (-1)
#define GW_LIMITS_UNSET {GW_LIMIT_UNSET, GW_LIMIT_UNSET, GW_LIMIT_UNSET, GW_LIMIT_UNSET}

/* One migration as the store knows it. */
struct gw_applied {
	char *id;
	char *parents;               /* space-separated */
	char *checksum;
	char *message;
	char *applied_at;
	enum gw_state state[GW_NPHASES];
	char *undo[GW_NPHASES];      /* JSON array of steps recorded when the phase ran, or NULL */
	char *checkpoint[GW_NPHASES];/* phase checkpoint text, or NULL */
	char *error[GW_NPHASES];
	char *updated_at[GW_NPHASES];
	long long rows_done[GW_NPHASES];
	long long rows_total[GW_NPHASES];  /* -1 if unknown */
	char *progress[GW_NPHASES];        /* JSON: rate, chunk, waiting; or NULL */
	char *desired[GW_NPHASES];         /* operator control: "paused", "stop" or NULL */
	struct gw_limits limits[GW_NPHASES];  /* set live by an operator */
};

struct gw_applied_set {
	size_t n;
	struct gw_applied *v;
};
#define GW_APPLIED_SET_INIT {0, NULL}

/* Every migration row with its phases, ordered by applied_at then id. */
GW_MUSTCHECK int gw_store_load(struct gw_store *s, struct gw_applied_set *out,
			       struct gw_error *err);
void gw_applied_set_release(struct gw_applied_set *a);
/* Borrowed record of id, or NULL. */
struct gw_applied *gw_applied_find(const struct gw_applied_set *a, const char *id);
/* True if any phase is not pending or rolled back / if every phase completed. */
bool gw_applied_touched(const struct gw_applied *a);
bool gw_applied_done(const struct gw_applied *a);

/*
 * Record migration m (with its file checksum) and its three pending phase
 * rows if absent; an existing record is left as it is (the runner checks
 * checksums against the files first).
 */
GW_MUSTCHECK int gw_store_record(struct gw_store *s, const struct gw_migration *m,
				 struct gw_error *err);
/* Delete the migration row and its phase rows (events stay). */
GW_MUSTCHECK int gw_store_forget(struct gw_store *s, const char *id, const char *why,
				 struct gw_error *err);

/*
 * Move a phase to state `to`, checking the state machine against the stored
 * state, writing error (may be NULL) and an event with who and detail. When
 * undo is not NULL it replaces the recorded undo steps.
 */
GW_MUSTCHECK int gw_store_transition(struct gw_store *s, const char *id, enum gw_phase p,
				     enum gw_state to, const char *error, const char *undo,
				     const char *detail, struct gw_error *err);
/*
 * Set the checkpoint text of a phase and, unless undo is NULL, its recorded
 * reverse steps (part of the caller's transaction if any).
 */
GW_MUSTCHECK int gw_store_checkpoint(struct gw_store *s, const char *id, enum gw_phase p,
				     const char *checkpoint, const char *undo,
				     struct gw_error *err);
/* Progress of a phase, recorded with its checkpoint. */
struct gw_progress {
	long long rows_done;
	long long rows_total;   /* -1 if unknown */
	const char *json;       /* {"rate":..., "chunk":..., "waiting":...} or NULL */
};

/*
 * As gw_store_checkpoint, NULL leaving a field as it is, with progress pr
 * (may be NULL). Also refreshes the heartbeat.
 */
GW_MUSTCHECK int gw_store_progress(struct gw_store *s, const char *id, enum gw_phase p,
				   const char *checkpoint, const char *undo,
				   const struct gw_progress *pr, struct gw_error *err);

/*
 * Operator control: set the desired state of a phase ("paused", "stop",
 * or NULL for none), and read it (out "" when none).
 */
GW_MUSTCHECK int gw_store_control(struct gw_store *s, const char *id, enum gw_phase p,
				  const char *desired, struct gw_error *err);
GW_MUSTCHECK int gw_store_desired(struct gw_store *s, const char *id, enum gw_phase p,
				  char *out, size_t outsz, struct gw_limits *limits,
				  struct gw_error *err);
/*
 * Set the live limits of a phase: each field of l that is >= 0 is set,
 * GW_LIMIT_UNSET leaves it as it is; clear drops them all first (back to
 * the file's options).
 */
GW_MUSTCHECK int gw_store_set_limits(struct gw_store *s, const char *id, enum gw_phase p,
				     const struct gw_limits *l, bool clear, struct gw_error *err);

/*
 * godwit's heartbeat: the time of this write (µs since the epoch), which
 * replicas read back to measure their lag (see godwit/throttle.h).
 */
GW_MUSTCHECK int gw_store_beat(struct gw_store *s, long long ts_us, struct gw_error *err);

/* Append an event. */
GW_MUSTCHECK int gw_store_event(struct gw_store *s, const char *id, int phase,
				const char *from, const char *to, const char *detail,
				struct gw_error *err);

#endif
