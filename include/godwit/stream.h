/*
 * Replication capture: the changes of one table read from the engine's
 * replication stream (MariaDB/MySQL binlog, PostgreSQL pgoutput) and
 * applied to its shadow, instead of triggers.
 *
 * The stream starts (expand) before the copy reads its first chunk.
 * Before each chunk the stream is applied up to a mark, and every
 * transaction applied is visible to new snapshots (settle); the chunk then
 * reads the rows as they are, without locks: its snapshot is at least as
 * new as anything the shadow holds, and whatever it misses committed after
 * the mark, to be applied after the chunk (copier/copy.c). The stream
 * writes whole row images and deletes by key, so replaying it in order
 * from any point before the copy gives the table's rows: after a crash
 * both resume from what was committed, and a change applied twice does no
 * harm.
 *
 * Where the stream is read up to is kept in "_gw_<t>_rpl" (row 1), written
 * in the transaction that applies the changes. Marks written through the
 * stream (a heartbeat row on MariaDB/MySQL, a logical message on
 * PostgreSQL) tell when everything committed before them has been read.
 */
#ifndef GODWIT_STREAM_H
#define GODWIT_STREAM_H

#include <stdint.h>

#include "godwit/common.h"

struct gw_conn;
struct gw_result;
struct gw_table_info;
struct gw_shadow_map;

enum gw_change_kind {
	GW_CHANGE_NONE,      /* nothing arrived in time */
	GW_CHANGE_INSERT,
	GW_CHANGE_UPDATE,
	GW_CHANGE_DELETE,
	GW_CHANGE_TRUNCATE,
	GW_CHANGE_COMMIT,    /* end of a transaction: pos is where to resume after it */
	GW_CHANGE_MARK,      /* a mark written by gw_stream_mark */
};

/*
 * One change. Values are SQL expressions of the value in the source
 * column's own type, per column of the table as described at open
 * ("NULL", "12", "_utf8mb4 X'..'", "CAST(E'..' AS integer)"); an entry
 * NULL was not sent: a column absent from a key-only old row, or
 * (PostgreSQL) a TOASTed value an UPDATE left unchanged. Owned by the
 * stream until the next call.
 */
struct gw_change {
	enum gw_change_kind kind;
	char **before;       /* UPDATE, DELETE: the old row (key columns at least) */
	char **after;        /* INSERT, UPDATE: the new row */
	char pos[128];       /* COMMIT */
	long long mark;      /* MARK: its sequence number */
	int64_t mark_us;     /* MARK: when it was written, microseconds since the epoch */
};

struct gw_stream;

/* What each driver provides (drivers/mysql/binlog.c, drivers/postgres/logical.c). */
struct gw_stream_ops {
	/*
	 * Check that the server can stream (binlog format, wal_level, replica
	 * identity of t), naming what to change when not; create what the
	 * stream needs on the server (PostgreSQL: publication and slot, named
	 * for t); *pos: where the stream starts (new).
	 */
	int (*setup)(struct gw_conn *c, const struct gw_table_info *t, char **pos,
		     struct gw_error *err);
	/* Drop what setup created, if it exists. */
	int (*teardown)(struct gw_conn *c, const char *table, struct gw_error *err);
	/*
	 * Open the stream of the changes of table t from pos on connections of
	 * its own (opened from url), with values for t's columns.
	 */
	int (*open)(const char *url, struct gw_conn *c, const struct gw_table_info *t,
		    const char *pos, struct gw_stream **out, struct gw_error *err);
	/* Write mark seq (committed at once, on a connection of s) so that it comes through. */
	int (*mark)(struct gw_stream *s, long long seq, struct gw_error *err);
	/* The next change, waiting at most timeout_ms (then kind NONE). */
	int (*next)(struct gw_stream *s, struct gw_change *ch, int timeout_ms, struct gw_error *err);
	/* Everything up to pos is applied and recorded: the server may let it go. */
	int (*confirm)(struct gw_stream *s, const char *pos, struct gw_error *err);
	/*
	 * Wait until every transaction that changed the table, of those next
	 * has returned, is visible to a snapshot taken now. NULL when the
	 * mark's own commit ensures it (MariaDB/MySQL commit in binlog order).
	 */
	int (*settle)(struct gw_stream *s, struct gw_error *err);
	void (*close)(struct gw_stream *s);
	/*
	 * What godwit holds on the server for the streams of c's database
	 * (PostgreSQL: its slots; name, active, WAL retained); drop what no
	 * capture of tables claims. NULL when the server holds nothing for
	 * godwit (MariaDB/MySQL keep binlogs by their own retention).
	 */
	int (*held)(struct gw_conn *c, struct gw_result **out, struct gw_error *err);
	int (*sweep)(struct gw_conn *c, char *const *tables, size_t n, struct gw_error *err);
};

/* The ops of c's driver. */
const struct gw_stream_ops *gw_stream_ops_of(const struct gw_conn *c);

/*
 * A table's replication capture while godwit runs (copier/apply.c): the
 * stream, applied to the shadow in batches on conn c, one transaction per
 * batch with the position.
 */
struct gw_capture;

/*
 * Set up replication capture of table into its shadow: check the server,
 * create "_gw_<t>_rpl" and what the stream needs, record where it starts.
 * Idempotent.
 */
GW_MUSTCHECK int gw_capture_setup(struct gw_conn *c, const char *table, struct gw_error *err);
/* Remove all of it (slot, publication, state table), if present. */
GW_MUSTCHECK int gw_capture_teardown(struct gw_conn *c, const char *table, struct gw_error *err);
/*
 * Drop what replication captures left on the server that no capture set
 * up in c's database claims (a slot left by an interrupted release).
 */
GW_MUSTCHECK int gw_capture_sweep(struct gw_conn *c, struct gw_error *err);
/* True when table has replication capture set up ("_gw_<t>_rpl" exists). */
GW_MUSTCHECK int gw_capture_exists(struct gw_conn *c, const char *table, bool *yes,
				   struct gw_error *err);

/* Open the capture of table (set up before) from its recorded position, applying on c. */
GW_MUSTCHECK int gw_capture_open(const char *url, struct gw_conn *c, const char *table,
				 struct gw_capture **out, struct gw_error *err);
/*
 * Write a mark and apply every change up to it; unless in_txn, settle
 * too. in_txn: c is in the caller's transaction (a cut-over holding its
 * locks): apply there, without committing.
 */
GW_MUSTCHECK int gw_capture_sync(struct gw_capture *cap, bool in_txn, struct gw_error *err);
/*
 * Block writes to the table and apply every change committed before
 * (on), in a transaction (PostgreSQL) or under LOCK TABLES (MariaDB/MySQL);
 * end it (!on, also after a failure).
 */
GW_MUSTCHECK int gw_capture_freeze(struct gw_capture *cap, bool on, struct gw_error *err);
/* Changes applied so far and the lag seen at the last mark, in ms. */
void gw_capture_stats(const struct gw_capture *cap, long long *applied, double *lag_ms);
void gw_capture_close(struct gw_capture *cap);

#endif
