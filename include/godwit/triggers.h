/*
 * Triggers that keep two columns of one table in sync while the old and
 * the new application run side by side (rename_column, alter_column in
 * place). Pure SQL builders per dialect.
 *
 * The rules, for old column o and new column n:
 *   INSERT: n given (not NULL)  -> o := down(n)   (a new writer)
 *           otherwise           -> n := up(o)     (an old writer)
 *   UPDATE: o changed           -> n := up(o)
 *           else n changed      -> o := down(n)
 * up and down are SQL expressions over the row's columns by name; in down
 * the old column's name stands for the new value. Without them the value
 * is copied as it is. Updates made by godwit's own fill (the session flag
 * below set to "skip") pass untouched; with the flag set to "down" every
 * updated row gets o := down(n), which is how a rollback refills o.
 */
#ifndef GODWIT_TRIGGERS_H
#define GODWIT_TRIGGERS_H

#include "godwit/common.h"
#include "godwit/phase.h"

struct gw_dialect;
struct gw_table_info;

struct gw_sync {
	const char *table;
	const char *old_col;
	const char *new_col;
	const char *up;                    /* NULL: copy */
	const char *down;                  /* NULL: copy */
	const char *new_type;              /* type of new_col, for down's variables */
	const struct gw_table_info *live;  /* the table before expand; NULL offline */
};

/* Statements creating the triggers (and the PostgreSQL function). */
void gw_sync_create(struct gw_steps *out, const struct gw_dialect *d, const struct gw_sync *s);
/* Statements dropping them, each IF EXISTS. */
void gw_sync_drop(struct gw_steps *out, const struct gw_dialect *d, const struct gw_sync *s);

/* The statement that sets the fill flag of the session to mode ("skip", "down") or clears it (NULL). */
const char *gw_trigger_fill_flag_sql(const struct gw_dialect *d, const char *mode);

/* Name of godwit object kind for table/column: "_gw_<table>_<column>_<kind>" (new). */
char *gw_sync_name(const char *table, const char *column, const char *kind);

#endif
