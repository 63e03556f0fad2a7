/*
 * The walk shared by the copier's jobs (fill, copy, verify): a table is
 * walked by a key in chunks, from the first key to the last key present
 * when the walk started; each chunk's work commits with its checkpoint.
 */
#ifndef GODWIT_COPIER_INT_H
#define GODWIT_COPIER_INT_H

#include "godwit/buf.h"
#include "godwit/copier.h"

struct gw_walk;

/*
 * The work of one chunk: rows with lo < key <= end (end NULL: no upper
 * bound). It commits its work together with h->checkpoint of the text
 * gw_walk_checkpoint(w, end).
 */
typedef int gw_walk_chunk_fn(struct gw_walk *w, const struct gw_keyval *end,
			     const struct gw_fill_hooks *h, struct gw_error *err);

struct gw_walk {
	struct gw_conn *c;
	const struct gw_dialect *d;
	const char *table;          /* walked */
	struct gw_key key;          /* owned */
	struct gw_keyval lo, hi;    /* lo.n == 0: from the first key */
	struct gw_chunker chunker;
	struct gw_fill_progress p;
	bool open_end;              /* the last chunk has no upper bound */
	gw_walk_chunk_fn *chunk;
	void *arg;                  /* the job's own state */
};

/* Set up w to walk table by key (moved into w) on c. */
void gw_walk_init(struct gw_walk *w, struct gw_conn *c, const char *table, struct gw_key *key,
		  long long rows_total, double target_ms);
/* Run the walk from resume (a checkpoint text, or NULL); 0 when the whole range is done. */
GW_MUSTCHECK int gw_walk_run(struct gw_walk *w, const char *resume,
			     const struct gw_fill_hooks *h, struct gw_error *err);
void gw_walk_release(struct gw_walk *w);

/* Append " WHERE <lo < key> AND <key <= end>" with its parameters (params: 4 * key.n). */
void gw_walk_range(struct gw_buf *b, const struct gw_walk *w, const struct gw_keyval *end,
		   int *np, const char **params);
/* The checkpoint text once rows up to end are done. */
char *gw_walk_checkpoint(struct gw_walk *w, const struct gw_keyval *end);

/*
 * Run first (if any) and sql, both with params, then h->checkpoint, in one
 * transaction, rolled back on failure.
 */
GW_MUSTCHECK int gw_walk_commit(struct gw_walk *w, const char *first, const char *sql, int np,
				const char *const *params, const struct gw_keyval *end,
				const struct gw_fill_hooks *h,
				int (*check)(struct gw_walk *w, struct gw_error *err),
				struct gw_error *err);

#endif
