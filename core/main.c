/*
 * godwit: parse the global options, satisfy a command's prerequisites,
 * dispatch, and turn the result into an exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/cli.h"
#include "godwit/driver.h"
#include "godwit/log.h"

#define FILES GW_NEEDS_FILES
#define LOCK (GW_NEEDS_FILES | GW_NEEDS_DB | GW_NEEDS_STORE | GW_NEEDS_LOCK)
#define STORE (GW_NEEDS_FILES | GW_NEEDS_DB | GW_NEEDS_STORE)

static const struct gw_cmd commands[] = {
	{"init", cmd_init, GW_NEEDS_DB, "godwit init",
	 "Create the state store in the target database (idempotent)."},
	{"new", cmd_new, 0, "godwit new [--id ID] MESSAGE",
	 "Write a new migration file whose parent is the current head.\n"
	 "  --id ID   revision id (default: next number and a slug of MESSAGE)"},
	{"merge", cmd_merge, FILES, "godwit merge REV REV... -m MESSAGE [--id ID]",
	 "Write a merge revision whose parents are the given revisions."},
	{"up", cmd_up, LOCK, "godwit up [TARGET] [--listen ADDR [--token-file FILE]]",
	 "Run every pending phase up to TARGET (default head; heads; +N; REV; REV:PHASE).\n"
	 "  --listen ADDR       serve the HTTP control API while running (see serve)\n"
	 "  --token-file FILE   the bearer token its POST requests need\n"
	 "  --until-window-ends as for backfill\n"
	 "expand, backfill, contract, start and complete take the same options."},
	{"expand", cmd_expand, LOCK, "godwit expand [TARGET]",
	 "Run the expand phase of each pending migration up to TARGET."},
	{"backfill", cmd_backfill, LOCK, "godwit backfill [TARGET] [--until-window-ends]",
	 "Run the backfill phase of each pending migration up to TARGET.\n"
	 "  --until-window-ends   when the migration's schedule window closes, stop (paused)\n"
	 "                        and exit with status 4 instead of waiting for the next one\n"
	 "                        (also taken by up and start)"},
	{"contract", cmd_contract, LOCK, "godwit contract [TARGET]",
	 "Run the contract phase of each pending migration up to TARGET."},
	{"start", cmd_start, LOCK, "godwit start [TARGET]",
	 "Run expand and backfill (before deploying the new application)."},
	{"complete", cmd_complete, LOCK, "godwit complete [TARGET]",
	 "Run contract (after the new application is deployed)."},
	{"down", cmd_down, LOCK, "godwit down TARGET",
	 "Roll back whole migrations down to TARGET (-N, REV, REV:PHASE, base)."},
	{"rollback", cmd_rollback, LOCK, "godwit rollback REV[:PHASE]",
	 "Roll back one phase of REV, or all of its phases latest first."},
	{"stamp", cmd_stamp, LOCK, "godwit stamp REV",
	 "Record REV and its ancestors as applied without running anything (base: none)."},
	{"verify", cmd_verify, LOCK, "godwit verify REV",
	 "Compare each shadow-table rebuild of REV with its table by checksum, chunk by\n"
	 "chunk, copying again what differs; exit 1 if a chunk still differs."},
	{"cleanup", cmd_cleanup, LOCK, "godwit cleanup REV",
	 "After cut-over, drop what REV keeps to undo it (the old table and its sync);\n"
	 "its contract can no longer be rolled back."},
	{"pause", cmd_pause, STORE, "godwit pause REV[:PHASE] [--stop]",
	 "Pause a migration (or one phase): the runner stops within one chunk and waits.\n"
	 "  --stop   the runner records the phase paused and exits with status 4 instead\n"
	 "A paused phase stays paused, across runner restarts, until resumed."},
	{"resume", cmd_resume, STORE, "godwit resume REV[:PHASE]",
	 "Lift a pause: a waiting runner goes on within a second; otherwise run again."},
	{"throttle", cmd_throttle, STORE,
	 "godwit throttle REV[:PHASE] [--rate N] [--chunk-time MS] [--max-lag S] [--max-load N]"
	 " [--reset]",
	 "Change the copy's limits live, over the migration file's options; a running\n"
	 "runner applies them before its next chunk. 0 lifts a limit.\n"
	 "  --rate N          rows per second\n"
	 "  --chunk-time MS   target time of a chunk\n"
	 "  --max-lag S       seconds of lag of the worst replica (e.g. 1.5)\n"
	 "  --max-load N      Threads_running (MariaDB/MySQL), active backends (PostgreSQL)\n"
	 "                    or the file's load_query\n"
	 "  --reset           back to the file's options (with others: then set those)"},
	{"current", cmd_current, STORE, "godwit current",
	 "Show the applied heads, and any migration with phases in flight."},
	{"history", cmd_history, FILES, "godwit history [--verbose]",
	 "List revisions newest first; with a database, show each one's phase states.\n"
	 "  -v, --verbose   file, parents, phases and times"},
	{"heads", cmd_heads, FILES, "godwit heads", "List the head revisions."},
	{"branches", cmd_branches, FILES, "godwit branches",
	 "List branch points and the revisions that branch from them."},
	{"status", cmd_status, STORE, "godwit status [--json] [--watch]",
	 "Every migration and the state of each phase: rows done, %, rows/s, ETA, chunk size,\n"
	 "why it waits, operator control.\n"
	 "  --json    machine-readable output\n"
	 "  --watch   refresh every second until interrupted"},
	{"serve", cmd_serve, FILES, "godwit serve [--listen ADDR] [--token-file FILE]",
	 "Serve status and control over HTTP until SIGINT/SIGTERM, through the state store.\n"
	 "  GET /          status page            GET /metrics   Prometheus text format\n"
	 "  GET /status    as status --json       POST /pause, /resume, /throttle (JSON body)\n"
	 "  --listen ADDR       HOST:PORT or unix:/PATH (default 127.0.0.1:7878); a host\n"
	 "                      other than loopback needs a token\n"
	 "  --token-file FILE   the bearer token every POST must send (default: the\n"
	 "                      GODWIT_HTTP_TOKEN variable); without one, POSTs are refused"},
	{"plan", cmd_plan, FILES, "godwit plan [TARGET] [--offline --dialect mysql|postgres]",
	 "Print the SQL of every phase up to TARGET without running it.\n"
	 "  --offline          do not connect; assume nothing is applied\n"
	 "  --dialect NAME     mysql or postgres (with --offline)"},
	{NULL, NULL, 0, NULL, NULL},
};

static const char usage_text[] =
	"usage: godwit [--database-url URL] [--migrations DIR] [--log-format text|json]\n"
	"              [-v | -q] COMMAND [ARGS]\n"
	"\n"
	"Zero-downtime schema migrations for MariaDB/MySQL and PostgreSQL.\n"
	"The database comes from --database-url, GODWIT_DATABASE_URL or DATABASE_URL.\n"
	"\n"
	"commands:\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
	for (const struct gw_cmd *c = commands; c->name; c++) {
		const char *nl = strchr(c->help, '\n');

		fprintf(f, "  %-10s %.*s\n", c->name, (int)(nl ? (size_t)(nl - c->help) : strlen(c->help)),
			c->help);
	}
	fputs("\nRun 'godwit COMMAND --help' for a command's options.\n"
	      "Exit status: 0 done, 1 runtime failure, 2 bad input, 3 locked by another runner,\n"
	      "4 paused or stopped (resumable).\n",
	      f);
}

/* Value of a global option at argv[*i] ("--x=v" or "--x v"), consuming it. */
static const char *take_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int prerequisites(struct gw_ctx *ctx, unsigned flags)
{
	int rc = 0;

	if (flags & GW_NEEDS_FILES)
		rc = gw_ctx_load_files(ctx);
	if (rc == 0 && (flags & (GW_NEEDS_DB | GW_NEEDS_STORE | GW_NEEDS_LOCK)))
		rc = gw_ctx_connect(ctx);
	if (rc == 0 && (flags & (GW_NEEDS_STORE | GW_NEEDS_LOCK)))
		rc = gw_store_check(&ctx->store, &ctx->err);
	if (rc == 0 && (flags & GW_NEEDS_LOCK))
		rc = gw_store_lock(&ctx->store, &ctx->err);
	return rc;
}

int main(int argc, char **argv)
{
	struct gw_ctx ctx = {0};
	enum gw_log_level level = GW_LOG_INFO;
	enum gw_log_format format = GW_LOG_TEXT;
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int nargs = 0, rc, status;
	bool dashdash = false;

	if (!args)
		return 1;
	ctx.database_url = getenv("GODWIT_DATABASE_URL");
	if (!ctx.database_url || !*ctx.database_url)
		ctx.database_url = getenv("DATABASE_URL");
	ctx.migrations_dir = getenv("GODWIT_MIGRATIONS");
	if (!ctx.migrations_dir || !*ctx.migrations_dir)
		ctx.migrations_dir = "migrations";

	/* Global options may stand before or after the command. */
	for (int i = 1; i < argc; i++) {
		const char *v;

		if (dashdash || argv[i][0] != '-') {
			args[nargs++] = argv[i];
		} else if (strcmp(argv[i], "--") == 0) {
			dashdash = true;
			args[nargs++] = argv[i];
		} else if ((v = take_value(argc, argv, &i, "--database-url"))) {
			ctx.database_url = v;
		} else if ((v = take_value(argc, argv, &i, "--migrations"))) {
			ctx.migrations_dir = v;
		} else if ((v = take_value(argc, argv, &i, "--log-format"))) {
			if (strcmp(v, "json") == 0) {
				format = GW_LOG_JSON;
			} else if (strcmp(v, "text") != 0) {
				fprintf(stderr, "godwit: error: --log-format must be text or json\n");
				free(args);
				return 2;
			}
		} else if (strcmp(argv[i], "--verbose-log") == 0) {
			level = GW_LOG_DEBUG;
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			level = GW_LOG_WARN;
		} else if (nargs == 0 && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			usage(stdout);
			free(args);
			return 0;
		} else if (nargs == 0 && strcmp(argv[i], "--version") == 0) {
			printf("godwit 0.1.0\n");
			free(args);
			return 0;
		} else {
			args[nargs++] = argv[i];
		}
	}
	gw_log_setup(level, format);
	if (nargs == 0) {
		usage(stderr);
		free(args);
		return 2;
	}
	for (const struct gw_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, args[0]) == 0)
			ctx.cmd = c;
	if (!ctx.cmd) {
		fprintf(stderr, "godwit: error: unknown command '%s'\n", args[0]);
		fprintf(stderr, "godwit: hint: run 'godwit --help' for the list\n");
		free(args);
		return 2;
	}
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "--") == 0)
			break;
		if (strcmp(args[i], "-h") == 0 || strcmp(args[i], "--help") == 0) {
			gw_cmd_usage(&ctx, stdout, NULL);
			free(args);
			return 0;
		}
	}

	rc = prerequisites(&ctx, ctx.cmd->flags);
	if (rc == 0)
		rc = ctx.cmd->fn(nargs, args, &ctx);
	status = rc == 0 ? 0 : gw_exit_code(rc);
	if (rc < 0) {
		if (!ctx.err.code)
			gw_error_set(&ctx.err, rc, "%s failed: %s", ctx.cmd->name, gw_strerror(rc));
		gw_log_error(NULL, &ctx.err);
	}
	gw_ctx_release(&ctx);
	free(args);
	return status;
}
