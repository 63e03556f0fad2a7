/*
 * Log lines to stderr, as text or as one JSON object per line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "godwit/log.h"

static enum gw_log_level max_level = GW_LOG_INFO;
static enum gw_log_format log_format = GW_LOG_TEXT;
static const char *const level_names[] = {"error", "warning", "info", "debug"};

void gw_log_setup(enum gw_log_level level, enum gw_log_format format)
{
	max_level = level;
	log_format = format;
}

bool gw_log_enabled(enum gw_log_level level)
{
	return level <= max_level;
}

static void emit(enum gw_log_level level, const char *ctx, const char *msg)
{
	if (log_format == GW_LOG_JSON) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;
		json_t *o;
		char *s;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		o = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level_names[level], "msg", msg);
		if (ctx)
			json_object_set_new(o, "ctx", json_string(ctx));
		s = json_dumps(o, JSON_COMPACT);
		fprintf(stderr, "%s\n", s);
		free(s);
		json_decref(o);
	} else if (level == GW_LOG_INFO) {
		fprintf(stderr, "%s%s%s\n", ctx ? ctx : "", ctx ? ": " : "", msg);
	} else {
		fprintf(stderr, "godwit: %s: %s%s%s\n", level_names[level], ctx ? ctx : "",
			ctx ? ": " : "", msg);
	}
}

void gw_log_generic(enum gw_log_level level, const char *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, ctx, msg);
}

void gw_log_error(const char *ctx, const struct gw_error *err)
{
	gw_log_generic(GW_LOG_ERROR, ctx, "%s", err->msg[0] ? err->msg : gw_strerror(err->code));
	if (err->sqlstate[0] || err->db_errno)
		gw_log_generic(GW_LOG_ERROR, ctx, "detail: server error %d, SQLSTATE %s",
			       err->db_errno, err->sqlstate[0] ? err->sqlstate : "-");
	if (err->hint[0])
		gw_log_generic(GW_LOG_ERROR, ctx, "hint: %s", err->hint);
}
