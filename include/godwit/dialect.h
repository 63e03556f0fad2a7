/*
 * Dialect SQL: how each engine spells identifiers and DDL. Pure functions,
 * usable offline (godwit plan --offline). Which statements a phase runs is
 * phases/' business; how they are spelled is the dialect's.
 */
#ifndef GODWIT_DIALECT_H
#define GODWIT_DIALECT_H

#include "godwit/buf.h"
#include "godwit/common.h"
#include "godwit/migration.h"
#include "godwit/phase.h"

struct gw_column_info;

enum gw_dialect_id { GW_DIALECT_MYSQL, GW_DIALECT_POSTGRES };

/* What alter_column changes; NULL/GW_UNSET fields are unchanged. */
struct gw_alter {
	const char *table;
	const char *column;
	const char *type;          /* new type, converted implicitly */
	enum gw_tristate nullable;
	const char *default_expr;  /* new default */
	bool drop_default;
};

struct gw_dialect {
	int version;              /* 1 */
	const char *name;         /* "mysql" or "postgres" */
	enum gw_dialect_id id;
	/* Append name quoted as an identifier ("a""b" / `a``b`). */
	void (*ident)(struct gw_buf *b, const char *name);
	/* Append s as a string literal, for DDL only (comments, defaults we generate). */
	void (*literal)(struct gw_buf *b, const char *s);
	/*
	 * Statement builders: each appends one or more steps to out. live is the
	 * column as it is now when connected, NULL offline; a builder that needs
	 * it and lacks it describes the run-time choice in an SQL comment.
	 */
	void (*create_table)(struct gw_steps *out, const struct gw_op *op);
	void (*drop_table)(struct gw_steps *out, const char *table);
	void (*rename_table)(struct gw_steps *out, const char *from, const char *to);
	void (*add_column)(struct gw_steps *out, const char *table, const struct gw_column_def *c);
	void (*drop_column)(struct gw_steps *out, const char *table, const char *column);
	void (*rename_column)(struct gw_steps *out, const char *table, const char *from,
			      const char *to, const struct gw_column_info *live);
	int (*alter_column)(struct gw_steps *out, const struct gw_alter *a,
			    const struct gw_column_info *live, struct gw_error *err);
	void (*create_index)(struct gw_steps *out, const char *table, const char *name,
			     size_t ncols, char *const *cols, bool unique);
	void (*drop_index)(struct gw_steps *out, const char *table, const char *name);
	int (*add_constraint)(struct gw_steps *out, const char *table, const char *name,
			      const struct gw_constraint_def *c, struct gw_error *err);
	void (*drop_constraint)(struct gw_steps *out, const char *table, const char *name,
				const struct gw_constraint_def *c);
};

extern const struct gw_dialect gw_dialect_mysql, gw_dialect_postgres;

/* Borrowed dialect by name: "mysql"/"mariadb" or "postgres"/"postgresql"; NULL if unknown. */
const struct gw_dialect *gw_dialect_find(const char *name);

/* Shorthands: append name quoted; name quoted, allocated; append "a, b, c" quoted. */
void gw_sql_ident(struct gw_buf *b, const struct gw_dialect *d, const char *name);
char *gw_sql_quoted(const struct gw_dialect *d, const char *name);
void gw_sql_ident_list(struct gw_buf *b, const struct gw_dialect *d, size_t n,
		       char *const *names);

#endif
