/*
 * Live control from any machine that reaches the database: pause and
 * resume write the control rows that the running runner obeys (within a
 * chunk, or a second while it waits). They need no runner lock.
 */
#include <stdio.h>
#include <string.h>

#include "godwit/cli.h"
#include "godwit/log.h"

/* Parse "REV[:PHASE]" and the flags; *stop set by --stop when allowed. */
static int control_args(struct gw_ctx *ctx, int argc, char **argv, bool allow_stop,
			struct gw_target *t, bool *stop)
{
	const char *text = NULL;

	*stop = false;
	for (int i = 1; i < argc; i++) {
		if (allow_stop && strcmp(argv[i], "--stop") == 0)
			*stop = true;
		else if (argv[i][0] == '-')
			return gw_usage_error(ctx, "unknown option '%s'", argv[i]);
		else if (text)
			return gw_usage_error(ctx, "expected one revision, got more");
		else
			text = argv[i];
	}
	if (!text)
		return gw_usage_error(ctx, "missing revision (REV or REV:PHASE)");
	if (gw_target_parse(&ctx->graph, text, t, &ctx->err) < 0)
		return ctx->err.code;
	if (t->kind != GW_TARGET_REV && t->kind != GW_TARGET_HEAD)
		return gw_usage_error(ctx, "expected a revision, optionally with :PHASE");
	return 0;
}

static int control(int argc, char **argv, struct gw_ctx *ctx, bool pause)
{
	struct gw_target t;
	const struct gw_migration *m;
	const char *want;
	bool stop;
	int rc = control_args(ctx, argc, argv, pause, &t, &stop);

	if (rc < 0)
		return rc;
	m = ctx->graph.node[t.rev];
	want = !pause ? NULL : stop ? "stop" : "paused";
	for (int p = 0; rc == 0 && p < GW_NPHASES; p++) {
		if (t.phase >= 0 && p != t.phase)
			continue;
		rc = gw_store_control(&ctx->store, m->id, (enum gw_phase)p, want, &ctx->err);
		if (rc == 0)
			rc = gw_store_event(&ctx->store, m->id, p, NULL, want ? want : "resume",
					    "requested by operator", &ctx->err);
	}
	if (rc == 0)
		gw_info(m->id, "%s%s%s requested; a running runner obeys within one chunk",
			pause ? (stop ? "stop" : "pause") : "resume", t.phase >= 0 ? " of " : "",
			t.phase >= 0 ? gw_phase_name(t.phase) : "");
	return rc;
}

int cmd_pause(int argc, char **argv, struct gw_ctx *ctx)
{
	return control(argc, argv, ctx, true);
}

int cmd_resume(int argc, char **argv, struct gw_ctx *ctx)
{
	return control(argc, argv, ctx, false);
}
