/*
 * The revision graph: a DAG of migrations with Alembic's semantics (base,
 * heads, branches, merges) and the targets that name a place in it.
 */
#ifndef GODWIT_GRAPH_H
#define GODWIT_GRAPH_H

#include <stddef.h>

#include "godwit/common.h"
#include "godwit/migration.h"

struct gw_graph {
	size_t n;
	const struct gw_migration **node; /* borrowed from the set; topological order */
	size_t *nparents;                 /* per node */
	size_t **parents;                 /* per node: indices into node[] */
	size_t *nchildren;
	size_t **children;
};
#define GW_GRAPH_INIT {0, NULL, NULL, NULL, NULL, NULL}

/*
 * Build from set (which must outlive g). Node order is topological, ties
 * broken by file order. Fails with GW_ERR_GRAPH naming the file for an
 * unknown parent, a parent listed twice, or a cycle.
 */
GW_MUSTCHECK int gw_graph_build(const struct gw_migration_set *set, struct gw_graph *g,
				struct gw_error *err);
void gw_graph_release(struct gw_graph *g);

/*
 * Index of the node whose id is text or starts with text (a unique prefix).
 * GW_ERR_GRAPH if none or ambiguous (the message lists candidates).
 */
GW_MUSTCHECK int gw_graph_find(const struct gw_graph *g, const char *text, size_t *idx,
			       struct gw_error *err);

/* Nodes without children / without parents, in node order; out has g->n slots. */
size_t gw_graph_heads(const struct gw_graph *g, size_t *out);
size_t gw_graph_bases(const struct gw_graph *g, size_t *out);
/* True if a is b or an ancestor of b. */
bool gw_graph_reaches(const struct gw_graph *g, size_t a, size_t b);

enum gw_target_kind {
	GW_TARGET_HEAD,      /* "head": the single head (refused if several) */
	GW_TARGET_HEADS,     /* "heads": every head */
	GW_TARGET_BASE,      /* "base": before the first */
	GW_TARGET_REV,       /* an id or unique prefix */
	GW_TARGET_RELATIVE,  /* "+N" or "-N" */
};

struct gw_target {
	enum gw_target_kind kind;
	size_t rev;      /* GW_TARGET_REV: node index */
	int relative;    /* GW_TARGET_RELATIVE: +N or -N, never 0 */
	int phase;       /* enum gw_phase after ":PHASE", -1 if none */
};

/* Parse "head", "heads", "base", "+N", "-N", "REV", "REV:PHASE". */
GW_MUSTCHECK int gw_target_parse(const struct gw_graph *g, const char *text,
				 struct gw_target *t, struct gw_error *err);

/*
 * Nodes to run forward to reach t, in topological order, into out (g->n
 * slots); *n gets the count. done[i] says node i has every phase completed.
 * A node in the list may be partly applied; the runner runs what remains.
 */
GW_MUSTCHECK int gw_graph_upgrade(const struct gw_graph *g, const bool *done,
				  const struct gw_target *t, size_t *out, size_t *n,
				  struct gw_error *err);

/*
 * Nodes to roll back to reach t, children before parents, into out (g->n
 * slots). touched[i] says node i has any phase not pending or rolled back.
 * For GW_TARGET_REV the node itself is kept (its later phases are the
 * runner's business when t->phase is set).
 */
GW_MUSTCHECK int gw_graph_downgrade(const struct gw_graph *g, const bool *touched,
				    const struct gw_target *t, size_t *out, size_t *n,
				    struct gw_error *err);

#endif
