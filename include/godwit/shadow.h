/*
 * Shadow-table rebuilds. The table t is rebuilt as "_gw_t_new" with the new
 * definition; triggers on t apply every write to it in the same transaction
 * (capture); the copier fills it in keyset chunks (copy); a checksum pass
 * compares both chunk by chunk, re-copying what differs (verify); cut-over
 * renames t to "_gw_t_old" and the shadow to t, and triggers on the new t
 * keep the old table in sync in reverse until cleanup, so that the swap can
 * be undone without losing a write.
 *
 * Rows are identified by a key unique and NOT NULL in both tables (the
 * primary key, usually); an UPDATE of it is a delete and an insert.
 */
#ifndef GODWIT_SHADOW_H
#define GODWIT_SHADOW_H

#include "godwit/common.h"
#include "godwit/copier.h"
#include "godwit/phase.h"

struct gw_conn;
struct gw_dialect;

/*
 * "_gw_<table>_<kind>" (new): kind "new" (the shadow), "old" (the table
 * kept after cut-over), "fwd"/"rev" (PostgreSQL capture function and
 * trigger), "fwd_ins", "rev_upd"... (MariaDB/MySQL triggers). Long table
 * names are cut and hashed so that the name fits the engines' limits.
 */
char *gw_shadow_name(const char *table, const char *kind);

/*
 * True when op is done by a shadow-table rebuild: rebuild_table, and
 * alter_column with strategy "shadow" (of the operation or the migration).
 */
bool gw_shadow(const struct gw_migration *m, const struct gw_op *op);

/* What "godwit cleanup" runs for op once its contract is done: drop the old table and its capture. */
void gw_shadow_cleanup_steps(const struct gw_dialect *d, const struct gw_op *op,
			     struct gw_steps *out);

/*
 * The shadow's secondary indexes that are not unique are built after the
 * copy, by sorting, instead of row by row during it (copier/indexes.c).
 * Defer (expand, before the capture): the statements that record their
 * definitions in "_gw_<t>_ix" and drop them; after an interruption, those
 * that drop what is still there. Build (after the copy): create those
 * missing (online: without blocking writes to the shadow, which trigger
 * capture makes), then drop the record. Nothing to do, nothing done.
 */
GW_MUSTCHECK int gw_shadow_defer_sql(struct gw_conn *c, const char *table, struct gw_steps *out,
				     struct gw_error *err);
GW_MUSTCHECK int gw_shadow_build_indexes(struct gw_conn *c, const char *table, bool online,
					 struct gw_error *err);

/* How the rows of table from map onto table to. */
struct gw_shadow_map {
	char *schema;          /* PostgreSQL: schema of both, to qualify names in triggers */
	char *from, *to;
	size_t ncols;
	char **cols;           /* columns in both tables and not generated in to */
	char **to_types;       /* their types in to */
	struct gw_key key;     /* identifies rows in both; chunks walk it in from */
	char *to_key_index;    /* the index of to on the key */
	bool converts;         /* some column changes type: values convert on the way */
	/*
	 * The key's columns keep their type (or stay integers): a range of it
	 * holds the same rows in both. (A change of collation alone is not
	 * seen, and would make the checksums of verify differ too.)
	 */
	bool key_ordered;
};

/*
 * Describe both tables and map from onto to. GW_ERR_INPUT naming both
 * tables when they share no usable key or no column.
 */
GW_MUSTCHECK int gw_shadow_map_resolve(struct gw_conn *c, const char *from, const char *to,
				       struct gw_shadow_map *map, struct gw_error *err);
void gw_shadow_map_release(struct gw_shadow_map *map);

/*
 * Capture triggers (triggers/capture.c), pure: apply each INSERT, UPDATE
 * and DELETE on map->from to map->to, named for table and dir ("fwd" or
 * "rev"). On MariaDB/MySQL a missing map->to is ignored, so that the
 * triggers of both directions can stay in place across a swap (RENAME is
 * the only atomic step there); on PostgreSQL the swap replaces them in its
 * transaction.
 */
void gw_capture_create(struct gw_steps *out, const struct gw_dialect *d,
		       const struct gw_shadow_map *map, const char *table, const char *dir);
/* Drop them (IF EXISTS); on is the table they are on (PostgreSQL needs it). */
void gw_capture_drop(struct gw_steps *out, const struct gw_dialect *d, const char *on,
		     const char *table, const char *dir);

/*
 * Checksum of the rows of a key range (copier/verify.c), pure: "SELECT
 * count, checksum FROM table WHERE <range>" over map's columns converted
 * to to's types, so that from and to give the same result when in sync.
 * range is appended as is (may be empty).
 */
char *gw_checksum_sql(const struct gw_dialect *d, const struct gw_shadow_map *map, bool to_side,
		      const char *range);

/*
 * The copier's shadow jobs (copier/). Copy: INSERT ... SELECT in chunks,
 * each committed with its checkpoint; a row the triggers wrote already is
 * left as it is; any other conflict (a duplicate on a new unique key) or
 * conversion warning stops the copy, naming the row. Verify: the checksum
 * of each chunk of from against to in one snapshot; with repair, a chunk
 * that differs is copied again and checked again, a few times, then it
 * fails; without, it is only counted. *differed: chunks found different.
 */
GW_MUSTCHECK int gw_copy_run(struct gw_conn *c, const struct gw_shadow_map *map,
			     const char *resume, long long rows_total, double target_ms,
			     const struct gw_fill_hooks *h, struct gw_error *err);
GW_MUSTCHECK int gw_verify_run(struct gw_conn *c, const struct gw_shadow_map *map, bool repair,
			       const char *resume, long long rows_total, double target_ms,
			       const struct gw_fill_hooks *h, long *differed, struct gw_error *err);

/*
 * The statements of a job of kind capture, swap, unswap or validate, built
 * from the tables as they are now (phases/cutover.c). Run in order, as one
 * unit; PostgreSQL swaps run in the caller's transaction, after the step
 * that locks both tables.
 */
GW_MUSTCHECK int gw_shadow_job_sql(struct gw_conn *c, const struct gw_job *job,
				   struct gw_steps *out, struct gw_error *err);

/*
 * A MariaDB/MySQL swap or swap back (job), with a sentry: the table kept
 * aside is first created empty; under LOCK TABLES of the three tables the
 * capture cap is drained (NULL with triggers), a RENAME from a second
 * connection (from url) queues behind the lock, the sentry is dropped and
 * the lock released, so that the RENAME goes before the writes waiting
 * for the table. If godwit dies holding the lock, the sentry stays and
 * the RENAME fails: nothing swaps. *blocked_ms: how long writes waited
 * (-1 when it had swapped before an interruption).
 */
struct gw_capture;
GW_MUSTCHECK int gw_shadow_cutover_mysql(struct gw_conn *c, const char *url,
					 const struct gw_job *job, struct gw_capture *cap,
					 double *blocked_ms, struct gw_error *err);

#endif
