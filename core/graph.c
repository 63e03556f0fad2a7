/*
 * The revision graph: migrations as a DAG in topological order, lookup by
 * id or prefix, and the targets that upgrade and downgrade walk towards.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/graph.h"
#include "godwit/phase.h"

/* At most this many ids are named in one message (msg holds 256 bytes). */
#define MAX_LISTED 8

/* One entry of the id -> file index map used while building. */
struct id_ent {
	const char *id;
	size_t idx; /* index in set->v */
};

static int id_ent_cmp(const void *a, const void *b)
{
	const struct id_ent *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static const char *path_of(const struct gw_migration *m)
{
	return m->path ? m->path : "(no file)";
}

static const char *id_of(const struct gw_migration *m)
{
	return m->id ? m->id : "";
}

/* A binary min-heap of file indices: the ready nodes of Kahn's algorithm. */
struct heap {
	size_t n;
	size_t *v;
};

static void heap_push(struct heap *h, size_t x)
{
	size_t i = h->n++;

	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (h->v[up] <= x)
			break;
		h->v[i] = h->v[up];
		i = up;
	}
	h->v[i] = x;
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0];
	size_t last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (last <= h->v[c])
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/*
 * Name one cycle among the nodes Kahn's algorithm could not place. Each
 * such node has at least one unplaced parent, so walking unplaced parents
 * must come back to a node already seen; that loop is the cycle. It is
 * listed parent before child, starting at its lowest file index.
 */
static int report_cycle(const struct gw_migration_set *set, size_t **fparents,
			const size_t *nfparents, const bool *placed, struct gw_error *err)
{
	size_t *seen_at = NULL; /* per file index: step + 1 of the walk, 0 if not seen */
	size_t *walk = NULL;
	size_t nwalk = 0, start = 0, first, lo, i;
	struct gw_buf list = GW_BUF_INIT;
	int rc;

	seen_at = gw_calloc(set->n, sizeof(*seen_at));
	walk = gw_calloc(set->n + 1, sizeof(*walk));
	while (placed[start])
		start++;
	for (i = start; seen_at[i] == 0;) {
		size_t k;

		walk[nwalk++] = i;
		seen_at[i] = nwalk;
		for (k = 0; k < nfparents[i]; k++)
			if (!placed[fparents[i][k]])
				break;
		gw_assert(k < nfparents[i]);
		i = fparents[i][k];
	}
	/* walk[first..nwalk) is the cycle, child before parent */
	first = seen_at[i] - 1;
	lo = first;
	for (i = first; i < nwalk; i++)
		if (walk[i] < walk[lo])
			lo = i;
	for (i = 0; i < nwalk - first; i++) {
		/* from lo backwards through the walk: parent before child */
		size_t pos = first + (lo - first + (nwalk - first) - i) % (nwalk - first);

		if (i == MAX_LISTED) {
			gw_buf_printf(&list, ", ...");
			break;
		}
		gw_buf_printf(&list, "%s'%s'", i ? ", " : "", id_of(&set->v[walk[pos]]));
	}
	rc = gw_error_set(err, GW_ERR_GRAPH, "%s: revision graph has a cycle through %s",
			  path_of(&set->v[walk[lo]]), list.data);
	gw_error_hint(err, "a revision cannot be its own ancestor: fix the parents lists");
	gw_buf_release(&list);
	free(walk);
	free(seen_at);
	return rc;
}

/*
 * Resolve every parents list to file indices. Fills fparents/nfparents
 * (per file index) and fchildren counts; fails on an unknown or repeated
 * parent and on a duplicate id.
 */
static int resolve_parents(const struct gw_migration_set *set, size_t **fparents,
			   size_t *nfparents, size_t *indeg, struct gw_error *err)
{
	struct id_ent *map = NULL;
	size_t i, k, j;
	int rc = 0;

	if (set->n == 0)
		return 0;
	map = gw_malloc(set->n * sizeof(*map));
	for (i = 0; i < set->n; i++) {
		map[i].id = id_of(&set->v[i]);
		map[i].idx = i;
	}
	qsort(map, set->n, sizeof(*map), id_ent_cmp);
	for (i = 1; i < set->n; i++) {
		if (strcmp(map[i - 1].id, map[i].id) == 0) {
			size_t a = map[i - 1].idx < map[i].idx ? map[i - 1].idx : map[i].idx;
			size_t b = map[i - 1].idx < map[i].idx ? map[i].idx : map[i - 1].idx;

			rc = gw_error_set(err, GW_ERR_GRAPH, "%s: revision '%s' is also defined in %s",
					  path_of(&set->v[b]), map[i].id, path_of(&set->v[a]));
			goto out;
		}
	}
	for (i = 0; i < set->n; i++) {
		const struct gw_migration *m = &set->v[i];

		nfparents[i] = m->nparents;
		if (m->nparents == 0)
			continue;
		fparents[i] = gw_malloc(m->nparents * sizeof(**fparents));
		for (k = 0; k < m->nparents; k++) {
			struct id_ent key = {m->parents[k] ? m->parents[k] : "", 0};
			const struct id_ent *hit;

			for (j = 0; j < k; j++) {
				if (m->parents[j] && m->parents[k] &&
				    strcmp(m->parents[j], m->parents[k]) == 0) {
					rc = gw_error_set(err, GW_ERR_GRAPH,
							  "%s: parent '%s' of '%s' is listed twice",
							  path_of(m), key.id, id_of(m));
					goto out;
				}
			}
			hit = bsearch(&key, map, set->n, sizeof(*map), id_ent_cmp);
			if (!hit) {
				rc = gw_error_set(err, GW_ERR_GRAPH,
						  "%s: parent '%s' of '%s' does not exist", path_of(m),
						  key.id, id_of(m));
				gw_error_hint(err, "fix the parents list or restore the missing file");
				goto out;
			}
			fparents[i][k] = hit->idx;
			indeg[i]++;
		}
	}
out:
	free(map);
	return rc;
}

int gw_graph_build(const struct gw_migration_set *set, struct gw_graph *g, struct gw_error *err)
{
	size_t **fparents = NULL; /* per file index: parents as file indices */
	size_t *nfparents = NULL;
	size_t *indeg = NULL;     /* per file index: parents not yet placed */
	size_t *pos = NULL;       /* per file index: node index once placed */
	size_t **fchildren = NULL;
	size_t *nfchildren = NULL;
	bool *placed = NULL;
	struct heap ready = {0, NULL};
	size_t n = set->n, i, k, done = 0;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	if (n == 0)
		return 0;
	fparents = gw_calloc(n, sizeof(*fparents));
	nfparents = gw_calloc(n, sizeof(*nfparents));
	indeg = gw_calloc(n, sizeof(*indeg));
	rc = resolve_parents(set, fparents, nfparents, indeg, err);
	if (rc)
		goto out;

	/* children per file index, in file order, for Kahn's algorithm */
	nfchildren = gw_calloc(n, sizeof(*nfchildren));
	fchildren = gw_calloc(n, sizeof(*fchildren));
	for (i = 0; i < n; i++)
		for (k = 0; k < nfparents[i]; k++)
			nfchildren[fparents[i][k]]++;
	for (i = 0; i < n; i++) {
		if (nfchildren[i])
			fchildren[i] = gw_malloc(nfchildren[i] * sizeof(**fchildren));
		nfchildren[i] = 0;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < nfparents[i]; k++) {
			size_t p = fparents[i][k];

			fchildren[p][nfchildren[p]++] = i;
		}

	/* Kahn's algorithm, always taking the lowest file index that is ready */
	g->node = gw_calloc(n, sizeof(*g->node));
	pos = gw_calloc(n, sizeof(*pos));
	placed = gw_calloc(n, sizeof(*placed));
	ready.v = gw_malloc(n * sizeof(*ready.v));
	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			heap_push(&ready, i);
	while (ready.n > 0) {
		size_t f = heap_pop(&ready);

		placed[f] = true;
		pos[f] = done;
		g->node[done++] = &set->v[f];
		for (k = 0; k < nfchildren[f]; k++)
			if (--indeg[fchildren[f][k]] == 0)
				heap_push(&ready, fchildren[f][k]);
	}
	if (done < n) {
		rc = report_cycle(set, fparents, nfparents, placed, err);
		goto out;
	}

	/* edges as node indices: parents in file order, children in node order */
	g->n = n;
	g->nparents = gw_calloc(n, sizeof(*g->nparents));
	g->parents = gw_calloc(n, sizeof(*g->parents));
	g->nchildren = gw_calloc(n, sizeof(*g->nchildren));
	g->children = gw_calloc(n, sizeof(*g->children));
	for (i = 0; i < n; i++) {
		size_t at = pos[i];

		g->nparents[at] = nfparents[i];
		if (nfparents[i])
			g->parents[at] = gw_malloc(nfparents[i] * sizeof(**g->parents));
		for (k = 0; k < nfparents[i]; k++)
			g->parents[at][k] = pos[fparents[i][k]];
		if (nfchildren[i])
			g->children[at] = gw_malloc(nfchildren[i] * sizeof(**g->children));
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < g->nparents[i]; k++) {
			size_t p = g->parents[i][k];

			g->children[p][g->nchildren[p]++] = i;
		}
out:
	if (rc)
		gw_graph_release(g);
	free(ready.v);
	free(placed);
	free(pos);
	if (fchildren)
		for (i = 0; i < n; i++)
			free(fchildren[i]);
	free(fchildren);
	free(nfchildren);
	free(indeg);
	for (i = 0; i < n; i++)
		free(fparents[i]);
	free(fparents);
	free(nfparents);
	return rc;
}

void gw_graph_release(struct gw_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n; i++) {
		if (g->parents)
			free(g->parents[i]);
		if (g->children)
			free(g->children[i]);
	}
	free(g->node);
	free(g->nparents);
	free(g->parents);
	free(g->nchildren);
	free(g->children);
	memset(g, 0, sizeof(*g));
}

int gw_graph_find(const struct gw_graph *g, const char *text, size_t *idx, struct gw_error *err)
{
	struct gw_buf list = GW_BUF_INIT;
	size_t i, len, nmatch = 0, match = 0;
	int rc = 0;

	if (!text || !*text)
		return gw_error_set(err, GW_ERR_GRAPH, "empty revision");
	for (i = 0; i < g->n; i++) {
		if (strcmp(id_of(g->node[i]), text) == 0) {
			*idx = i;
			return 0;
		}
	}
	len = strlen(text);
	for (i = 0; i < g->n; i++) {
		if (strncmp(id_of(g->node[i]), text, len) != 0)
			continue;
		if (nmatch < MAX_LISTED)
			gw_buf_printf(&list, "%s%s", nmatch ? ", " : "", id_of(g->node[i]));
		else if (nmatch == MAX_LISTED)
			gw_buf_puts(&list, ", ...");
		nmatch++;
		match = i;
	}
	if (nmatch == 0) {
		rc = gw_error_set(err, GW_ERR_GRAPH, "no revision matches '%s'", text);
		gw_error_hint(err, "'godwit history' lists the revisions");
		goto out;
	}
	if (nmatch > 1) {
		rc = gw_error_set(err, GW_ERR_GRAPH, "revision '%s' is ambiguous: %s", text,
				  list.data);
		gw_error_hint(err, "give more characters of the id");
		goto out;
	}
	*idx = match;
out:
	gw_buf_release(&list);
	return rc;
}

size_t gw_graph_heads(const struct gw_graph *g, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		if (g->nchildren[i] == 0)
			out[n++] = i;
	return n;
}

size_t gw_graph_bases(const struct gw_graph *g, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		if (g->nparents[i] == 0)
			out[n++] = i;
	return n;
}

/*
 * Add to mark every ancestor-or-self of start. Parents come before their
 * children in node order, so one sweep downwards from start is enough.
 */
static void mark_ancestors(const struct gw_graph *g, size_t start, bool *mark)
{
	size_t i, k;

	mark[start] = true;
	for (i = start + 1; i-- > 0;) {
		if (!mark[i])
			continue;
		for (k = 0; k < g->nparents[i]; k++)
			mark[g->parents[i][k]] = true;
	}
}

bool gw_graph_reaches(const struct gw_graph *g, size_t a, size_t b)
{
	bool *mark;
	bool hit;

	if (a >= g->n || b >= g->n)
		return false;
	if (a == b)
		return true;
	if (a > b) /* an ancestor always comes first in node order */
		return false;
	mark = gw_calloc(g->n, sizeof(*mark));
	mark_ancestors(g, b, mark);
	hit = mark[a];
	free(mark);
	return hit;
}

/* N of "+N" / "-N": digits only, 1 <= N <= INT_MAX. */
static bool parse_count(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return false;
	}
	if (v < 1)
		return false;
	*out = (int)v;
	return true;
}

static int the_head(const struct gw_graph *g, size_t *idx, struct gw_error *err)
{
	struct gw_buf list = GW_BUF_INIT;
	size_t *heads = NULL;
	size_t nheads, i;
	int rc = 0;

	if (g->n == 0) {
		rc = gw_error_set(err, GW_ERR_GRAPH, "no revisions");
		gw_error_hint(err, "'godwit new' writes the first migration");
		goto out;
	}
	heads = gw_malloc(g->n * sizeof(*heads));
	nheads = gw_graph_heads(g, heads);
	if (nheads != 1) {
		for (i = 0; i < nheads && i <= MAX_LISTED; i++)
			gw_buf_printf(&list, "%s%s", i ? ", " : "",
				      i < MAX_LISTED ? id_of(g->node[heads[i]]) : "...");
		rc = gw_error_set(err, GW_ERR_GRAPH, "multiple heads: %s", list.data);
		gw_error_hint(err, "name one, or use 'heads'");
		goto out;
	}
	*idx = heads[0];
out:
	gw_buf_release(&list);
	free(heads);
	return rc;
}

int gw_target_parse(const struct gw_graph *g, const char *text, struct gw_target *t,
		    struct gw_error *err)
{
	char *rev = NULL;
	const char *colon;
	int rc = 0;

	t->kind = GW_TARGET_REV;
	t->rev = 0;
	t->relative = 0;
	t->phase = -1;
	if (!text || !*text)
		return gw_error_set(err, GW_ERR_GRAPH, "empty target");
	colon = strchr(text, ':');
	rev = colon ? gw_strndup(text, (size_t)(colon - text)) : gw_strdup(text);
	if (colon) {
		t->phase = gw_phase_parse(colon + 1);
		if (t->phase < 0) {
			rc = gw_error_set(err, GW_ERR_GRAPH, "unknown phase '%s' in target '%s'",
					  colon + 1, text);
			gw_error_hint(err, "the phases are expand, backfill and contract");
			goto out;
		}
	}

	if (rev[0] == '+' || rev[0] == '-') {
		int count;

		if (!parse_count(rev + 1, &count)) {
			rc = gw_error_set(err, GW_ERR_GRAPH, "bad relative target '%s'", text);
			gw_error_hint(err, "use +N or -N with N a whole number of 1 or more");
			goto out;
		}
		t->kind = GW_TARGET_RELATIVE;
		t->relative = rev[0] == '+' ? count : -count;
	} else if (strcmp(rev, "heads") == 0) {
		t->kind = GW_TARGET_HEADS;
	} else if (strcmp(rev, "base") == 0) {
		t->kind = GW_TARGET_BASE;
	} else if (strcmp(rev, "head") == 0) {
		t->kind = GW_TARGET_HEAD;
		rc = the_head(g, &t->rev, err);
	} else if (!*rev) {
		rc = gw_error_set(err, GW_ERR_GRAPH, "no revision before the phase in target '%s'",
				  text);
	} else {
		t->kind = GW_TARGET_REV;
		rc = gw_graph_find(g, rev, &t->rev, err);
	}
	if (rc)
		goto out;
	if (t->phase >= 0 && t->kind != GW_TARGET_REV && t->kind != GW_TARGET_HEAD) {
		rc = gw_error_set(err, GW_ERR_GRAPH, "target '%s' cannot name a phase", text);
		gw_error_hint(err, "a phase may follow a revision or 'head' only");
	}
out:
	free(rev);
	return rc;
}

int gw_graph_upgrade(const struct gw_graph *g, const bool *done, const struct gw_target *t,
		     size_t *out, size_t *n, struct gw_error *err)
{
	bool *mark = NULL;
	size_t i, pending = 0;
	int rc = 0;

	*n = 0;
	switch (t->kind) {
	case GW_TARGET_BASE:
		break;
	case GW_TARGET_HEAD:
	case GW_TARGET_REV:
		gw_assert(t->rev < g->n);
		mark = gw_calloc(g->n, sizeof(*mark));
		mark_ancestors(g, t->rev, mark);
		/*
		 * With a phase the target may be incomplete on purpose: it is
		 * listed whenever it is not done and the runner stops at the phase.
		 */
		for (i = 0; i <= t->rev; i++)
			if (mark[i] && !done[i])
				out[(*n)++] = i;
		break;
	case GW_TARGET_HEADS:
		/* every node is an ancestor-or-self of some head */
		for (i = 0; i < g->n; i++)
			if (!done[i])
				out[(*n)++] = i;
		break;
	case GW_TARGET_RELATIVE:
		if (t->relative < 0) {
			rc = gw_error_set(err, GW_ERR_GRAPH, "relative target '%d' is a downgrade",
					  t->relative);
			gw_error_hint(err, "use 'godwit down %d'", t->relative);
			goto out;
		}
		for (i = 0; i < g->n; i++)
			if (!done[i])
				pending++;
		if (pending < (size_t)t->relative) {
			rc = gw_error_set(err, GW_ERR_GRAPH,
					  "relative target '+%d' goes past the head (%zu pending)",
					  t->relative, pending);
			goto out;
		}
		for (i = 0; i < g->n && *n < (size_t)t->relative; i++)
			if (!done[i])
				out[(*n)++] = i;
		break;
	default:
		GW_BUG("unknown target kind");
	}
out:
	if (rc)
		*n = 0;
	free(mark);
	return rc;
}

int gw_graph_downgrade(const struct gw_graph *g, const bool *touched, const struct gw_target *t,
		       size_t *out, size_t *n, struct gw_error *err)
{
	bool *mark = NULL;
	size_t i, applied = 0;
	int rc = 0;

	*n = 0;
	switch (t->kind) {
	case GW_TARGET_HEAD:
	case GW_TARGET_HEADS:
		/* everything that exists is at or below the heads already */
		break;
	case GW_TARGET_BASE:
		for (i = g->n; i-- > 0;)
			if (touched[i])
				out[(*n)++] = i;
		break;
	case GW_TARGET_REV:
		gw_assert(t->rev < g->n);
		mark = gw_calloc(g->n, sizeof(*mark));
		mark_ancestors(g, t->rev, mark);
		for (i = g->n; i-- > 0;)
			if (touched[i] && !mark[i])
				out[(*n)++] = i;
		break;
	case GW_TARGET_RELATIVE:
		if (t->relative > 0) {
			rc = gw_error_set(err, GW_ERR_GRAPH, "relative target '+%d' is an upgrade",
					  t->relative);
			gw_error_hint(err, "use 'godwit up +%d'", t->relative);
			goto out;
		}
		for (i = 0; i < g->n; i++)
			if (touched[i])
				applied++;
		if (applied < (size_t)-(long)t->relative) {
			rc = gw_error_set(err, GW_ERR_GRAPH,
					  "relative target '%d' goes past base (%zu applied)",
					  t->relative, applied);
			goto out;
		}
		for (i = g->n; i-- > 0 && *n < (size_t)-(long)t->relative;)
			if (touched[i])
				out[(*n)++] = i;
		break;
	default:
		GW_BUG("unknown target kind");
	}
out:
	if (rc)
		*n = 0;
	free(mark);
	return rc;
}
