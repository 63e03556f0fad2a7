/*
 * Capture triggers of shadow-table rebuilds: every write on one table is
 * applied to the other in the same transaction. An INSERT inserts, a
 * DELETE deletes by the key, an UPDATE does both (so that an update of the
 * key moves the row). A conflict on another unique key fails the
 * application's statement rather than losing the row.
 */
#include <stdlib.h>
#include <string.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/shadow.h"

char *gw_shadow_name(const char *table, const char *kind)
{
	char sum[17];

	if (strlen(table) <= 50)
		return gw_asprintf("_gw_%s_%s", table, kind);
	gw_checksum(table, strlen(table), sum);
	return gw_asprintf("_gw_%.*s_%.8s_%s", gw_utf8_prefix(table, 40), table, sum, kind);
}

/* Append a table name, schema-qualified on PostgreSQL. */
static void put_table(struct gw_buf *b, const struct gw_dialect *d,
		      const struct gw_shadow_map *map, const char *table)
{
	if (d->id == GW_DIALECT_POSTGRES && map->schema) {
		d->ident(b, map->schema);
		gw_buf_putc(b, '.');
	}
	d->ident(b, table);
}

static void put_delete(struct gw_buf *b, const struct gw_dialect *d,
		       const struct gw_shadow_map *map)
{
	gw_buf_puts(b, "DELETE FROM ");
	put_table(b, d, map, map->to);
	gw_buf_puts(b, " WHERE ");
	for (size_t i = 0; i < map->key.n; i++) {
		if (i)
			gw_buf_puts(b, " AND ");
		d->ident(b, map->key.cols[i]);
		gw_buf_puts(b, " = OLD.");
		d->ident(b, map->key.cols[i]);
	}
	gw_buf_puts(b, "; ");
}

static void put_insert(struct gw_buf *b, const struct gw_dialect *d,
		       const struct gw_shadow_map *map)
{
	gw_buf_puts(b, "INSERT INTO ");
	put_table(b, d, map, map->to);
	gw_buf_puts(b, " (");
	gw_sql_ident_list(b, d, map->ncols, map->cols);
	gw_buf_puts(b, d->id == GW_DIALECT_POSTGRES ? ") OVERRIDING SYSTEM VALUE VALUES (" : ") VALUES (");
	for (size_t i = 0; i < map->ncols; i++) {
		if (i)
			gw_buf_puts(b, ", ");
		gw_buf_puts(b, "NEW.");
		d->ident(b, map->cols[i]);
	}
	gw_buf_puts(b, "); ");
}

static void pg_create(struct gw_steps *out, const struct gw_dialect *d,
		      const struct gw_shadow_map *map, const char *table, const char *dir)
{
	char *name = gw_shadow_name(table, dir);
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "CREATE OR REPLACE FUNCTION ");
	put_table(&b, d, map, name);
	gw_buf_puts(&b, "() RETURNS trigger LANGUAGE plpgsql ");
	/*
	 * A conversion may depend on the session (timestamp to timestamptz,
	 * text to date): convert as godwit's copy does, not as each writer's
	 * session would.
	 */
	if (map->converts)
		gw_buf_puts(&b, "SET TimeZone FROM CURRENT SET DateStyle FROM CURRENT "
				"SET IntervalStyle FROM CURRENT ");
	gw_buf_puts(&b, "AS $_gw_$ BEGIN IF TG_OP <> 'INSERT' THEN ");
	put_delete(&b, d, map);
	gw_buf_puts(&b, "END IF; IF TG_OP <> 'DELETE' THEN ");
	put_insert(&b, d, map);
	gw_buf_puts(&b, "END IF; RETURN NULL; END $_gw_$");
	gw_steps_add(out, 0, gw_buf_detach(&b));

	gw_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
	d->ident(&b, name);
	gw_buf_puts(&b, " ON ");
	put_table(&b, d, map, map->from);
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));

	gw_buf_puts(&b, "CREATE TRIGGER ");
	d->ident(&b, name);
	gw_buf_puts(&b, " AFTER INSERT OR UPDATE OR DELETE ON ");
	put_table(&b, d, map, map->from);
	gw_buf_puts(&b, " FOR EACH ROW EXECUTE FUNCTION ");
	put_table(&b, d, map, name);
	gw_buf_puts(&b, "()");
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	free(name);
}

static const char *const my_events[] = {"INSERT", "UPDATE", "DELETE"};
static const char *const my_suffix[] = {"ins", "upd", "del"};

static char *my_trigger_name(const char *table, const char *dir, int event)
{
	char *kind = gw_asprintf("%s_%s", dir, my_suffix[event]), *name;

	name = gw_shadow_name(table, kind);
	free(kind);
	return name;
}

/* Append "<prefix>k1 = <side>.k1 AND ..." over the key. */
static void put_key_match(struct gw_buf *b, const struct gw_dialect *d,
			  const struct gw_shadow_map *map, const char *side)
{
	for (size_t i = 0; i < map->key.n; i++) {
		if (i)
			gw_buf_puts(b, " AND ");
		d->ident(b, map->key.cols[i]);
		gw_buf_printf(b, " = %s.", side);
		d->ident(b, map->key.cols[i]);
	}
}

/*
 * MariaDB/MySQL. A row is written with a plain INSERT: a duplicate of the
 * key means the copy has it already, and it is then overwritten after a
 * locking read; a duplicate on another unique key of the new definition
 * fails the application's statement rather than dropping a row. No DELETE
 * of a key that may be missing (not copied yet) on the way: in REPEATABLE
 * READ it would take a gap lock, and two writers' gap locks deadlock their
 * inserts. Only a DELETE, or an UPDATE of the key, deletes. Error 1146 (no
 * such table) is ignored: the other table of a pair is missing by design
 * before and after a swap (see shadow.h).
 */
static void my_write(struct gw_buf *b, const struct gw_dialect *d,
		     const struct gw_shadow_map *map)
{
	put_insert(b, d, map);
	gw_buf_puts(b, "IF dup = 1 THEN SELECT 1 INTO here FROM ");
	d->ident(b, map->to);
	gw_buf_puts(b, " WHERE ");
	put_key_match(b, d, map, "NEW");
	gw_buf_puts(b, " FOR UPDATE; IF here = 1 THEN UPDATE ");
	d->ident(b, map->to);
	gw_buf_puts(b, " SET ");
	for (size_t i = 0; i < map->ncols; i++) {
		if (i)
			gw_buf_puts(b, ", ");
		d->ident(b, map->cols[i]);
		gw_buf_puts(b, " = NEW.");
		d->ident(b, map->cols[i]);
	}
	gw_buf_puts(b, " WHERE ");
	put_key_match(b, d, map, "NEW");
	gw_buf_puts(b, "; END IF; END IF; IF dup > 0 AND NOT (dup = 1 AND here = 1) THEN SIGNAL "
		       "SQLSTATE '23000' SET MESSAGE_TEXT = 'godwit: the row collides on a unique "
		       "key of the table''s rebuild ");
	gw_buf_put(b, map->to, strcspn(map->to, "'"));
	gw_buf_puts(b, "'; END IF; ");
}

static void my_create(struct gw_steps *out, const struct gw_dialect *d,
		      const struct gw_shadow_map *map, const char *table, const char *dir)
{
	char *other = gw_shadow_name(table, strcmp(dir, "fwd") == 0 ? "old" : "new");

	for (int e = 0; e < 3; e++) {
		char *name = my_trigger_name(table, dir, e);
		struct gw_buf b = GW_BUF_INIT;

		gw_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
		d->ident(&b, name);
		gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));

		gw_buf_puts(&b, "CREATE TRIGGER ");
		d->ident(&b, name);
		gw_buf_printf(&b, " AFTER %s ON ", my_events[e]);
		d->ident(&b, map->from);
		gw_buf_puts(&b, " FOR EACH ROW BEGIN ");
		if (e != 2)
			gw_buf_puts(&b, "DECLARE dup, here INT DEFAULT 0; ");
		gw_buf_puts(&b, "DECLARE CONTINUE HANDLER FOR 1146 BEGIN END; ");
		if (e != 2)
			gw_buf_puts(&b, "DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END; "
					"DECLARE CONTINUE HANDLER FOR 1062 SET dup = dup + 1; ");
		if (e == 1) {
			/* An UPDATE of the key moves the row. */
			gw_buf_puts(&b, "IF NOT (");
			for (size_t i = 0; i < map->key.n; i++) {
				if (i)
					gw_buf_puts(&b, " AND ");
				gw_buf_puts(&b, "OLD.");
				d->ident(&b, map->key.cols[i]);
				gw_buf_puts(&b, " <=> NEW.");
				d->ident(&b, map->key.cols[i]);
			}
			gw_buf_puts(&b, ") THEN ");
			put_delete(&b, d, map);
			gw_buf_puts(&b, "END IF; ");
		}
		if (e == 2)
			put_delete(&b, d, map);
		else
			my_write(&b, d, map);
		/*
		 * Never run, but named: a statement that opened the table before a
		 * swap and opens it again after keeps the tables its first triggers
		 * named, so both directions name both tables (else the other
		 * direction's writes would find their table missing, and be lost).
		 */
		gw_buf_puts(&b, "IF 0 THEN DELETE FROM ");
		d->ident(&b, other);
		gw_buf_puts(&b, " WHERE 0; END IF; END");
		gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
		free(name);
	}
	free(other);
}

void gw_capture_create(struct gw_steps *out, const struct gw_dialect *d,
		       const struct gw_shadow_map *map, const char *table, const char *dir)
{
	if (d->id == GW_DIALECT_POSTGRES)
		pg_create(out, d, map, table, dir);
	else
		my_create(out, d, map, table, dir);
}

void gw_capture_drop(struct gw_steps *out, const struct gw_dialect *d, const char *on,
		     const char *table, const char *dir)
{
	struct gw_buf b = GW_BUF_INIT;

	if (d->id == GW_DIALECT_POSTGRES) {
		char *name = gw_shadow_name(table, dir);

		gw_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
		d->ident(&b, name);
		gw_buf_puts(&b, " ON ");
		d->ident(&b, on);
		gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
		gw_buf_puts(&b, "DROP FUNCTION IF EXISTS ");
		d->ident(&b, name);
		gw_buf_puts(&b, "()");
		gw_steps_add(out, 0, gw_buf_detach(&b));
		free(name);
		return;
	}
	for (int e = 0; e < 3; e++) {
		char *name = my_trigger_name(table, dir, e);

		gw_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
		d->ident(&b, name);
		gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
		free(name);
	}
}
