/*
 * Growable string buffer, always NUL-terminated.
 */
#ifndef GODWIT_BUF_H
#define GODWIT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "godwit/common.h"

struct gw_buf {
	char *data;  /* NUL-terminated; "" (static) while empty and unallocated */
	size_t len;  /* bytes used, excluding the NUL */
	size_t cap;  /* bytes allocated, 0 while data is static */
};
#define GW_BUF_INIT {gw_buf_empty, 0, 0}
extern char gw_buf_empty[1];

void gw_buf_init(struct gw_buf *b);
void gw_buf_release(struct gw_buf *b);     /* frees and re-initialises */
void gw_buf_reset(struct gw_buf *b);       /* length 0, keeps memory */
char *gw_buf_detach(struct gw_buf *b);     /* new; caller frees with free() */
void gw_buf_put(struct gw_buf *b, const char *s, size_t n);
void gw_buf_puts(struct gw_buf *b, const char *s);
void gw_buf_putc(struct gw_buf *b, char c);
void gw_buf_printf(struct gw_buf *b, const char *fmt, ...) GW_PRINTF(2, 3);
void gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap) GW_PRINTF(2, 0);

#endif
