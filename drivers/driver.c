/*
 * Driver registry, connecting from a URL, buffered results and the
 * introspection records shared by both backends.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/driver.h"

static const struct gw_driver *const drivers[] = {&gw_driver_mysql, &gw_driver_postgres};

const struct gw_driver *gw_driver_find(const char *name)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(drivers); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

int gw_connect(const char *url_text, struct gw_conn **out, struct gw_error *err)
{
	struct gw_url url = GW_URL_INIT;
	const struct gw_driver *drv;
	int rc;

	rc = gw_url_parse(url_text, &url, err);
	if (rc < 0)
		goto out;
	drv = gw_driver_find(url.engine);
	if (!drv) {
		rc = gw_error_set(err, GW_ERR_URL, "no driver for engine '%s'", url.engine);
		goto out;
	}
	rc = drv->connect(&url, out, err);
out:
	gw_url_release(&url);
	return rc;
}

const char *gw_result_get(const struct gw_result *r, int row, int col)
{
	gw_assert(row >= 0 && row < r->nrows && col >= 0 && col < r->ncols);
	return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

struct gw_result *gw_result_new(int ncols, const char *const *colnames)
{
	struct gw_result *r = gw_calloc(1, sizeof(*r));

	r->ncols = ncols;
	r->affected = -1;
	r->colnames = gw_calloc((size_t)ncols, sizeof(char *));
	for (int i = 0; i < ncols; i++)
		r->colnames[i] = gw_strdup(colnames[i]);
	return r;
}

void gw_result_add_row(struct gw_result *r, const char *const *values)
{
	size_t base = (size_t)r->nrows * (size_t)r->ncols;

	r->cells = gw_realloc(r->cells, (base + (size_t)r->ncols) * sizeof(char *));
	for (int i = 0; i < r->ncols; i++)
		r->cells[base + (size_t)i] = gw_strdup(values[i]);
	r->nrows++;
}

void gw_result_free(struct gw_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < (size_t)r->nrows * (size_t)r->ncols; i++)
		free(r->cells[i]);
	for (int i = 0; i < r->ncols; i++)
		free(r->colnames[i]);
	free(r->cells);
	free(r->colnames);
	free(r);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_fks(struct gw_fk_info *fk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fk[i].name);
		free(fk[i].table);
		free_strv(fk[i].columns, fk[i].ncolumns);
		free(fk[i].ref_table);
		free_strv(fk[i].ref_columns, fk[i].ncolumns);
	}
	free(fk);
}

void gw_table_info_free(struct gw_table_info *t)
{
	if (!t)
		return;
	free(t->name);
	for (size_t i = 0; i < t->ncolumns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].type);
		free(t->columns[i].default_expr);
	}
	free(t->columns);
	free_strv(t->pk, t->npk);
	for (size_t i = 0; i < t->nindexes; i++) {
		free(t->indexes[i].name);
		free_strv(t->indexes[i].columns, t->indexes[i].ncolumns);
	}
	free(t->indexes);
	free_fks(t->fk_out, t->nfk_out);
	free_fks(t->fk_in, t->nfk_in);
	for (size_t i = 0; i < t->ntriggers; i++) {
		free(t->triggers[i].name);
		free(t->triggers[i].timing);
		free(t->triggers[i].event);
	}
	free(t->triggers);
	free(t);
}

const struct gw_column_info *gw_table_info_column(const struct gw_table_info *t, const char *name)
{
	for (size_t i = 0; t && i < t->ncolumns; i++)
		if (strcmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	return NULL;
}

const struct gw_index_info *gw_table_info_index(const struct gw_table_info *t, const char *name)
{
	for (size_t i = 0; t && i < t->nindexes; i++)
		if (strcmp(t->indexes[i].name, name) == 0)
			return &t->indexes[i];
	return NULL;
}

int gw_table_exists(struct gw_conn *c, const char *table, bool *yes, struct gw_error *err)
{
	struct gw_table_info *t = NULL;
	struct gw_error e = GW_ERROR_INIT;
	int rc = gw_conn_describe(c, table, &t, &e);

	gw_table_info_free(t);
	*yes = rc == 0;
	if (rc == GW_ERR_DB_UNDEFINED)
		return 0;
	if (rc < 0)
		*err = e;
	return rc;
}
