/*
 * Growable NUL-terminated string buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"

char gw_buf_empty[1];

void gw_buf_init(struct gw_buf *b)
{
	b->data = gw_buf_empty;
	b->len = 0;
	b->cap = 0;
}

void gw_buf_release(struct gw_buf *b)
{
	if (b->cap)
		free(b->data);
	gw_buf_init(b);
}

void gw_buf_reset(struct gw_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

static void grow(struct gw_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;
	size_t cap;

	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	if (b->cap) {
		b->data = gw_realloc(b->data, cap);
	} else {
		b->data = gw_malloc(cap);
		b->data[0] = '\0';
	}
	b->cap = cap;
}

char *gw_buf_detach(struct gw_buf *b)
{
	char *p;

	grow(b, 0);
	p = b->data;
	gw_buf_init(b);
	return p;
}

void gw_buf_put(struct gw_buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void gw_buf_puts(struct gw_buf *b, const char *s)
{
	gw_buf_put(b, s, strlen(s));
}

void gw_buf_putc(struct gw_buf *b, char c)
{
	gw_buf_put(b, &c, 1);
}

void gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		GW_BUG("bad format");
	grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
}

void gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gw_buf_vprintf(b, fmt, ap);
	va_end(ap);
}
