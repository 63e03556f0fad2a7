/*
 * Migration files: the typed model of one JSON file per revision, its
 * loader and validator, and the directory of all of them.
 */
#ifndef GODWIT_MIGRATION_H
#define GODWIT_MIGRATION_H

#include <stddef.h>

#include "godwit/common.h"

enum gw_op_kind {
	GW_OP_CREATE_TABLE,
	GW_OP_DROP_TABLE,
	GW_OP_RENAME_TABLE,
	GW_OP_ADD_COLUMN,
	GW_OP_DROP_COLUMN,
	GW_OP_RENAME_COLUMN,
	GW_OP_ALTER_COLUMN,
	GW_OP_CREATE_INDEX,
	GW_OP_DROP_INDEX,
	GW_OP_ADD_CONSTRAINT,
	GW_OP_UPDATE_ROWS,
	GW_OP_REBUILD_TABLE,
	GW_OP_SQL,
	GW_OP__COUNT
};

/* Tri-state for optional booleans. */
enum gw_tristate { GW_UNSET = -1, GW_FALSE = 0, GW_TRUE = 1 };

struct gw_column_def {
	char *name;
	char *type;              /* engine text, passed through */
	enum gw_tristate nullable;
	char *default_expr;      /* SQL expression, NULL if none */
	bool primary_key;
	bool autoincrement;
	bool unique;
};

struct gw_index_def {
	char *name;
	size_t ncolumns;
	char **columns;
	bool unique;
};

/* A string-to-string pair, for update_rows "set". */
struct gw_assign {
	char *column;
	char *expr;
};

enum gw_constraint_kind {
	GW_CONSTRAINT_CHECK,
	GW_CONSTRAINT_FOREIGN_KEY,
	GW_CONSTRAINT_UNIQUE,
	GW_CONSTRAINT_NOT_NULL,
};

struct gw_constraint_def {
	enum gw_constraint_kind kind;
	char *check;              /* CHECK expression */
	size_t ncolumns;          /* FOREIGN KEY / UNIQUE / NOT NULL columns */
	char **columns;
	char *ref_table;          /* FOREIGN KEY target */
	size_t nref_columns;
	char **ref_columns;
	char *on_delete;          /* optional FOREIGN KEY action text */
};

/*
 * One operation. Fields not used by the kind are NULL / zero; which fields a
 * kind accepts is the table in core/migration.c.
 */
struct gw_op {
	enum gw_op_kind kind;
	int index;                    /* position in "operations", from 0 */
	char *table;                  /* every kind but rename_table and sql */
	char *from, *to;              /* rename_table, rename_column */
	char *name;                   /* index or constraint name */
	char *column_name;            /* drop_column, alter_column */
	struct gw_column_def column;  /* add_column */
	size_t ncolumns;              /* create_table columns */
	struct gw_column_def *columns;
	size_t npk;                   /* create_table primary_key (table level) */
	char **pk;
	size_t nindexes;              /* create_table indexes */
	struct gw_index_def *indexes;
	size_t nidx_columns;          /* create_index columns */
	char **idx_columns;
	bool unique;                  /* create_index */
	char *type;                   /* alter_column new type */
	enum gw_tristate nullable;    /* alter_column */
	char *default_expr;           /* alter_column new default */
	bool drop_default;            /* alter_column "default": null */
	char *backfill;               /* add_column expression */
	char *up;                     /* alter_column expr, sql statement(s) */
	char *down;                   /* alter_column expr, sql/other: SQL run on rollback */
	size_t nset;                  /* update_rows */
	struct gw_assign *set;
	size_t ndown_set;             /* update_rows "down" as an object */
	struct gw_assign *down_set;
	char *where;                  /* update_rows */
	char *alter;                  /* rebuild_table dialect ALTER clause */
	struct gw_constraint_def constraint; /* add_constraint */
	bool transactional;           /* sql, default true */
	char *phase;                  /* sql: "expand" (default) or "contract" */
	char *strategy;               /* "inplace" | "shadow", NULL if unset */
	char *capture;                /* "triggers" | "replication", NULL if unset */
};

/* Options of a migration ("options" object); unset numbers are 0. */
struct gw_options {
	char *strategy;
	char *capture;
	long chunk_time_ms;
	long max_rate_rows;
	char *on_duplicate;       /* "fail" when unset */
	bool postpone_cutover;
	/* throttling of the copy */
	long max_lag_ms;          /* of the worst replica */
	size_t nreplicas;
	char **replicas;          /* URLs, "standbys", "slot:NAME" */
	long max_load;
	char *load_query;         /* SQL giving a number; NULL: the engine's own */
	char *throttle_flag_file; /* the copy waits while it exists */
	size_t nwindows;          /* "schedule": {"windows": [...], "timezone": ...} */
	char **windows;
	char *timezone;
};

struct gw_migration {
	char *id;
	size_t nparents;
	char **parents;
	char *message;
	size_t nops;
	struct gw_op *ops;
	struct gw_options options;
	char *path;               /* file it was loaded from */
	char checksum[17];        /* FNV-1a 64 of the file bytes, hex */
};

/* Borrowed static name of a kind ("create_table"), or NULL if out of range. */
const char *gw_op_kind_name(enum gw_op_kind kind);

/*
 * Parse one migration from JSON text. path names the file in messages.
 * On failure returns GW_ERR_INPUT with a message naming path, operation
 * index and field, and m is left released. m must be zeroed on entry.
 */
GW_MUSTCHECK int gw_migration_parse(const char *text, size_t len, const char *path,
				    struct gw_migration *m, struct gw_error *err);
/* Read and parse one file. */
GW_MUSTCHECK int gw_migration_load(const char *path, struct gw_migration *m,
				   struct gw_error *err);
void gw_migration_release(struct gw_migration *m);

/* FNV-1a 64 of data as 16 hex digits plus NUL into out. */
void gw_checksum(const void *data, size_t len, char out[17]);

/* Every *.json file of a directory, sorted by file name. */
struct gw_migration_set {
	size_t n;
	struct gw_migration *v;
	char *dir;
};
#define GW_MIGRATION_SET_INIT {0, NULL, NULL}

/*
 * Load all migrations of dir; ids must be unique (a duplicate names both
 * files). A missing directory is an empty set only if allow_missing.
 */
GW_MUSTCHECK int gw_migration_set_load(const char *dir, bool allow_missing,
				       struct gw_migration_set *set, struct gw_error *err);
void gw_migration_set_release(struct gw_migration_set *set);
/* Borrowed migration with exactly this id, or NULL. */
const struct gw_migration *gw_migration_set_find(const struct gw_migration_set *set,
						 const char *id);

/* True when s is a valid migration id: [A-Za-z0-9_]+. */
bool gw_migration_id_valid(const char *s);

#endif
