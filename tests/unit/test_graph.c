/*
 * Unit tests of the revision graph: order, heads and bases, lookup by
 * prefix, targets, and what upgrade and downgrade walk through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/graph.h"
#include "godwit/phase.h"

/*
 * A set from a compact description: space-separated revisions in file
 * order, each "id" or "id<p1,p2" for its parents. Paths are
 * "migrations/ID.json". Only id, parents and path are filled.
 */
static void set_make(struct gw_migration_set *set, const char *desc)
{
	char *copy = strdup(desc), *save = NULL, *tok;
	size_t cap = 0;

	memset(set, 0, sizeof(*set));
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct gw_migration *m;
		char *lt = strchr(tok, '<');

		if (set->n == cap) {
			cap = cap ? 2 * cap : 8;
			set->v = realloc(set->v, cap * sizeof(*set->v));
			assert_non_null(set->v);
		}
		m = &set->v[set->n++];
		memset(m, 0, sizeof(*m));
		if (lt) {
			char *psave = NULL, *p;

			*lt = '\0';
			for (p = strtok_r(lt + 1, ",", &psave); p; p = strtok_r(NULL, ",", &psave)) {
				m->parents = realloc(m->parents,
						     (m->nparents + 1) * sizeof(*m->parents));
				assert_non_null(m->parents);
				m->parents[m->nparents++] = strdup(p);
			}
		}
		m->id = strdup(tok);
		m->path = malloc(strlen(tok) + sizeof("migrations/.json"));
		assert_non_null(m->path);
		strcpy(m->path, "migrations/");
		strcat(m->path, tok);
		strcat(m->path, ".json");
	}
	free(copy);
}

static void set_free(struct gw_migration_set *set)
{
	size_t i, k;

	for (i = 0; i < set->n; i++) {
		for (k = 0; k < set->v[i].nparents; k++)
			free(set->v[i].parents[k]);
		free(set->v[i].parents);
		free(set->v[i].id);
		free(set->v[i].path);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* A set and its graph; each test builds one. */
struct fx {
	struct gw_migration_set set;
	struct gw_graph g;
	struct gw_error err;
	size_t *out; /* g.n slots (at least one) */
	size_t n;
	char ids[512];
};

static struct fx *fx_new(const char *desc)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	set_make(&f->set, desc);
	gw_error_clear(&f->err);
	assert_int_equal(gw_graph_build(&f->set, &f->g, &f->err), 0);
	assert_int_equal(f->err.code, 0);
	assert_int_equal(f->g.n, f->set.n);
	f->out = calloc(f->g.n + 1, sizeof(*f->out));
	assert_non_null(f->out);
	return f;
}

static void fx_free(struct fx *f)
{
	gw_graph_release(&f->g);
	set_free(&f->set);
	free(f->out);
	free(f);
}

/* "a b c" from node indices, for assert_string_equal. */
static const char *ids(struct fx *f, const size_t *idx, size_t n)
{
	size_t i;

	f->ids[0] = '\0';
	for (i = 0; i < n; i++) {
		assert_true(idx[i] < f->g.n);
		if (i)
			strcat(f->ids, " ");
		strcat(f->ids, f->g.node[idx[i]]->id);
	}
	return f->ids;
}

static const char *order(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->g.n; i++)
		f->out[i] = i;
	return ids(f, f->out, f->g.n);
}

static size_t idx_of(struct fx *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->g.n; i++)
		if (strcmp(f->g.node[i]->id, id) == 0)
			return i;
	fail_msg("no node '%s'", id);
	return 0;
}

/* A done/touched vector from a space-separated list of ids. */
static bool *flags(struct fx *f, const char *list)
{
	bool *v = calloc(f->g.n + 1, sizeof(*v));
	char *copy = strdup(list), *save = NULL, *tok;

	assert_non_null(v);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		v[idx_of(f, tok)] = true;
	free(copy);
	return v;
}

static void parse_ok(struct fx *f, const char *text, struct gw_target *t)
{
	gw_error_clear(&f->err);
	assert_int_equal(gw_target_parse(&f->g, text, t, &f->err), 0);
	assert_int_equal(f->err.code, 0);
}

static void parse_fails(struct fx *f, const char *text, const char *msg)
{
	struct gw_target t;

	gw_error_clear(&f->err);
	assert_int_equal(gw_target_parse(&f->g, text, &t, &f->err), GW_ERR_GRAPH);
	assert_int_equal(f->err.code, GW_ERR_GRAPH);
	assert_non_null(strstr(f->err.msg, msg));
}

/* Upgrade to text with done as given; the ids of the plan. */
static const char *up(struct fx *f, const char *done_list, const char *text)
{
	struct gw_target t;
	bool *done = flags(f, done_list);

	parse_ok(f, text, &t);
	f->n = 999;
	assert_int_equal(gw_graph_upgrade(&f->g, done, &t, f->out, &f->n, &f->err), 0);
	free(done);
	return ids(f, f->out, f->n);
}

static const char *down(struct fx *f, const char *touched_list, const char *text)
{
	struct gw_target t;
	bool *touched = flags(f, touched_list);

	parse_ok(f, text, &t);
	f->n = 999;
	assert_int_equal(gw_graph_downgrade(&f->g, touched, &t, f->out, &f->n, &f->err), 0);
	free(touched);
	return ids(f, f->out, f->n);
}

static void build_fails(const char *desc, const char *msg)
{
	struct gw_migration_set set;
	struct gw_graph g = GW_GRAPH_INIT;
	struct gw_error err = GW_ERROR_INIT;

	set_make(&set, desc);
	assert_int_equal(gw_graph_build(&set, &g, &err), GW_ERR_GRAPH);
	assert_int_equal(err.code, GW_ERR_GRAPH);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	assert_int_equal(g.n, 0);
	assert_null(g.node);
	gw_graph_release(&g);
	set_free(&set);
}

/* Linear chain */

static void test_linear_order(void **state)
{
	/* files out of order: the graph still runs a, b, c, d */
	struct fx *f = fx_new("c<b a d<c b<a");

	(void)state;
	assert_string_equal(order(f), "a b c d");
	fx_free(f);
}

static void test_linear_edges(void **state)
{
	struct fx *f = fx_new("a b<a c<b");
	size_t b = idx_of(f, "b");

	(void)state;
	assert_int_equal(f->g.nparents[0], 0);
	assert_int_equal(f->g.nparents[b], 1);
	assert_int_equal(f->g.parents[b][0], 0);
	assert_int_equal(f->g.nchildren[b], 1);
	assert_string_equal(ids(f, f->g.children[b], 1), "c");
	assert_int_equal(f->g.nchildren[2], 0);
	fx_free(f);
}

static void test_linear_heads_bases(void **state)
{
	struct fx *f = fx_new("a b<a c<b");

	(void)state;
	f->n = gw_graph_heads(&f->g, f->out);
	assert_string_equal(ids(f, f->out, f->n), "c");
	f->n = gw_graph_bases(&f->g, f->out);
	assert_string_equal(ids(f, f->out, f->n), "a");
	fx_free(f);
}

static void test_linear_reaches(void **state)
{
	struct fx *f = fx_new("a b<a c<b");

	(void)state;
	assert_true(gw_graph_reaches(&f->g, 0, 2));
	assert_true(gw_graph_reaches(&f->g, 1, 2));
	assert_true(gw_graph_reaches(&f->g, 1, 1));
	assert_false(gw_graph_reaches(&f->g, 2, 0));
	assert_false(gw_graph_reaches(&f->g, 2, 1));
	fx_free(f);
}

static void test_linear_upgrade_head(void **state)
{
	struct fx *f = fx_new("a b<a c<b");
	struct gw_target t;

	(void)state;
	parse_ok(f, "head", &t);
	assert_int_equal(t.kind, GW_TARGET_HEAD);
	assert_int_equal(t.rev, 2);
	assert_int_equal(t.phase, -1);
	assert_string_equal(up(f, "", "head"), "a b c");
	assert_string_equal(up(f, "a", "head"), "b c");
	assert_string_equal(up(f, "a b c", "head"), "");
	assert_string_equal(up(f, "", "b"), "a b");
	fx_free(f);
}

static void test_empty_graph(void **state)
{
	struct fx *f = fx_new("");
	struct gw_target t;

	(void)state;
	assert_int_equal(f->g.n, 0);
	assert_int_equal(gw_graph_heads(&f->g, f->out), 0);
	parse_fails(f, "head", "no revisions");
	assert_string_equal(up(f, "", "heads"), "");
	assert_string_equal(down(f, "", "base"), "");
	parse_ok(f, "+1", &t);
	assert_int_equal(gw_graph_upgrade(&f->g, NULL, &t, f->out, &f->n, &f->err),
			 GW_ERR_GRAPH);
	assert_non_null(strstr(f->err.msg, "goes past the head (0 pending)"));
	parse_fails(f, "abc", "no revision matches 'abc'");
	fx_free(f);
}

/* Branches */

static void test_branch_heads(void **state)
{
	struct fx *f = fx_new("a b<a c<a");

	(void)state;
	f->n = gw_graph_heads(&f->g, f->out);
	assert_string_equal(ids(f, f->out, f->n), "b c");
	f->n = gw_graph_bases(&f->g, f->out);
	assert_string_equal(ids(f, f->out, f->n), "a");
	assert_false(gw_graph_reaches(&f->g, idx_of(f, "b"), idx_of(f, "c")));
	assert_false(gw_graph_reaches(&f->g, idx_of(f, "c"), idx_of(f, "b")));
	assert_string_equal(ids(f, f->g.children[0], f->g.nchildren[0]), "b c");
	fx_free(f);
}

static void test_branch_head_refused(void **state)
{
	struct fx *f = fx_new("a b<a c<a");

	(void)state;
	parse_fails(f, "head", "multiple heads: b, c");
	assert_string_equal(f->err.hint, "name one, or use 'heads'");
	parse_fails(f, "head:expand", "multiple heads: b, c");
	fx_free(f);
}

static void test_branch_heads_target(void **state)
{
	struct fx *f = fx_new("a b<a c<a d");
	struct gw_target t;

	(void)state;
	parse_ok(f, "heads", &t);
	assert_int_equal(t.kind, GW_TARGET_HEADS);
	assert_string_equal(up(f, "", "heads"), "a b c d");
	assert_string_equal(up(f, "a c", "heads"), "b d");
	/* one branch only: the other is left alone */
	assert_string_equal(up(f, "", "c"), "a c");
	fx_free(f);
}

/* Merge */

static void test_merge_edges(void **state)
{
	/* m lists its parents c before b: that order is kept */
	struct fx *f = fx_new("a b<a c<a m<c,b");
	size_t m = idx_of(f, "m");

	(void)state;
	assert_string_equal(order(f), "a b c m");
	assert_int_equal(f->g.nparents[m], 2);
	assert_string_equal(ids(f, f->g.parents[m], 2), "c b");
	assert_string_equal(ids(f, f->g.children[idx_of(f, "b")], 1), "m");
	f->n = gw_graph_heads(&f->g, f->out);
	assert_string_equal(ids(f, f->out, f->n), "m");
	assert_true(gw_graph_reaches(&f->g, idx_of(f, "b"), m));
	assert_true(gw_graph_reaches(&f->g, idx_of(f, "c"), m));
	assert_true(gw_graph_reaches(&f->g, 0, m));
	fx_free(f);
}

static void test_merge_upgrade(void **state)
{
	struct fx *f = fx_new("a b<a c<a m<b,c n<m");

	(void)state;
	assert_string_equal(up(f, "", "m"), "a b c m");
	assert_string_equal(up(f, "a b", "m"), "c m");
	assert_string_equal(up(f, "a b c", "head"), "m n");
	fx_free(f);
}

static void test_merge_downgrade(void **state)
{
	struct fx *f = fx_new("a b<a c<a m<b,c n<m");

	(void)state;
	/* back to branch point b: the merge, its child and the other branch go */
	assert_string_equal(down(f, "a b c m n", "b"), "n m c");
	assert_string_equal(down(f, "a b c m n", "m"), "n");
	assert_string_equal(down(f, "a b c m n", "a"), "n m c b");
	/* untouched nodes are not rolled back */
	assert_string_equal(down(f, "a b c", "b"), "c");
	fx_free(f);
}

/* Lookup */

static void test_find_exact_and_prefix(void **state)
{
	struct fx *f = fx_new("abc1 abd2<abc1 ffe9<abd2");
	size_t i = 99;

	(void)state;
	assert_int_equal(gw_graph_find(&f->g, "abd2", &i, &f->err), 0);
	assert_int_equal(i, 1);
	assert_int_equal(gw_graph_find(&f->g, "ff", &i, &f->err), 0);
	assert_int_equal(i, 2);
	assert_int_equal(gw_graph_find(&f->g, "abc", &i, &f->err), 0);
	assert_int_equal(i, 0);
	assert_int_equal(f->err.code, 0);
	fx_free(f);
}

static void test_find_ambiguous(void **state)
{
	struct fx *f = fx_new("abc1 abd2<abc1 ffe9<abd2");
	size_t i = 99;

	(void)state;
	assert_int_equal(gw_graph_find(&f->g, "ab", &i, &f->err), GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "revision 'ab' is ambiguous: abc1, abd2");
	assert_int_equal(i, 99);
	parse_fails(f, "a:expand", "revision 'a' is ambiguous: abc1, abd2");
	fx_free(f);
}

static void test_find_none(void **state)
{
	struct fx *f = fx_new("abc1 abd2<abc1");
	size_t i = 99;

	(void)state;
	assert_int_equal(gw_graph_find(&f->g, "xyz", &i, &f->err), GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "no revision matches 'xyz'");
	gw_error_clear(&f->err);
	/* longer than any id */
	assert_int_equal(gw_graph_find(&f->g, "abc12", &i, &f->err), GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "no revision matches 'abc12'");
	gw_error_clear(&f->err);
	assert_int_equal(gw_graph_find(&f->g, "", &i, &f->err), GW_ERR_GRAPH);
	assert_int_equal(i, 99);
	fx_free(f);
}

static void test_find_exact_beats_prefix(void **state)
{
	/* "ab" is an id and a prefix of "abc": the id wins */
	struct fx *f = fx_new("abc ab<abc");
	size_t i = 99;
	struct gw_target t;

	(void)state;
	assert_int_equal(gw_graph_find(&f->g, "ab", &i, &f->err), 0);
	assert_string_equal(f->g.node[i]->id, "ab");
	parse_ok(f, "ab", &t);
	assert_int_equal(t.kind, GW_TARGET_REV);
	assert_int_equal(t.rev, idx_of(f, "ab"));
	fx_free(f);
}

/* Relative targets */

static void test_relative_parse(void **state)
{
	struct fx *f = fx_new("a b<a");
	struct gw_target t;

	(void)state;
	parse_ok(f, "+2", &t);
	assert_int_equal(t.kind, GW_TARGET_RELATIVE);
	assert_int_equal(t.relative, 2);
	assert_int_equal(t.phase, -1);
	parse_ok(f, "-12", &t);
	assert_int_equal(t.relative, -12);
	parse_fails(f, "+0", "bad relative target '+0'");
	parse_fails(f, "-0", "bad relative target '-0'");
	parse_fails(f, "+", "bad relative target '+'");
	parse_fails(f, "-x", "bad relative target '-x'");
	parse_fails(f, "+1a", "bad relative target '+1a'");
	parse_fails(f, "+ 1", "bad relative target");
	parse_fails(f, "++1", "bad relative target");
	parse_fails(f, "+99999999999", "bad relative target");
	parse_fails(f, "+1:expand", "cannot name a phase");
	fx_free(f);
}

static void test_relative_up(void **state)
{
	struct fx *f = fx_new("a b<a c<b d<c");

	(void)state;
	assert_string_equal(up(f, "", "+1"), "a");
	assert_string_equal(up(f, "a", "+2"), "b c");
	assert_string_equal(up(f, "a b", "+2"), "c d");
	fx_free(f);
}

static void test_relative_up_past_head(void **state)
{
	struct fx *f = fx_new("a b<a c<b d<c");
	struct gw_target t;
	bool *done = flags(f, "a b");

	(void)state;
	parse_ok(f, "+3", &t);
	f->n = 7;
	assert_int_equal(gw_graph_upgrade(&f->g, done, &t, f->out, &f->n, &f->err),
			 GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "relative target '+3' goes past the head (2 pending)");
	assert_int_equal(f->n, 0);
	free(done);
	fx_free(f);
}

static void test_relative_down(void **state)
{
	struct fx *f = fx_new("a b<a c<b d<c");

	(void)state;
	assert_string_equal(down(f, "a b c", "-1"), "c");
	assert_string_equal(down(f, "a b c", "-2"), "c b");
	assert_string_equal(down(f, "a b c d", "-4"), "d c b a");
	fx_free(f);
}

static void test_relative_down_past_base(void **state)
{
	struct fx *f = fx_new("a b<a c<b d<c");
	struct gw_target t;
	bool *touched = flags(f, "a b");

	(void)state;
	parse_ok(f, "-3", &t);
	assert_int_equal(gw_graph_downgrade(&f->g, touched, &t, f->out, &f->n, &f->err),
			 GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "relative target '-3' goes past base (2 applied)");
	assert_int_equal(f->n, 0);
	free(touched);
	fx_free(f);
}

static void test_relative_wrong_direction(void **state)
{
	struct fx *f = fx_new("a b<a c<b");
	struct gw_target t;
	bool *none = flags(f, "");
	bool *all = flags(f, "a b c");

	(void)state;
	parse_ok(f, "-2", &t);
	assert_int_equal(gw_graph_upgrade(&f->g, none, &t, f->out, &f->n, &f->err),
			 GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "relative target '-2' is a downgrade");
	parse_ok(f, "+1", &t);
	assert_int_equal(gw_graph_downgrade(&f->g, all, &t, f->out, &f->n, &f->err),
			 GW_ERR_GRAPH);
	assert_string_equal(f->err.msg, "relative target '+1' is an upgrade");
	free(none);
	free(all);
	fx_free(f);
}

/* REV:PHASE */

static void test_rev_phase_parse(void **state)
{
	struct fx *f = fx_new("a1 b2<a1 c3<b2");
	struct gw_target t;

	(void)state;
	parse_ok(f, "b2:backfill", &t);
	assert_int_equal(t.kind, GW_TARGET_REV);
	assert_int_equal(t.rev, 1);
	assert_int_equal(t.phase, GW_PHASE_BACKFILL);
	parse_ok(f, "c:expand", &t);
	assert_int_equal(t.rev, 2);
	assert_int_equal(t.phase, GW_PHASE_EXPAND);
	parse_ok(f, "head:contract", &t);
	assert_int_equal(t.kind, GW_TARGET_HEAD);
	assert_int_equal(t.rev, 2);
	assert_int_equal(t.phase, GW_PHASE_CONTRACT);
	parse_ok(f, "a1", &t);
	assert_int_equal(t.phase, -1);
	fx_free(f);
}

static void test_rev_phase_bad(void **state)
{
	struct fx *f = fx_new("a1 b2<a1");

	(void)state;
	parse_fails(f, "b2:bogus", "unknown phase 'bogus' in target 'b2:bogus'");
	parse_fails(f, "b2:", "unknown phase '' in target 'b2:'");
	parse_fails(f, "b2:Expand", "unknown phase 'Expand'");
	parse_fails(f, "b2:expand:x", "unknown phase 'expand:x'");
	parse_fails(f, ":expand", "no revision before the phase");
	parse_fails(f, "heads:expand", "target 'heads:expand' cannot name a phase");
	parse_fails(f, "base:contract", "target 'base:contract' cannot name a phase");
	parse_fails(f, "zz:expand", "no revision matches 'zz'");
	parse_fails(f, "", "empty target");
	fx_free(f);
}

static void test_upgrade_rev_phase(void **state)
{
	struct fx *f = fx_new("a b<a c<b");

	(void)state;
	/* b:expand runs a and b (the runner stops b after expand) */
	assert_string_equal(up(f, "", "b:expand"), "a b");
	assert_string_equal(up(f, "a", "b:contract"), "b");
	assert_string_equal(up(f, "a b", "b:contract"), "");
	fx_free(f);
}

/* Build errors */

static void test_unknown_parent(void **state)
{
	(void)state;
	build_fails("a x<abc", "migrations/x.json: parent 'abc' of 'x' does not exist");
	build_fails("a b<a,nope", "migrations/b.json: parent 'nope' of 'b' does not exist");
}

static void test_parent_twice(void **state)
{
	(void)state;
	build_fails("a b<a,a", "migrations/b.json: parent 'a' of 'b' is listed twice");
}

static void test_duplicate_id(void **state)
{
	(void)state;
	build_fails("a b<a a", "revision 'a' is also defined in migrations/a.json");
}

static void test_cycle(void **state)
{
	(void)state;
	/* r is fine; a and b point at each other; c hangs below the cycle */
	build_fails("r c<b a<r,b b<a", "revision graph has a cycle through 'a', 'b'");
	build_fails("r c<b a<r,b b<a", "migrations/a.json:");
	/* three long: parent before child, from the earliest file */
	build_fails("z<y x<z y<x", "revision graph has a cycle through 'z', 'x', 'y'");
	build_fails("s<s", "revision graph has a cycle through 's'");
}

/* Order is stable with respect to file order */

static void test_stable_order(void **state)
{
	struct fx *f;

	(void)state;
	/* siblings run in file order, c before b */
	f = fx_new("a c<a b<a d");
	assert_string_equal(order(f), "a c b d");
	fx_free(f);
	/* a child waits for its parent even when its file comes first */
	f = fx_new("x<y y z<x");
	assert_string_equal(order(f), "y x z");
	fx_free(f);
	/* two roots and a merge: the merge comes after both its branches */
	f = fx_new("p m<q,p q r<p");
	assert_string_equal(order(f), "p q m r");
	fx_free(f);
}

static void test_stable_order_repeatable(void **state)
{
	const char *desc = "e<d b<a d<c a c<a f<b,e";
	struct fx *f = fx_new(desc);
	struct fx *f2 = fx_new(desc);
	char first[512];

	(void)state;
	strcpy(first, order(f));
	assert_string_equal(first, "a b c d e f");
	assert_string_equal(order(f2), first);
	fx_free(f);
	fx_free(f2);
}

/* Downgrade targets */

static void test_downgrade_base_and_heads(void **state)
{
	struct fx *f = fx_new("a b<a c<a m<b,c");

	(void)state;
	assert_string_equal(down(f, "a b c m", "base"), "m c b a");
	assert_string_equal(down(f, "a c", "base"), "c a");
	assert_string_equal(down(f, "a b c m", "heads"), "");
	assert_string_equal(down(f, "a b c m", "head"), "");
	assert_string_equal(up(f, "", "base"), "");
	fx_free(f);
}

static void test_downgrade_rev_keeps_rev(void **state)
{
	struct fx *f = fx_new("a b<a c<b");

	(void)state;
	assert_string_equal(down(f, "a b c", "b"), "c");
	assert_string_equal(down(f, "a b", "b"), "");
	/* b:expand keeps b; undoing its later phases is the runner's work */
	assert_string_equal(down(f, "a b c", "b:expand"), "c");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear_order),
		cmocka_unit_test(test_linear_edges),
		cmocka_unit_test(test_linear_heads_bases),
		cmocka_unit_test(test_linear_reaches),
		cmocka_unit_test(test_linear_upgrade_head),
		cmocka_unit_test(test_empty_graph),
		cmocka_unit_test(test_branch_heads),
		cmocka_unit_test(test_branch_head_refused),
		cmocka_unit_test(test_branch_heads_target),
		cmocka_unit_test(test_merge_edges),
		cmocka_unit_test(test_merge_upgrade),
		cmocka_unit_test(test_merge_downgrade),
		cmocka_unit_test(test_find_exact_and_prefix),
		cmocka_unit_test(test_find_ambiguous),
		cmocka_unit_test(test_find_none),
		cmocka_unit_test(test_find_exact_beats_prefix),
		cmocka_unit_test(test_relative_parse),
		cmocka_unit_test(test_relative_up),
		cmocka_unit_test(test_relative_up_past_head),
		cmocka_unit_test(test_relative_down),
		cmocka_unit_test(test_relative_down_past_base),
		cmocka_unit_test(test_relative_wrong_direction),
		cmocka_unit_test(test_rev_phase_parse),
		cmocka_unit_test(test_rev_phase_bad),
		cmocka_unit_test(test_upgrade_rev_phase),
		cmocka_unit_test(test_unknown_parent),
		cmocka_unit_test(test_parent_twice),
		cmocka_unit_test(test_duplicate_id),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_stable_order),
		cmocka_unit_test(test_stable_order_repeatable),
		cmocka_unit_test(test_downgrade_base_and_heads),
		cmocka_unit_test(test_downgrade_rev_keeps_rev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
