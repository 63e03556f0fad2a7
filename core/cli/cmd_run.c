/*
 * Commands that move the database: up, expand, backfill, contract, start,
 * complete, down, rollback, stamp, init.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/cli.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/runner.h"
#include "godwit/serve.h"

/* The single optional or required TARGET argument of a command. */
static int one_target(struct gw_ctx *ctx, int argc, char **argv, const char *dflt,
		      const char **out)
{
	int npos = 0;

	*out = dflt;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue;
		if (argv[i][0] == '-' && !(argv[i][1] >= '0' && argv[i][1] <= '9'))
			return gw_usage_error(ctx, "unknown option '%s'", argv[i]);
		*out = argv[i];
		npos++;
	}
	if (npos > 1)
		return gw_usage_error(ctx, "expected one target, got %d", npos);
	if (!*out)
		return gw_usage_error(ctx, "missing target");
	return 0;
}

static int forward(int argc, char **argv, struct gw_ctx *ctx, enum gw_phase first,
		   enum gw_phase last)
{
	struct gw_serve_opts so = {NULL, NULL, ctx->database_url, &ctx->graph};
	struct gw_serve *srv = NULL;
	const char *text, *token_file = NULL;
	struct gw_target t;
	char *token = NULL;
	int n = 0, rc;

	/* the options of the runs that copy, the rest is the target */
	for (int i = 0; i < argc; i++) {
		bool valued = i + 1 < argc && argv[i + 1][0] != '-';

		if (i > 0 && strcmp(argv[i], "--until-window-ends") == 0 &&
		    first <= GW_PHASE_BACKFILL && last >= GW_PHASE_BACKFILL)
			ctx->until_window_ends = true;
		else if (i > 0 && strcmp(argv[i], "--listen") == 0 && valued)
			so.listen = argv[++i];
		else if (i > 0 && strcmp(argv[i], "--token-file") == 0 && valued)
			token_file = argv[++i];
		else
			argv[n++] = argv[i];
	}
	rc = one_target(ctx, n, argv, "head", &text);
	if (rc == 0)
		rc = gw_target_parse(&ctx->graph, text, &t, &ctx->err);
	/* the runner serves the HTTP API while it runs (see godwit serve) */
	if (rc == 0 && so.listen) {
		rc = gw_serve_token(token_file, &token, &ctx->err);
		so.token = token;
		if (rc == 0)
			rc = gw_serve_start(&srv, &so, &ctx->err);
	}
	if (rc == 0)
		rc = gw_run_forward(ctx, &t, first, last);
	gw_serve_stop(srv);
	free(token);
	return rc;
}

int cmd_up(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_EXPAND, GW_PHASE_CONTRACT);
}

int cmd_expand(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_EXPAND, GW_PHASE_EXPAND);
}

int cmd_backfill(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_BACKFILL, GW_PHASE_BACKFILL);
}

int cmd_contract(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_CONTRACT, GW_PHASE_CONTRACT);
}

int cmd_start(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_EXPAND, GW_PHASE_BACKFILL);
}

int cmd_complete(int argc, char **argv, struct gw_ctx *ctx)
{
	return forward(argc, argv, ctx, GW_PHASE_CONTRACT, GW_PHASE_CONTRACT);
}

int cmd_down(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_target t;
	const char *text;
	int rc = one_target(ctx, argc, argv, NULL, &text);

	if (rc == 0)
		rc = gw_target_parse(&ctx->graph, text, &t, &ctx->err);
	if (rc == 0)
		rc = gw_run_down(ctx, &t);
	return rc;
}

int cmd_rollback(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_target t;
	const char *text;
	int rc = one_target(ctx, argc, argv, NULL, &text);

	if (rc == 0)
		rc = gw_target_parse(&ctx->graph, text, &t, &ctx->err);
	if (rc == 0 && t.kind != GW_TARGET_REV && t.kind != GW_TARGET_HEAD)
		rc = gw_usage_error(ctx, "rollback takes a revision, optionally with :PHASE");
	if (rc == 0)
		rc = gw_run_rollback(ctx, t.rev, t.phase);
	return rc;
}

/* A command on one revision (no phase). */
static int one_rev(int argc, char **argv, struct gw_ctx *ctx, const char *what, size_t *rev)
{
	struct gw_target t;
	const char *text;
	int rc = one_target(ctx, argc, argv, NULL, &text);

	if (rc == 0)
		rc = gw_target_parse(&ctx->graph, text, &t, &ctx->err);
	if (rc == 0 && ((t.kind != GW_TARGET_REV && t.kind != GW_TARGET_HEAD) || t.phase >= 0))
		rc = gw_usage_error(ctx, "%s takes a revision", what);
	*rev = t.rev;
	return rc;
}

int cmd_cleanup(int argc, char **argv, struct gw_ctx *ctx)
{
	size_t rev = 0;
	int rc = one_rev(argc, argv, ctx, "cleanup", &rev);

	return rc < 0 ? rc : gw_run_cleanup(ctx, rev);
}

int cmd_verify(int argc, char **argv, struct gw_ctx *ctx)
{
	size_t rev = 0;
	int rc = one_rev(argc, argv, ctx, "verify", &rev);

	return rc < 0 ? rc : gw_run_verify(ctx, rev);
}

int cmd_stamp(int argc, char **argv, struct gw_ctx *ctx)
{
	struct gw_target t;
	const char *text;
	int rc = one_target(ctx, argc, argv, NULL, &text);

	if (rc == 0)
		rc = gw_target_parse(&ctx->graph, text, &t, &ctx->err);
	if (rc == 0 && ((t.kind != GW_TARGET_REV && t.kind != GW_TARGET_HEAD &&
			 t.kind != GW_TARGET_BASE) || t.phase >= 0))
		rc = gw_usage_error(ctx, "stamp takes a revision, head or base");
	if (rc == 0)
		rc = gw_run_stamp(ctx, &t);
	return rc;
}

int cmd_init(int argc, char **argv, struct gw_ctx *ctx)
{
	int rc;

	if (argc > 1)
		return gw_usage_error(ctx, "init takes no arguments");
	rc = gw_store_create(&ctx->store, &ctx->err);
	if (rc == 0)
		gw_info(NULL, "state store ready in database '%s'", ctx->conn->database);
	(void)argv;
	return rc;
}
