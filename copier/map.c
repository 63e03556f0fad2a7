/*
 * Mapping one table's rows onto another's: the columns both have, and a
 * key that identifies a row in both (the source's primary key when the
 * target keeps it unique, else another unique key on NOT NULL columns
 * that both have).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/driver.h"
#include "godwit/shadow.h"

void gw_shadow_map_release(struct gw_shadow_map *map)
{
	for (size_t i = 0; i < map->ncols; i++) {
		free(map->cols[i]);
		free(map->to_types[i]);
	}
	free(map->cols);
	free(map->to_types);
	free(map->schema);
	free(map->from);
	free(map->to);
	free(map->to_key_index);
	gw_key_release(&map->key);
	memset(map, 0, sizeof(*map));
}

static bool same_columns(const struct gw_index_info *a, const struct gw_index_info *b)
{
	if (a->ncolumns != b->ncolumns)
		return false;
	for (size_t i = 0; i < a->ncolumns; i++) {
		bool found = false;

		for (size_t j = 0; j < b->ncolumns && !found; j++)
			found = strcmp(a->columns[i], b->columns[j]) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* The index of to that makes ix's columns a key there too, or NULL. */
static const struct gw_index_info *key_in(const struct gw_table_info *to,
					  const struct gw_index_info *ix)
{
	for (size_t i = 0; i < to->nindexes; i++)
		if (gw_key_usable(to, &to->indexes[i]) && same_columns(ix, &to->indexes[i]))
			return &to->indexes[i];
	return NULL;
}

static int choose_key(const struct gw_table_info *from, const struct gw_table_info *to,
		      struct gw_shadow_map *map, struct gw_error *err)
{
	/* The primary key first, then the other unique keys. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < from->nindexes; i++) {
			const struct gw_index_info *ix = &from->indexes[i], *there;

			if (ix->primary != (pass == 0) || !gw_key_usable(from, ix))
				continue;
			there = key_in(to, ix);
			if (!there)
				continue;
			gw_key_from_index(from, ix, &map->key);
			map->to_key_index = gw_strdup(there->name);
			map->key_ordered = true;
			for (size_t k = 0; k < map->key.n; k++) {
				const struct gw_column_info *a, *b;

				a = gw_table_info_column(from, map->key.cols[k]);
				b = gw_table_info_column(to, map->key.cols[k]);
				map->key_ordered &= a && b && (strcasecmp(a->type, b->type) == 0 ||
							       (map->key.integer[k] &&
								gw_integer_type(b->type)));
			}
			return 0;
		}
	}
	gw_error_set(err, GW_ERR_INPUT,
		     "table '%s' and its rebuild '%s' share no unique key on NOT NULL columns, so "
		     "rows cannot be matched between them",
		     from->name, to->name);
	gw_error_hint(err, "keep the primary key (or a unique NOT NULL key) of '%s' unique in the "
			   "new definition; a new primary key may be added next to it",
		      from->name);
	return GW_ERR_INPUT;
}

int gw_shadow_map_resolve(struct gw_conn *c, const char *from, const char *to,
			  struct gw_shadow_map *map, struct gw_error *err)
{
	struct gw_table_info *f = NULL, *t = NULL;
	int rc;

	memset(map, 0, sizeof(*map));
	rc = gw_conn_describe(c, from, &f, err);
	if (rc == 0)
		rc = gw_conn_describe(c, to, &t, err);
	if (rc < 0)
		goto out;
	map->schema = gw_strdup(c->schema);
	map->from = gw_strdup(from);
	map->to = gw_strdup(to);
	map->cols = gw_calloc(f->ncolumns + 1, sizeof(char *));
	map->to_types = gw_calloc(f->ncolumns + 1, sizeof(char *));
	for (size_t i = 0; i < f->ncolumns; i++) {
		const struct gw_column_info *there = gw_table_info_column(t, f->columns[i].name);

		if (!there || there->generated)
			continue;
		if (strcasecmp(f->columns[i].type, there->type) != 0)
			map->converts = true;
		map->cols[map->ncols] = gw_strdup(there->name);
		map->to_types[map->ncols] = gw_strdup(there->type);
		map->ncols++;
	}
	if (map->ncols == 0) {
		rc = gw_error_set(err, GW_ERR_INPUT, "tables '%s' and '%s' have no column in common",
				  from, to);
		goto out;
	}
	rc = choose_key(f, t, map, err);
out:
	gw_table_info_free(f);
	gw_table_info_free(t);
	if (rc < 0)
		gw_shadow_map_release(map);
	return rc;
}
