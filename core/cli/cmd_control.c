/*
 * Live control from any machine that reaches the database: pause, resume
 * and throttle write the control rows that the running runner obeys
 * (within a chunk, or a second while it waits). They need no runner lock.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/cli.h"
#include "godwit/log.h"
#include "godwit/state.h"

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

/* A limit's value: a non-negative number (scale: 1000 for seconds given in ms). */
static int limit_arg(struct gw_ctx *ctx, const char *opt, const char *v, double scale,
		     long long *out)
{
	char *end;
	double d = v ? strtod(v, &end) : -1;

	if (!v || end == v || *end || d < 0 || d * scale > 1e15)
		return gw_usage_error(ctx, "%s: expected a number >= 0, got '%s'", opt,
				      v ? v : "nothing");
	*out = (long long)(d * scale + 0.5);
	return 0;
}

int cmd_throttle(int argc, char **argv, struct gw_ctx *ctx)
{
	static const struct {
		const char *opt;
		double scale;
		size_t off;
	} opts[] = {
		{"--rate", 1, offsetof(struct gw_limits, rate)},
		{"--chunk-time", 1, offsetof(struct gw_limits, chunk_time_ms)},
		{"--max-lag", 1000, offsetof(struct gw_limits, max_lag_ms)},
		{"--max-load", 1, offsetof(struct gw_limits, max_load)},
	};
	struct gw_limits l = GW_LIMITS_UNSET;
	struct gw_target t;
	const struct gw_migration *m;
	char *rest[3] = {argv[0], NULL, NULL}, detail[160];
	bool reset = false, any = false, stop;
	int nrest = 1, rc = 0;

	for (int i = 1; rc == 0 && i < argc; i++) {
		size_t k = 0;

		while (k < GW_ARRAY_SIZE(opts) && strcmp(argv[i], opts[k].opt) != 0)
			k++;
		if (k < GW_ARRAY_SIZE(opts)) {
			rc = limit_arg(ctx, argv[i], i + 1 < argc ? argv[i + 1] : NULL, opts[k].scale,
				       (long long *)((char *)&l + opts[k].off));
			i++;
			any = true;
		} else if (strcmp(argv[i], "--reset") == 0) {
			reset = any = true;
		} else if (nrest < 3) {
			rest[nrest++] = argv[i];
		} else {
			rc = gw_usage_error(ctx, "unexpected argument '%s'", argv[i]);
		}
	}
	if (rc == 0 && !any)
		rc = gw_usage_error(ctx, "nothing to change: give --rate, --chunk-time, --max-lag, "
					 "--max-load or --reset");
	if (rc == 0 && l.chunk_time_ms == 0)
		rc = gw_usage_error(ctx, "--chunk-time: expected a number > 0");
	if (rc == 0)
		rc = control_args(ctx, nrest, rest, false, &t, &stop);
	if (rc < 0)
		return rc;
	m = ctx->graph.node[t.rev];
	snprintf(detail, sizeof(detail), "throttle%s rate=%lld chunk_time_ms=%lld max_lag_ms=%lld "
		 "max_load=%lld", reset ? " reset," : "", l.rate, l.chunk_time_ms, l.max_lag_ms,
		 l.max_load);
	for (int p = 0; rc == 0 && p < GW_NPHASES; p++) {
		if (t.phase >= 0 && p != t.phase)
			continue;
		rc = gw_store_set_limits(&ctx->store, m->id, (enum gw_phase)p, &l, reset, &ctx->err);
		if (rc == 0)
			rc = gw_store_event(&ctx->store, m->id, p, NULL, NULL, detail, &ctx->err);
	}
	if (rc == 0)
		gw_info(m->id, "limits set (-1: the file's); a running runner applies them before "
			       "its next chunk: %s", detail + 9);
	return rc;
}
