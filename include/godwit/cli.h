/*
 * The command line: the context every command runs in, the command table
 * and the command functions (one file per group in core/cli/).
 */
#ifndef GODWIT_CLI_H
#define GODWIT_CLI_H

#include <stdio.h>

#include "godwit/common.h"
#include "godwit/graph.h"
#include "godwit/migration.h"
#include "godwit/state.h"

struct gw_conn;

/* Prerequisites the dispatcher satisfies before calling a command. */
enum {
	GW_NEEDS_FILES = 1 << 0,  /* migration files loaded and the graph built */
	GW_NEEDS_DB = 1 << 1,     /* connected */
	GW_NEEDS_STORE = 1 << 2,  /* state store present (implies DB) */
	GW_NEEDS_LOCK = 1 << 3,   /* runner lock held (implies STORE) */
};

struct gw_cmd;

struct gw_ctx {
	const struct gw_cmd *cmd;     /* the command being run */
	const char *database_url;     /* borrowed: option or environment, NULL if none */
	const char *migrations_dir;   /* borrowed, default "migrations" */
	struct gw_conn *conn;         /* owned, NULL until connected */
	struct gw_store store;        /* valid once connected */
	struct gw_migration_set set;  /* valid with GW_NEEDS_FILES */
	struct gw_graph graph;        /* valid with GW_NEEDS_FILES */
	struct gw_error err;          /* the command's failure */
	bool until_window_ends;       /* backfill: stop (exit 4) when the schedule closes */
};

typedef int gw_cmd_fn(int argc, char **argv, struct gw_ctx *ctx);

struct gw_cmd {
	const char *name;
	gw_cmd_fn *fn;
	unsigned flags;       /* GW_NEEDS_* */
	const char *usage;    /* "godwit up [TARGET]" */
	const char *help;     /* one line */
};

/* Prerequisites on demand, for commands that need them conditionally. */
GW_MUSTCHECK int gw_ctx_load_files(struct gw_ctx *ctx);
GW_MUSTCHECK int gw_ctx_connect(struct gw_ctx *ctx);
void gw_ctx_release(struct gw_ctx *ctx);

/* Print the usage of ctx->cmd to f, with its options text (may be NULL). */
void gw_cmd_usage(const struct gw_ctx *ctx, FILE *f, const char *options);
/* Fill ctx->err with GW_ERR_USAGE and a message; returns GW_ERR_USAGE. */
int gw_usage_error(struct gw_ctx *ctx, const char *fmt, ...) GW_PRINTF(2, 3);

gw_cmd_fn cmd_init, cmd_new, cmd_merge;
gw_cmd_fn cmd_up, cmd_expand, cmd_backfill, cmd_contract, cmd_start, cmd_complete;
gw_cmd_fn cmd_down, cmd_rollback, cmd_stamp;
gw_cmd_fn cmd_current, cmd_history, cmd_heads, cmd_branches, cmd_status;
gw_cmd_fn cmd_plan, cmd_pause, cmd_resume, cmd_throttle, cmd_cleanup, cmd_verify;
gw_cmd_fn cmd_serve;

#endif
