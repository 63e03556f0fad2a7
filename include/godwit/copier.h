/*
 * The copier: runs a fill (an UPDATE over a whole table) in keyset chunks
 * over the table's primary key, or a NOT NULL unique key when there is no
 * primary key. Each chunk commits together with its checkpoint, so a crash
 * at any instant resumes after the last committed chunk. The chunk size
 * adapts to a target time per chunk.
 *
 * The range to fill is fixed when the fill starts: from the first key to
 * the largest key present then. Rows inserted later are filled by the
 * triggers installed in expand, which is why the fill ends under any
 * insert load.
 */
#ifndef GODWIT_COPIER_H
#define GODWIT_COPIER_H

#include "godwit/buf.h"
#include "godwit/common.h"
#include "godwit/phase.h"

struct gw_conn;
struct gw_dialect;
struct gw_table_info;
struct gw_index_info;

/* The key chunks are ranges of: column names and whether each is an integer. */
struct gw_key {
	size_t n;
	char **cols;
	bool *integer;
	char *index;     /* the index it comes from ("PRIMARY", "users_pkey") */
};

/*
 * Pick the key of t: the primary key, else the first unique index whose
 * columns are all NOT NULL. GW_ERR_INPUT naming the table when neither
 * exists.
 */
GW_MUSTCHECK int gw_key_choose(const struct gw_table_info *t, struct gw_key *k,
			       struct gw_error *err);
void gw_key_release(struct gw_key *k);
/* A deep copy of from into to. */
void gw_key_copy(struct gw_key *to, const struct gw_key *from);
/* True if index ix of t can identify rows: unique, on NOT NULL columns only. */
bool gw_key_usable(const struct gw_table_info *t, const struct gw_index_info *ix);
/* The key of index ix of t. */
void gw_key_from_index(const struct gw_table_info *t, const struct gw_index_info *ix,
		       struct gw_key *k);
/* An integer type of either engine ("int", "bigint(20) unsigned", "integer"...). */
bool gw_integer_type(const char *type);

/* Adaptive chunk size: rows per chunk aiming at target_ms per chunk. */
struct gw_chunker {
	long size;          /* rows in the next chunk */
	long min, max;
	double target_ms;
};
#define GW_CHUNK_MIN 10
#define GW_CHUNK_MAX 200000
#define GW_CHUNK_FIRST 1000

void gw_chunker_init(struct gw_chunker *c, double target_ms);
/*
 * After a chunk of rows that took ms: aim at the observed rate times the
 * target, at most doubling; a slow chunk (over the target) shrinks at once.
 */
void gw_chunker_update(struct gw_chunker *c, long rows, double ms);

/*
 * A key tuple as text values (from the server), n of them. NULL values
 * cannot occur: key columns are NOT NULL.
 */
struct gw_keyval {
	size_t n;
	char **v;
};

/*
 * Append "key > lo" (strict) or "key <= hi" (!strict) to b for dialect d.
 * Integer key values are written inline; others become parameters $k,
 * $k+1, ..., appended to params (borrowed pointers into v).
 */
void gw_keyset_cond(struct gw_buf *b, const struct gw_dialect *d, const struct gw_key *k,
		    const struct gw_keyval *v, bool strict, int *nparams,
		    const char **params);

/* "SELECT k1, k2 FROM t ORDER BY k1 [DESC], k2 [DESC] LIMIT 1" */
char *gw_keyset_edge_sql(const struct gw_dialect *d, const char *table, const struct gw_key *k,
			 bool last);

/* Progress of a fill, reported to the hooks. */
struct gw_fill_progress {
	long long rows_done;    /* rows the fill has gone past */
	long long rows_total;   /* estimate, -1 if unknown */
	long chunk;             /* rows in the next chunk */
	double rows_per_s;      /* recent rate */
	double last_ms;         /* time of the last chunk */
	long retries;           /* chunks retried after lock timeouts or deadlocks */
	/* set by before_chunk, for the next chunk: */
	double target_ms;       /* a new target time per chunk, 0 to keep it */
	long max_chunk;         /* at most this many rows (a rate limit), 0 no cap */
};

struct gw_fill_hooks {
	void *arg;
	/*
	 * Before each chunk: 0 to go on; GW_ERR_INTERRUPTED to stop. May wait
	 * (paused, throttled) before returning, and set p's target_ms and
	 * max_chunk.
	 */
	int (*before_chunk)(void *arg, struct gw_fill_progress *p, struct gw_error *err);
	/* Inside the chunk's transaction: record ckpt (JSON text) and p. */
	int (*checkpoint)(void *arg, const char *ckpt, const struct gw_fill_progress *p,
			  struct gw_error *err);
	/*
	 * Replication capture (NULL with triggers, which are synchronous):
	 * apply every change committed so far to the shadow. A verify calls
	 * it before comparing a chunk that differed once more.
	 */
	int (*sync)(void *arg, struct gw_error *err);
	/*
	 * Replication capture: block writes to the table and apply every
	 * change committed before (on), in a transaction (PostgreSQL) or
	 * under LOCK TABLES (MariaDB/MySQL) that the caller's queries then run
	 * in; end it (!on). A verify compares a chunk that keeps differing so,
	 * with both tables at the same point.
	 */
	int (*freeze)(void *arg, bool on, struct gw_error *err);
};

/*
 * Run fill f on c in chunks. resume is the checkpoint text a previous run
 * recorded, or NULL to start; rows_total the estimate for progress (-1).
 * Returns 0 when the whole range is filled.
 */
GW_MUSTCHECK int gw_fill_run(struct gw_conn *c, const struct gw_fill *f, const char *resume,
			     long long rows_total, double target_ms,
			     const struct gw_fill_hooks *h, struct gw_error *err);

#endif
