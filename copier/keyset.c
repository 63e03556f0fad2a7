/*
 * Keyset chunking: which key a table is walked by, the SQL conditions of a
 * key range per dialect, and the adaptive chunk size. Pure functions.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/copier.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"

bool gw_integer_type(const char *type)
{
	static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int",
					   "integer", "bigint"};

	for (size_t i = 0; i < GW_ARRAY_SIZE(ints); i++) {
		size_t n = strlen(ints[i]);

		if (strncasecmp(type, ints[i], n) == 0 &&
		    (type[n] == '\0' || type[n] == '(' || type[n] == ' '))
			return true;
	}
	return false;
}

static void key_from(const struct gw_table_info *t, size_t n, char *const *cols,
		     const char *index, struct gw_key *k)
{
	k->n = n;
	k->cols = gw_calloc(n, sizeof(char *));
	k->integer = gw_calloc(n, sizeof(bool));
	k->index = gw_strdup(index);
	for (size_t i = 0; i < n; i++) {
		const struct gw_column_info *c = gw_table_info_column(t, cols[i]);

		k->cols[i] = gw_strdup(cols[i]);
		k->integer[i] = c && gw_integer_type(c->type);
	}
}

void gw_key_from_index(const struct gw_table_info *t, const struct gw_index_info *ix,
		       struct gw_key *k)
{
	key_from(t, ix->ncolumns, ix->columns, ix->name, k);
}

bool gw_key_usable(const struct gw_table_info *t, const struct gw_index_info *ix)
{
	if (!ix->unique || ix->ncolumns == 0)
		return false;
	for (size_t i = 0; i < ix->ncolumns; i++) {
		const struct gw_column_info *c = gw_table_info_column(t, ix->columns[i]);

		if (!c || c->nullable)
			return false;
	}
	return true;
}

int gw_key_choose(const struct gw_table_info *t, struct gw_key *k, struct gw_error *err)
{
	memset(k, 0, sizeof(*k));
	if (t->npk) {
		for (size_t i = 0; i < t->nindexes; i++)
			if (t->indexes[i].primary) {
				key_from(t, t->npk, t->pk, t->indexes[i].name, k);
				return 0;
			}
		key_from(t, t->npk, t->pk, "PRIMARY", k);
		return 0;
	}
	for (size_t i = 0; i < t->nindexes; i++) {
		if (gw_key_usable(t, &t->indexes[i])) {
			gw_key_from_index(t, &t->indexes[i], k);
			return 0;
		}
	}
	gw_error_set(err, GW_ERR_INPUT,
		     "table '%s' has no primary key and no unique key on NOT NULL columns, so it "
		     "cannot be walked in chunks",
		     t->name);
	gw_error_hint(err, "add a primary key first (a migration of its own), then retry");
	return GW_ERR_INPUT;
}

void gw_key_copy(struct gw_key *to, const struct gw_key *from)
{
	to->n = from->n;
	to->cols = gw_calloc(from->n + 1, sizeof(char *));
	to->integer = gw_calloc(from->n + 1, sizeof(bool));
	to->index = gw_strdup(from->index);
	for (size_t i = 0; i < from->n; i++) {
		to->cols[i] = gw_strdup(from->cols[i]);
		to->integer[i] = from->integer[i];
	}
}

void gw_key_release(struct gw_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->cols[i]);
	free(k->cols);
	free(k->integer);
	free(k->index);
	memset(k, 0, sizeof(*k));
}

void gw_chunker_init(struct gw_chunker *c, double target_ms)
{
	c->min = GW_CHUNK_MIN;
	c->max = GW_CHUNK_MAX;
	c->size = GW_CHUNK_FIRST;
	c->target_ms = target_ms > 0 ? target_ms : 500;
}

void gw_chunker_update(struct gw_chunker *c, long rows, double ms)
{
	double want;

	if (rows <= 0)
		return;
	if (ms < 1)
		ms = 1;
	want = (double)rows * c->target_ms / ms;
	/* Grow carefully (a fast chunk may be luck), shrink at once. */
	if (want > 2.0 * (double)c->size)
		want = 2.0 * (double)c->size;
	if (want < c->min)
		want = (double)c->min;
	if (want > c->max)
		want = (double)c->max;
	c->size = (long)want;
}

static bool is_integer_text(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void put_value(struct gw_buf *b, const struct gw_key *k, const struct gw_keyval *v,
		      size_t i, int *nparams, const char **params)
{
	if (k->integer[i] && is_integer_text(v->v[i])) {
		gw_buf_puts(b, v->v[i]);
		return;
	}
	params[*nparams] = v->v[i];
	(*nparams)++;
	gw_buf_printf(b, "$%d", *nparams);
}

/*
 * PostgreSQL compares row values in index order: (a, b) > (x, y). MariaDB
 * does not use an index for that form, so it gets the expanded
 * disjunction: a > x OR (a = x AND b > y).
 */
void gw_keyset_cond(struct gw_buf *b, const struct gw_dialect *d, const struct gw_key *k,
		    const struct gw_keyval *v, bool strict, int *nparams, const char **params)
{
	const char *op = strict ? ">" : "<=";

	gw_assert(v->n == k->n);
	if (k->n == 1 || d->id == GW_DIALECT_POSTGRES) {
		gw_buf_putc(b, '(');
		gw_sql_ident_list(b, d, k->n, k->cols);
		gw_buf_printf(b, ") %s (", op);
		for (size_t i = 0; i < k->n; i++) {
			if (i)
				gw_buf_puts(b, ", ");
			put_value(b, k, v, i, nparams, params);
		}
		gw_buf_putc(b, ')');
		return;
	}
	gw_buf_putc(b, '(');
	for (size_t i = 0; i < k->n; i++) {
		if (i)
			gw_buf_puts(b, " OR ");
		gw_buf_putc(b, '(');
		for (size_t j = 0; j < i; j++) {
			d->ident(b, k->cols[j]);
			gw_buf_puts(b, " = ");
			put_value(b, k, v, j, nparams, params);
			gw_buf_puts(b, " AND ");
		}
		d->ident(b, k->cols[i]);
		gw_buf_printf(b, " %s ", strict ? ">" : i + 1 == k->n ? "<=" : "<");
		put_value(b, k, v, i, nparams, params);
		gw_buf_putc(b, ')');
	}
	gw_buf_putc(b, ')');
}

char *gw_keyset_edge_sql(const struct gw_dialect *d, const char *table, const struct gw_key *k,
			 bool last)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "SELECT ");
	gw_sql_ident_list(&b, d, k->n, k->cols);
	gw_buf_puts(&b, " FROM ");
	d->ident(&b, table);
	gw_buf_puts(&b, " ORDER BY ");
	for (size_t i = 0; i < k->n; i++) {
		if (i)
			gw_buf_puts(&b, ", ");
		d->ident(&b, k->cols[i]);
		if (last)
			gw_buf_puts(&b, " DESC");
	}
	gw_buf_puts(&b, " LIMIT 1");
	return gw_buf_detach(&b);
}
