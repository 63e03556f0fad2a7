/*
 * Dual-write triggers between an old and a new column of one table. See
 * include/godwit/triggers.h for the rules; this file spells them in
 * PL/pgSQL and in MariaDB/MySQL's trigger language.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/migration.h"
#include "godwit/triggers.h"

const char *gw_trigger_fill_flag_sql(const struct gw_dialect *d, const char *mode)
{
	bool pg = d->id == GW_DIALECT_POSTGRES;

	if (!mode)
		return pg ? "RESET godwit.fill" : "SET @gw_fill = NULL";
	if (strcmp(mode, "down") == 0)
		return pg ? "SET godwit.fill = 'down'" : "SET @gw_fill = 'down'";
	return pg ? "SET godwit.fill = 'skip'" : "SET @gw_fill = 'skip'";
}

/* Long names are cut, with a hash of the whole so that two cuts never collide. */
char *gw_sync_name(const char *table, const char *column, const char *kind)
{
	char *whole, sum[17];

	if (strlen(table) <= 24 && strlen(column) <= 24)
		return gw_asprintf("_gw_%s_%s_%s", table, column, kind);
	whole = gw_asprintf("%s.%s", table, column);
	gw_checksum(whole, strlen(whole), sum);
	free(whole);
	return gw_asprintf("_gw_%.*s_%.*s_%.8s_%s", gw_utf8_prefix(table, 18), table,
			   gw_utf8_prefix(column, 18), column, sum, kind);
}

/* True if name occurs in expr, ignoring case: then expr may use it. */
static bool mentions(const char *expr, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = expr; *p; p++)
		if (strncasecmp(p, name, n) == 0)
			return true;
	return false;
}

static void put_new(struct gw_buf *b, const struct gw_dialect *d, const char *col)
{
	gw_buf_puts(b, "NEW.");
	d->ident(b, col);
}

/*
 * "NEW.target := expr" where expr sees every column it mentions as a
 * variable holding NEW's value; as_col (may be NULL) is a variable named
 * like the old column holding NEW.source, of type source_type.
 */
static void put_assign(struct gw_buf *b, const struct gw_dialect *d, const struct gw_sync *s,
		       const char *target, const char *expr, const char *source,
		       const char *source_type)
{
	bool pg = d->id == GW_DIALECT_POSTGRES;
	bool block = expr && s->live;

	if (!expr) {
		if (!pg)
			gw_buf_puts(b, "SET ");
		put_new(b, d, target);
		gw_buf_puts(b, pg ? " := " : " = ");
		put_new(b, d, source);
		gw_buf_puts(b, "; ");
		return;
	}
	if (block)
		gw_buf_puts(b, pg ? "DECLARE " : "BEGIN ");
	for (size_t i = 0; block && i < s->live->ncolumns; i++) {
		const struct gw_column_info *c = &s->live->columns[i];
		bool is_old = strcmp(c->name, s->old_col) == 0;

		if (c->generated || !mentions(expr, c->name))
			continue;
		if (!pg)
			gw_buf_puts(b, "DECLARE ");
		d->ident(b, c->name);
		gw_buf_printf(b, " %s", is_old && source_type ? source_type : c->type);
		gw_buf_puts(b, pg ? " := " : " DEFAULT ");
		put_new(b, d, is_old ? source : c->name);
		gw_buf_puts(b, "; ");
	}
	if (block && pg)
		gw_buf_puts(b, "BEGIN ");
	if (!pg)
		gw_buf_puts(b, "SET ");
	put_new(b, d, target);
	gw_buf_printf(b, " %s (%s); ", pg ? ":=" : "=", expr);
	if (block)
		gw_buf_puts(b, "END; ");
}

static void put_changed(struct gw_buf *b, const struct gw_dialect *d, const char *col)
{
	if (d->id == GW_DIALECT_POSTGRES) {
		put_new(b, d, col);
		gw_buf_puts(b, " IS DISTINCT FROM OLD.");
		d->ident(b, col);
	} else {
		gw_buf_puts(b, "NOT (");
		put_new(b, d, col);
		gw_buf_puts(b, " <=> OLD.");
		d->ident(b, col);
		gw_buf_putc(b, ')');
	}
}

static void put_up(struct gw_buf *b, const struct gw_dialect *d, const struct gw_sync *s)
{
	put_assign(b, d, s, s->new_col, s->up, s->old_col, NULL);
}

static void put_down(struct gw_buf *b, const struct gw_dialect *d, const struct gw_sync *s)
{
	put_assign(b, d, s, s->old_col, s->down, s->new_col, s->new_type);
}

static void put_insert_rule(struct gw_buf *b, const struct gw_dialect *d,
			    const struct gw_sync *s)
{
	gw_buf_puts(b, "IF ");
	put_new(b, d, s->new_col);
	gw_buf_puts(b, " IS NULL THEN ");
	put_up(b, d, s);
	gw_buf_puts(b, "ELSE ");
	put_down(b, d, s);
	gw_buf_puts(b, "END IF; ");
}

static void put_update_rule(struct gw_buf *b, const struct gw_dialect *d,
			    const struct gw_sync *s)
{
	gw_buf_puts(b, "IF ");
	put_changed(b, d, s->old_col);
	gw_buf_puts(b, " THEN ");
	put_up(b, d, s);
	gw_buf_puts(b, d->id == GW_DIALECT_POSTGRES ? "ELSIF " : "ELSEIF ");
	put_changed(b, d, s->new_col);
	gw_buf_puts(b, " THEN ");
	put_down(b, d, s);
	gw_buf_puts(b, "END IF; ");
}

static void create_pg(struct gw_steps *out, const struct gw_dialect *d, const struct gw_sync *s)
{
	char *fn = gw_sync_name(s->table, s->old_col, "fn");
	char *tg = gw_sync_name(s->table, s->old_col, "tg");
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "CREATE OR REPLACE FUNCTION ");
	d->ident(&b, fn);
	gw_buf_puts(&b, "() RETURNS trigger LANGUAGE plpgsql AS $_gw_$ BEGIN IF TG_OP = 'INSERT' THEN ");
	put_insert_rule(&b, d, s);
	gw_buf_puts(&b, "ELSIF current_setting('godwit.fill', true) = 'down' THEN ");
	put_down(&b, d, s);
	gw_buf_puts(&b, "ELSIF current_setting('godwit.fill', true) IS DISTINCT FROM 'skip' THEN ");
	put_update_rule(&b, d, s);
	gw_buf_puts(&b, "END IF; RETURN NEW; END $_gw_$");
	gw_steps_add(out, 0, gw_buf_detach(&b));

	gw_buf_puts(&b, "CREATE TRIGGER ");
	d->ident(&b, tg);
	gw_buf_puts(&b, " BEFORE INSERT OR UPDATE ON ");
	d->ident(&b, s->table);
	gw_buf_puts(&b, " FOR EACH ROW EXECUTE FUNCTION ");
	d->ident(&b, fn);
	gw_buf_puts(&b, "()");
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	free(fn);
	free(tg);
}

static void create_mysql(struct gw_steps *out, const struct gw_dialect *d,
			 const struct gw_sync *s)
{
	char *ti = gw_sync_name(s->table, s->old_col, "ins");
	char *tu = gw_sync_name(s->table, s->old_col, "upd");
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "CREATE TRIGGER ");
	d->ident(&b, ti);
	gw_buf_puts(&b, " BEFORE INSERT ON ");
	d->ident(&b, s->table);
	gw_buf_puts(&b, " FOR EACH ROW BEGIN ");
	put_insert_rule(&b, d, s);
	gw_buf_puts(&b, "END");
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));

	gw_buf_puts(&b, "CREATE TRIGGER ");
	d->ident(&b, tu);
	gw_buf_puts(&b, " BEFORE UPDATE ON ");
	d->ident(&b, s->table);
	gw_buf_puts(&b, " FOR EACH ROW BEGIN IF @gw_fill = 'down' THEN ");
	put_down(&b, d, s);
	gw_buf_puts(&b, "ELSEIF @gw_fill IS NULL THEN ");
	put_update_rule(&b, d, s);
	gw_buf_puts(&b, "END IF; END");
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	free(ti);
	free(tu);
}

void gw_sync_create(struct gw_steps *out, const struct gw_dialect *d, const struct gw_sync *s)
{
	if (d->id == GW_DIALECT_POSTGRES)
		create_pg(out, d, s);
	else
		create_mysql(out, d, s);
}

static void drop_trigger(struct gw_steps *out, const struct gw_dialect *d,
			 const struct gw_sync *s, const char *kind)
{
	char *name = gw_sync_name(s->table, s->old_col, kind);
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
	d->ident(&b, name);
	if (d->id == GW_DIALECT_POSTGRES) {
		gw_buf_puts(&b, " ON ");
		d->ident(&b, s->table);
	}
	gw_steps_add(out, GW_STEP_MAY_BLOCK, gw_buf_detach(&b));
	free(name);
}

void gw_sync_drop(struct gw_steps *out, const struct gw_dialect *d, const struct gw_sync *s)
{
	if (d->id == GW_DIALECT_POSTGRES) {
		char *fn = gw_sync_name(s->table, s->old_col, "fn");
		struct gw_buf b = GW_BUF_INIT;

		drop_trigger(out, d, s, "tg");
		gw_buf_puts(&b, "DROP FUNCTION IF EXISTS ");
		d->ident(&b, fn);
		gw_buf_puts(&b, "()");
		gw_steps_add(out, 0, gw_buf_detach(&b));
		free(fn);
	} else {
		drop_trigger(out, d, s, "ins");
		drop_trigger(out, d, s, "upd");
	}
}
