/*
 * Logging: one entry point with a level, a context prefix and a printf
 * format. Diagnostics go to stderr; program results go to stdout.
 */
#ifndef GODWIT_LOG_H
#define GODWIT_LOG_H

#include "godwit/common.h"

enum gw_log_level { GW_LOG_ERROR, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG };
enum gw_log_format { GW_LOG_TEXT, GW_LOG_JSON };

void gw_log_setup(enum gw_log_level level, enum gw_log_format format);
bool gw_log_enabled(enum gw_log_level level);
/* ctx (may be NULL) names what the line is about, e.g. "0003_x:expand". */
void gw_log_generic(enum gw_log_level level, const char *ctx, const char *fmt, ...)
	GW_PRINTF(3, 4);
/* Log err as an error with its hint and server detail. */
void gw_log_error(const char *ctx, const struct gw_error *err);

#define gw_log_at(lvl, ctx, ...) \
	do { \
		if (gw_log_enabled(lvl)) \
			gw_log_generic(lvl, ctx, __VA_ARGS__); \
	} while (0)
#define gw_error(ctx, ...) gw_log_at(GW_LOG_ERROR, ctx, __VA_ARGS__)
#define gw_warn(ctx, ...) gw_log_at(GW_LOG_WARN, ctx, __VA_ARGS__)
#define gw_info(ctx, ...) gw_log_at(GW_LOG_INFO, ctx, __VA_ARGS__)
#define gw_debug(ctx, ...) gw_log_at(GW_LOG_DEBUG, ctx, __VA_ARGS__)

#endif
