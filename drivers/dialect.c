/*
 * Dialect registry: find a dialect by name, and the quoting shorthands
 * every SQL builder uses.
 */
#include <strings.h>

#include "godwit/dialect.h"

/* Every spelling a URL scheme or a config file may use, first the canonical one. */
static const struct {
	const char *name;
	const struct gw_dialect *dialect;
} dialects[] = {
	{"mysql", &gw_dialect_mysql},
	{"mariadb", &gw_dialect_mysql},
	{"postgres", &gw_dialect_postgres},
	{"postgresql", &gw_dialect_postgres},
};

const struct gw_dialect *gw_dialect_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < GW_ARRAY_SIZE(dialects); i++)
		if (strcasecmp(name, dialects[i].name) == 0)
			return dialects[i].dialect;
	return NULL;
}

void gw_sql_ident(struct gw_buf *b, const struct gw_dialect *d, const char *name)
{
	d->ident(b, name);
}

char *gw_sql_quoted(const struct gw_dialect *d, const char *name)
{
	struct gw_buf b = GW_BUF_INIT;

	d->ident(&b, name);
	return gw_buf_detach(&b);
}

void gw_sql_ident_list(struct gw_buf *b, const struct gw_dialect *d, size_t n,
		       char *const *names)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			gw_buf_puts(b, ", ");
		d->ident(b, names[i]);
	}
}
