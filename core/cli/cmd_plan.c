/*
 * plan: print the SQL of every phase without running it, from the live
 * database or offline for a named dialect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/cli.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"

static int print_phase(struct gw_ctx *ctx, const struct gw_dialect *d,
		       const struct gw_migration *m, enum gw_phase p)
{
	int rc = 0;
	size_t total = 0;

	printf("-- %s\n", gw_phase_name((int)p));
	for (size_t i = 0; rc == 0 && i < m->nops; i++) {
		struct gw_steps steps = GW_STEPS_INIT;
		struct gw_table_info *live = NULL;
		const struct gw_op *op = &m->ops[i];
		const char *table = op->kind == GW_OP_RENAME_TABLE ? op->from : op->table;
		struct gw_phase_req req = {p, false, m, op, d, NULL};

		if (ctx->conn && table && gw_conn_describe(ctx->conn, table, &live, NULL) == 0)
			req.live = live;
		rc = gw_phase_steps(&req, &steps, &ctx->err);
		for (size_t k = 0; rc == 0 && k < steps.n; k++) {
			printf("%s;", steps.v[k].sql);
			if (steps.v[k].flags & GW_STEP_MAY_BLOCK)
				printf(" -- may block writes while it runs");
			if (steps.v[k].flags & GW_STEP_NO_TXN)
				printf(" -- outside a transaction");
			printf("\n");
		}
		total += steps.n;
		gw_steps_release(&steps);
		gw_table_info_free(live);
	}
	if (rc == 0 && total == 0)
		printf("-- nothing to do\n");
	return rc;
}

int cmd_plan(int argc, char **argv, struct gw_ctx *ctx)
{
	const char *target = "head", *dialect_name = NULL;
	const struct gw_dialect *d;
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	struct gw_target t;
	bool offline = false;
	size_t *order = gw_calloc(ctx->graph.n + 1, sizeof(size_t));
	bool *done = gw_calloc(ctx->graph.n + 1, sizeof(bool));
	size_t n = 0;
	int npos = 0, rc = 0;

	for (int i = 1; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "--offline") == 0)
			offline = true;
		else if (strcmp(argv[i], "--dialect") == 0 && i + 1 < argc)
			dialect_name = argv[++i];
		else if (strncmp(argv[i], "--dialect=", 10) == 0)
			dialect_name = argv[i] + 10;
		else if (argv[i][0] == '-' && !(argv[i][1] >= '0' && argv[i][1] <= '9'))
			rc = gw_usage_error(ctx, "unknown option '%s'", argv[i]);
		else if (npos++ == 0)
			target = argv[i];
		else
			rc = gw_usage_error(ctx, "expected one target");
	}
	if (rc < 0)
		goto out;
	if (offline) {
		d = dialect_name ? gw_dialect_find(dialect_name) : NULL;
		if (!d) {
			rc = gw_usage_error(ctx, "--offline needs --dialect mysql or --dialect postgres");
			goto out;
		}
	} else {
		rc = gw_ctx_connect(ctx);
		if (rc == 0)
			rc = gw_store_check(&ctx->store, &ctx->err);
		if (rc == 0)
			rc = gw_store_load(&ctx->store, &a, &ctx->err);
		if (rc < 0)
			goto out;
		d = gw_conn_dialect(ctx->conn);
		for (size_t i = 0; i < ctx->graph.n; i++)
			done[i] = gw_applied_done(gw_applied_find(&a, ctx->graph.node[i]->id));
	}
	rc = gw_target_parse(&ctx->graph, target, &t, &ctx->err);
	if (rc == 0)
		rc = gw_graph_upgrade(&ctx->graph, done, &t, order, &n, &ctx->err);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		const struct gw_migration *m = ctx->graph.node[order[k]];
		const struct gw_applied *r = gw_applied_find(&a, m->id);
		int last = GW_NPHASES - 1;

		if (t.kind == GW_TARGET_REV && order[k] == t.rev && t.phase >= 0)
			last = t.phase;
		printf("-- %s: %s (%s)\n", m->id, m->message, d->name);
		for (int p = 0; rc == 0 && p <= last; p++) {
			if (r && r->state[p] == GW_STATE_COMPLETED)
				printf("-- %s: completed\n", gw_phase_name(p));
			else
				rc = print_phase(ctx, d, m, (enum gw_phase)p);
		}
		printf("\n");
	}
	if (rc == 0 && n == 0)
		printf("-- nothing to do\n");
out:
	gw_applied_set_release(&a);
	free(order);
	free(done);
	return rc;
}
