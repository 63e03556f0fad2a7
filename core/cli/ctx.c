/*
 * The command context: loading files, connecting, usage messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "godwit/cli.h"
#include "godwit/driver.h"

int gw_ctx_load_files(struct gw_ctx *ctx)
{
	int rc;

	if (ctx->set.dir)
		return 0;
	rc = gw_migration_set_load(ctx->migrations_dir, false, &ctx->set, &ctx->err);
	if (rc == 0)
		rc = gw_graph_build(&ctx->set, &ctx->graph, &ctx->err);
	return rc;
}

int gw_ctx_connect(struct gw_ctx *ctx)
{
	int rc;

	if (ctx->conn)
		return 0;
	if (!ctx->database_url) {
		gw_error_set(&ctx->err, GW_ERR_USAGE, "no database given");
		gw_error_hint(&ctx->err,
			      "pass --database-url or set GODWIT_DATABASE_URL or DATABASE_URL");
		return GW_ERR_USAGE;
	}
	rc = gw_connect(ctx->database_url, &ctx->conn, &ctx->err);
	if (rc == 0)
		gw_store_init(&ctx->store, ctx->conn);
	return rc;
}

void gw_ctx_release(struct gw_ctx *ctx)
{
	if (ctx->conn)
		gw_store_unlock(&ctx->store);
	gw_conn_close(ctx->conn);
	ctx->conn = NULL;
	gw_graph_release(&ctx->graph);
	gw_migration_set_release(&ctx->set);
}

void gw_cmd_usage(const struct gw_ctx *ctx, FILE *f, const char *options)
{
	fprintf(f, "usage: %s\n\n%s\n", ctx->cmd->usage, ctx->cmd->help);
	if (options)
		fprintf(f, "\noptions:\n%s", options);
}

int gw_usage_error(struct gw_ctx *ctx, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gw_error_set(&ctx->err, GW_ERR_USAGE, "%s", msg);
	gw_error_hint(&ctx->err, "see 'godwit %s --help'", ctx->cmd ? ctx->cmd->name : "");
	return GW_ERR_USAGE;
}
