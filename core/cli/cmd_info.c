/*
 * Commands that describe the revisions: current, history, heads,
 * branches, status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "godwit/stream.h"
#include "godwit/cli.h"
#include "godwit/driver.h"
#include "godwit/status.h"

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

/* A running copy's limits in force and replicas' lag, on a line of their own. */
static void print_throttle(json_t *ph)
{
	json_t *lim = json_object_get(ph, "limits"), *reps = json_object_get(ph, "replicas"), *v;
	const char *state = json_string_value(json_object_get(ph, "state"));
	size_t i;

	if (!json_is_object(lim) || (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0))
		return;
	printf("              limits: chunk %lld ms",
	       (long long)json_integer_value(json_object_get(lim, "chunk_time_ms")));
	if ((v = json_object_get(lim, "rate")))
		printf(", rate %lld rows/s", (long long)json_integer_value(v));
	if ((v = json_object_get(lim, "max_lag_ms")))
		printf(", lag %.1f s", (double)json_integer_value(v) / 1000.0);
	if ((v = json_object_get(lim, "max_load")))
		printf(", load %lld", (long long)json_integer_value(v));
	json_array_foreach(reps, i, v) {
		json_t *lag = json_object_get(v, "lag_ms"), *e = json_object_get(v, "error");

		printf("%s%s ", i ? "; " : "; replicas: ", json_string_value(json_object_get(v, "name")));
		if (lag)
			printf("lag %.1f s", (double)json_integer_value(lag) / 1000.0);
		if (e)
			printf("%s%s", lag ? ", " : "", json_string_value(e));
	}
	if ((v = json_object_get(ph, "load")))
		printf("; load %.0f", json_number_value(v));
	printf("\n");
}

static void print_phase_detail(const char *name, json_t *ph)
{
	json_t *v;

	if (!json_object_get(ph, "rows_done") && !json_object_get(ph, "control") &&
	    !json_object_get(ph, "waiting") && !json_object_get(ph, "blocked_ms"))
		return;
	printf("    %-9s %-11s", name, json_string_value(json_object_get(ph, "state")));
	if ((v = json_object_get(ph, "rows_done"))) {
		printf(" %lld", (long long)json_integer_value(v));
		if ((v = json_object_get(ph, "rows_total")))
			printf("/%lld", (long long)json_integer_value(v));
		printf(" rows");
	}
	if ((v = json_object_get(ph, "percent")))
		printf(" (%.1f%%)", json_real_value(v));
	if ((v = json_object_get(ph, "rate")))
		printf("  %.0f rows/s", json_number_value(v));
	if ((v = json_object_get(ph, "eta_s"))) {
		long t = (long)json_integer_value(v);

		printf("  ETA %ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	}
	if ((v = json_object_get(ph, "chunk")))
		printf("  chunk %lld", (long long)json_integer_value(v));
	if ((v = json_object_get(ph, "waiting")))
		printf("  waiting: %s", json_string_value(v));
	if ((v = json_object_get(ph, "applied")))
		printf("  %lld changes applied", (long long)json_integer_value(v));
	if ((v = json_object_get(ph, "lag_ms")))
		printf("  lag %.0f ms", json_number_value(v));
	if ((v = json_object_get(ph, "blocked_ms")))
		printf("  writes blocked %.0f ms", json_number_value(v));
	if ((v = json_object_get(ph, "control")))
		printf("  [control: %s]", json_string_value(v));
	printf("\n");
	print_throttle(ph);
}

/* What replication captures hold on the server (PostgreSQL slots and their WAL). */
static int print_held(struct gw_ctx *ctx)
{
	const struct gw_stream_ops *ops = gw_stream_ops_of(ctx->conn);
	struct gw_result *r = NULL;
	int rc = ops->held ? ops->held(ctx->conn, &r, &ctx->err) : 0;

	for (int i = 0; rc == 0 && r && i < r->nrows; i++)
		printf("replication slot %s: %s, retains %s of WAL\n", gw_result_get(r, i, 0),
		       gw_result_get(r, i, 1), gw_result_get(r, i, 2));
	gw_result_free(r);
	return rc;
}

static int status_once(struct gw_ctx *ctx, bool json)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	json_t *out = NULL;
	int rc = gw_store_load(&ctx->store, &a, &ctx->err);

	if (rc < 0)
		goto out;
	out = gw_status_json(&ctx->graph, &a);
	for (size_t i = 0; !json && i < ctx->graph.n; i++) {
		const struct gw_migration *m = ctx->graph.node[i];
		const struct gw_applied *r = gw_applied_find(&a, m->id);
		json_t *phases = json_object_get(json_array_get(out, i), "phases");

		printf("%-32s ", m->id);
		if (r)
			print_phases(stdout, r);
		else
			printf("not applied");
		printf("\n");
		for (int p = 0; r && p < GW_NPHASES; p++) {
			print_phase_detail(gw_phase_name(p), json_object_get(phases, gw_phase_name(p)));
			if (r->error[p])
				printf("    %s error: %s\n", gw_phase_name(p), r->error[p]);
		}
	}
	if (json) {
		char *s = json_dumps(out, JSON_INDENT(2));

		printf("%s\n", s);
		free(s);
	} else {
		rc = print_held(ctx);
	}
out:
	json_decref(out);
	gw_applied_set_release(&a);
	return rc;
}

int cmd_status(int argc, char **argv, struct gw_ctx *ctx)
{
	bool json = has_flag(argc, argv, "--json", NULL);
	bool watch = has_flag(argc, argv, "--watch", NULL);
	int rc = only_flags(ctx, argc, argv, "--json", "--watch");

	while (rc == 0) {
		if (watch && isatty(1))
			printf("\033[H\033[J");
		rc = status_once(ctx, json);
		fflush(stdout);
		if (!watch)
			break;
		if (!isatty(1))
			printf("\n");
		sleep(1);
	}
	return rc;
}
