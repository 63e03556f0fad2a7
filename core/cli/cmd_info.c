/*
 * Commands that describe the revisions: current, history, heads,
 * branches, status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "godwit/cli.h"
#include "godwit/driver.h"

static int no_args(struct gw_ctx *ctx, int argc, char **argv)
{
	if (argc > 1)
		return gw_usage_error(ctx, "unexpected argument '%s'", argv[1]);
	return 0;
}

static bool has_flag(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return true;
	return false;
}

static int only_flags(struct gw_ctx *ctx, int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) != 0 && (!b || strcmp(argv[i], b) != 0))
			return gw_usage_error(ctx, "unexpected argument '%s'", argv[i]);
	return 0;
}

static void print_phases(FILE *f, const struct gw_applied *r)
{
	for (int p = 0; p < GW_NPHASES; p++)
		fprintf(f, "%s%s=%s", p ? " " : "", gw_phase_name(p), gw_state_name((int)r->state[p]));
}

static void print_marks(const struct gw_graph *g, size_t i)
{
	if (g->nchildren[i] == 0)
		printf(" (head)");
	if (g->nchildren[i] > 1)
		printf(" (branchpoint)");
	if (g->nparents[i] > 1)
		printf(" (mergepoint)");
}

int cmd_current(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	int rc = no_args(ctx, argc, argv);

	if (rc == 0)
		rc = gw_store_load(&ctx->store, &a, &ctx->err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < ctx->graph.n; i++) {
		const struct gw_applied *r = gw_applied_find(&a, ctx->graph.node[i]->id);
		bool child_done = false;

		if (!r || !gw_applied_touched(r))
			continue;
		for (size_t k = 0; k < ctx->graph.nchildren[i]; k++)
			child_done |= gw_applied_done(
				gw_applied_find(&a, ctx->graph.node[ctx->graph.children[i][k]]->id));
		if (gw_applied_done(r) && child_done)
			continue;
		printf("%s", r->id);
		if (gw_applied_done(r)) {
			print_marks(&ctx->graph, i);
		} else {
			printf(" (");
			print_phases(stdout, r);
			printf(")");
		}
		printf("\n");
	}
	for (size_t i = 0; i < a.n; i++)
		if (!gw_migration_set_find(&ctx->set, a.v[i].id))
			printf("%s (recorded, no file)\n", a.v[i].id);
out:
	gw_applied_set_release(&a);
	return rc;
}

int cmd_history(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	bool verbose = has_flag(argc, argv, "-v", "--verbose");
	int rc = only_flags(ctx, argc, argv, "-v", "--verbose");

	if (rc == 0 && verbose && ctx->database_url) {
		rc = gw_ctx_connect(ctx);
		if (rc == 0)
			rc = gw_store_check(&ctx->store, &ctx->err);
		if (rc == 0)
			rc = gw_store_load(&ctx->store, &a, &ctx->err);
	}
	if (rc < 0)
		goto out;
	for (size_t i = ctx->graph.n; i > 0; i--) {
		const struct gw_migration *m = ctx->graph.node[i - 1];
		const struct gw_applied *r = gw_applied_find(&a, m->id);

		if (m->nparents == 0)
			printf("<base>");
		for (size_t k = 0; k < m->nparents; k++)
			printf("%s%s", k ? ", " : "", m->parents[k]);
		printf(" -> %s", m->id);
		print_marks(&ctx->graph, i - 1);
		printf(", %s\n", m->message);
		if (!verbose)
			continue;
		printf("    file: %s\n    checksum: %s\n", m->path, m->checksum);
		printf("    operations: %zu\n", m->nops);
		if (r) {
			printf("    applied: %s\n    phases: ", r->applied_at);
			print_phases(stdout, r);
			printf("\n");
		} else if (ctx->conn) {
			printf("    phases: not applied\n");
		}
	}
out:
	gw_applied_set_release(&a);
	return rc;
}

int cmd_heads(int argc, char **argv, struct gw_ctx *ctx)
{
	size_t *heads = calloc(ctx->graph.n + 1, sizeof(size_t));
	size_t n = gw_graph_heads(&ctx->graph, heads);
	int rc = no_args(ctx, argc, argv);

	for (size_t i = 0; rc == 0 && i < n; i++)
		printf("%s (head), %s\n", ctx->graph.node[heads[i]]->id,
		       ctx->graph.node[heads[i]]->message);
	free(heads);
	return rc;
}

int cmd_branches(int argc, char **argv, struct gw_ctx *ctx)
{
	int rc = no_args(ctx, argc, argv);

	for (size_t i = 0; rc == 0 && i < ctx->graph.n; i++) {
		if (ctx->graph.nchildren[i] < 2)
			continue;
		printf("%s (branchpoint), %s\n", ctx->graph.node[i]->id, ctx->graph.node[i]->message);
		for (size_t k = 0; k < ctx->graph.nchildren[i]; k++) {
			size_t c = ctx->graph.children[i][k];

			printf("    -> %s", ctx->graph.node[c]->id);
			print_marks(&ctx->graph, c);
			printf(", %s\n", ctx->graph.node[c]->message);
		}
	}
	return rc;
}

int cmd_status(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	bool json = has_flag(argc, argv, "--json", NULL);
	json_t *out = NULL;
	int rc = only_flags(ctx, argc, argv, "--json", NULL);

	if (rc == 0)
		rc = gw_store_load(&ctx->store, &a, &ctx->err);
	if (rc < 0)
		goto out;
	out = json_array();
	for (size_t i = 0; i < ctx->graph.n; i++) {
		const struct gw_migration *m = ctx->graph.node[i];
		const struct gw_applied *r = gw_applied_find(&a, m->id);
		json_t *o = json_pack("{s:s, s:s}", "id", m->id, "message", m->message);
		json_t *phases = json_object();

		for (int p = 0; p < GW_NPHASES; p++) {
			json_t *ph = json_pack("{s:s}", "state",
					       gw_state_name(r ? (int)r->state[p] : GW_STATE_PENDING));

			if (r && r->error[p])
				json_object_set_new(ph, "error", json_string(r->error[p]));
			if (r && r->updated_at[p])
				json_object_set_new(ph, "updated_at", json_string(r->updated_at[p]));
			json_object_set_new(phases, gw_phase_name(p), ph);
		}
		json_object_set_new(o, "phases", phases);
		json_object_set_new(o, "applied", json_boolean(r && gw_applied_done(r)));
		json_array_append_new(out, o);
		if (json)
			continue;
		printf("%-32s ", m->id);
		if (r) {
			print_phases(stdout, r);
		} else {
			printf("not applied");
		}
		printf("\n");
		for (int p = 0; r && p < GW_NPHASES; p++)
			if (r->error[p])
				printf("    %s error: %s\n", gw_phase_name(p), r->error[p]);
	}
	if (json) {
		char *s = json_dumps(out, JSON_INDENT(2));

		printf("%s\n", s);
		free(s);
	}
out:
	json_decref(out);
	gw_applied_set_release(&a);
	return rc;
}
