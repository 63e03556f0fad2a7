/*
 * Replication capture's applier: the changes of a table, read from its
 * stream, applied to the shadow in batches (see stream.h).
 *
 * A batch keeps the last change of each key. It deletes every key it
 * touched from the shadow, then inserts the last row image of each, in one
 * transaction that also records how far the stream was read. A row whose
 * image collides with another row of the shadow on a unique key (the copy
 * may have read the other row newer than the stream is yet) is read again
 * from the table instead; while it still collides, its key is kept in the
 * state table as pending and retried after each batch. A cut-over fails
 * while any is left: the table then holds rows the new definition refuses.
 * An UPDATE that did not send every value (PostgreSQL's unchanged TOAST)
 * reads the row from the table too. On MariaDB/MySQL the row images go
 * through a temporary table of the source's types (stage_create).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/shadow.h"
#include "godwit/stream.h"

#define BATCH_MAX 2000          /* keys per batch */
#define ROWS_PER_INSERT 200
#define MARK_WAIT_MS 60000      /* a mark must come through within this */

/* Rows of "_gw_<t>_rpl": 0 the stream position, 1 the heartbeat, 2.. pending keys. */
#define RPL_POS 0
#define RPL_PENDING 2

enum op { OP_UPSERT, OP_DELETE, OP_REFETCH };

struct entry {
	char *key;        /* the key's values, ", "-joined: identifies the row */
	enum op op;
	char **vals;      /* OP_UPSERT: the source row (owned) */
	long pending_id;  /* its pending row, 0 if none */
};

struct gw_capture {
	const struct gw_stream_ops *ops;
	struct gw_stream *s;
	struct gw_conn *c;
	const struct gw_dialect *d;
	bool pg;
	struct gw_table_info *src;
	struct gw_shadow_map map;
	size_t *col_src;          /* map column i is src column col_src[i] */
	size_t *key_src;          /* key column i is src column key_src[i] */
	char *qsrc, *qshadow, *qrpl;
	char *qstage;             /* MariaDB/MySQL: the row images on their way (see stage_create) */
	long long seq;            /* last mark written */
	char read_pos[128];       /* last COMMIT read */
	char saved_pos[128];      /* last position recorded */
	/* the batch */
	struct entry *v;
	size_t n, cap;
	size_t *slots;            /* hash of keys: index + 1, 0 empty */
	size_t nslots;
	/* pending keys from earlier batches (kept in the state table) */
	struct entry *pend;
	size_t npend;
	long next_pending_id;
	long long applied;
	double lag_ms;
};

static void entry_release(struct entry *e, size_t ncols)
{
	if (e->vals)
		for (size_t i = 0; i < ncols; i++)
			free(e->vals[i]);
	free(e->vals);
	free(e->key);
	memset(e, 0, sizeof(*e));
}

/* The key of a row image, or NULL when a key value was not sent. */
static char *key_of(const struct gw_capture *cap, char *const *row)
{
	struct gw_buf b = GW_BUF_INIT;

	for (size_t i = 0; i < cap->map.key.n; i++) {
		const char *v = row[cap->key_src[i]];

		if (!v) {
			gw_buf_release(&b);
			return NULL;
		}
		if (i)
			gw_buf_puts(&b, ", ");
		gw_buf_puts(&b, v);
	}
	return gw_buf_detach(&b);
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The batch entry of key (taken), created if new. */
static struct entry *entry_for(struct gw_capture *cap, char *key)
{
	size_t i = hash(key) & (cap->nslots - 1);

	for (; cap->slots[i]; i = (i + 1) & (cap->nslots - 1)) {
		struct entry *e = &cap->v[cap->slots[i] - 1];

		if (strcmp(e->key, key) == 0) {
			free(key);
			if (e->vals)
				for (size_t k = 0; k < cap->src->ncolumns; k++)
					free(e->vals[k]);
			free(e->vals);
			e->vals = NULL;
			return e;
		}
	}
	if (cap->n == cap->cap) {
		cap->cap = cap->cap ? 2 * cap->cap : 64;
		cap->v = gw_realloc(cap->v, cap->cap * sizeof(*cap->v));
	}
	cap->slots[i] = ++cap->n;
	memset(&cap->v[cap->n - 1], 0, sizeof(*cap->v));
	cap->v[cap->n - 1].key = key;
	return &cap->v[cap->n - 1];
}

static void batch_clear(struct gw_capture *cap)
{
	for (size_t i = 0; i < cap->n; i++)
		entry_release(&cap->v[i], cap->src->ncolumns);
	cap->n = 0;
	memset(cap->slots, 0, cap->nslots * sizeof(*cap->slots));
}

static char **dup_row(const struct gw_capture *cap, char *const *row)
{
	char **v = gw_calloc(cap->src->ncolumns, sizeof(char *));

	for (size_t i = 0; i < cap->src->ncolumns; i++)
		v[i] = gw_strdup(row[i]);
	return v;
}

/* Record one change in the batch. */
static int add_change(struct gw_capture *cap, const struct gw_change *ch, struct gw_error *err)
{
	char *newkey = NULL, *oldkey = NULL;
	bool complete = true;

	if (ch->after) {
		newkey = key_of(cap, ch->after);
		for (size_t i = 0; i < cap->map.ncols; i++)
			complete = complete && ch->after[cap->col_src[i]];
	}
	if (ch->before)
		oldkey = key_of(cap, ch->before);
	if ((ch->after && !newkey) || (ch->kind == GW_CHANGE_DELETE && !oldkey)) {
		free(newkey);
		free(oldkey);
		return gw_error_set(err, GW_ERR_DB,
				    "replication capture of '%s': a change came without the values of "
				    "its key",
				    cap->src->name);
	}
	if (oldkey && (!newkey || strcmp(oldkey, newkey) != 0))
		entry_for(cap, oldkey)->op = OP_DELETE;
	else
		free(oldkey);
	if (newkey) {
		struct entry *e = entry_for(cap, newkey);

		e->op = complete ? OP_UPSERT : OP_REFETCH;
		if (complete)
			e->vals = dup_row(cap, ch->after);
	}
	cap->applied++;
	return 0;
}

/* Append "(k1, k2) = (v)" or "k = v" for key text v. */
static void key_cond(struct gw_buf *b, const struct gw_capture *cap, const char *v)
{
	if (cap->map.key.n > 1)
		gw_buf_putc(b, '(');
	gw_sql_ident_list(b, cap->d, cap->map.key.n, cap->map.key.cols);
	gw_buf_puts(b, cap->map.key.n > 1 ? ") = (" : " = ");
	gw_buf_puts(b, v);
	if (cap->map.key.n > 1)
		gw_buf_putc(b, ')');
}

static int delete_keys(struct gw_capture *cap, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cap->n;) {
		size_t j = i;

		gw_buf_reset(&b);
		gw_buf_printf(&b, "DELETE FROM %s WHERE (", cap->qshadow);
		gw_sql_ident_list(&b, cap->d, cap->map.key.n, cap->map.key.cols);
		gw_buf_puts(&b, ") IN (");
		for (; j < cap->n && j < i + 500; j++)
			gw_buf_printf(&b, "%s(%s)", j > i ? ", " : "", cap->v[j].key);
		gw_buf_putc(&b, ')');
		rc = gw_conn_exec(cap->c, b.data, err);
		i = j;
	}
	gw_buf_release(&b);
	return rc;
}

static void insert_head(struct gw_buf *b, const struct gw_capture *cap)
{
	gw_buf_printf(b, "INSERT INTO %s (", cap->qshadow);
	gw_sql_ident_list(b, cap->d, cap->map.ncols, cap->map.cols);
	gw_buf_puts(b, cap->pg ? ") OVERRIDING SYSTEM VALUE " : ") ");
}

static void insert_values(struct gw_buf *b, const struct gw_capture *cap, const struct entry *e)
{
	gw_buf_putc(b, '(');
	for (size_t i = 0; i < cap->map.ncols; i++)
		gw_buf_printf(b, "%s%s", i ? ", " : "", e->vals[cap->col_src[i]]);
	gw_buf_putc(b, ')');
}

/* Run sql; on PostgreSQL inside a savepoint, so that a failure leaves the transaction usable. */
static int try_exec(struct gw_capture *cap, const char *sql, struct gw_error *err)
{
	int rc = cap->pg ? gw_conn_exec(cap->c, "SAVEPOINT gw_apply", err) : 0;

	if (rc < 0)
		return rc;
	rc = gw_conn_exec(cap->c, sql, err);
	if (cap->pg && rc < 0 && gw_conn_exec(cap->c, "ROLLBACK TO SAVEPOINT gw_apply", NULL) < 0)
		gw_warn(cap->src->name, "could not roll back to a savepoint");
	return rc;
}

/* Read the row of key e->key from the table into the shadow (deleted there before). */
static int refetch(struct gw_capture *cap, const struct entry *e, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	int rc;

	gw_buf_printf(&b, "DELETE FROM %s WHERE ", cap->qshadow);
	key_cond(&b, cap, e->key);
	rc = gw_conn_exec(cap->c, b.data, err);
	gw_buf_reset(&b);
	insert_head(&b, cap);
	gw_buf_puts(&b, "SELECT ");
	gw_sql_ident_list(&b, cap->d, cap->map.ncols, cap->map.cols);
	gw_buf_printf(&b, " FROM %s WHERE ", cap->qsrc);
	key_cond(&b, cap, e->key);
	if (rc == 0)
		rc = try_exec(cap, b.data, err);
	gw_buf_release(&b);
	return rc;
}

/* Run head <state table> tail. */
static int rpl_query(struct gw_capture *cap, const char *head, const char *tail, int np,
		     const char *const *params, struct gw_result **r, struct gw_error *err)
{
	char *sql = gw_asprintf("%s%s%s", head, cap->qrpl, tail);
	int rc = gw_conn_query(cap->c, sql, np, params, r, err);

	free(sql);
	return rc;
}

static void pending_drop(struct gw_capture *cap, size_t i)
{
	entry_release(&cap->pend[i], 0);
	cap->pend[i] = cap->pend[--cap->npend];
}

/* Keep key pending: recorded in the state table unless in the caller's transaction. */
static int keep_pending(struct gw_capture *cap, const char *key, bool record,
			struct gw_error *err)
{
	struct entry *p;
	char id[32];

	for (size_t i = 0; i < cap->npend; i++)
		if (strcmp(cap->pend[i].key, key) == 0)
			return 0;
	cap->pend = gw_realloc(cap->pend, (cap->npend + 1) * sizeof(*cap->pend));
	p = &cap->pend[cap->npend++];
	memset(p, 0, sizeof(*p));
	p->key = gw_strdup(key);
	p->op = OP_REFETCH;
	if (!record)
		return 0;
	p->pending_id = cap->next_pending_id++;
	snprintf(id, sizeof(id), "%ld", p->pending_id);
	return rpl_query(cap, "INSERT INTO ", " (id, v) VALUES ($1, $2)", 2,
			 (const char *const[]){id, key}, NULL, err);
}

/* Read e's row again from the table; one that collides stays pending. */
static int refetch_or_keep(struct gw_capture *cap, const struct entry *e, bool record,
			   struct gw_error *err)
{
	struct gw_error e2 = GW_ERROR_INIT;
	int rc = refetch(cap, e, &e2);

	if (rc == GW_ERR_DB_DUPLICATE)
		return keep_pending(cap, e->key, record, err);
	if (rc < 0)
		*err = e2;
	return rc;
}

/* Append "VALUES (...), ..." of the row images of entries [i, j) (OP_UPSERT only); false if none. */
static bool put_values(struct gw_buf *b, const struct gw_capture *cap, size_t i, size_t j)
{
	bool any = false;

	gw_buf_puts(b, "VALUES ");
	for (size_t k = i; k < j; k++) {
		if (cap->v[k].op != OP_UPSERT)
			continue;
		if (any)
			gw_buf_puts(b, ", ");
		insert_values(b, cap, &cap->v[k]);
		any = true;
	}
	return any;
}

/* Append "SELECT <columns> FROM <stage>", only the row of key if not NULL. */
static void stage_select(struct gw_buf *b, const struct gw_capture *cap, const char *key)
{
	gw_buf_puts(b, "SELECT ");
	gw_sql_ident_list(b, cap->d, cap->map.ncols, cap->map.cols);
	gw_buf_printf(b, " FROM %s", cap->qstage);
	if (key) {
		gw_buf_puts(b, " WHERE ");
		key_cond(b, cap, key);
	}
}

/*
 * Append the rows of entries [i, j) (OP_UPSERT only) to insert_head: their
 * VALUES, or (MariaDB/MySQL) a SELECT from the stage, filled with them
 * here. *any: false when there is none.
 */
static int put_rows(struct gw_buf *b, struct gw_capture *cap, size_t i, size_t j, bool *any,
		    struct gw_error *err)
{
	struct gw_buf sql = GW_BUF_INIT;
	int rc;

	if (!cap->qstage) {
		*any = put_values(b, cap, i, j);
		return 0;
	}
	gw_buf_printf(&sql, "DELETE FROM %s", cap->qstage);
	rc = gw_conn_exec(cap->c, sql.data, err);
	gw_buf_reset(&sql);
	/*
	 * IGNORE: an ENUM's invalid value (index 0, written '') goes in only
	 * so; in the source's own types nothing else converts.
	 */
	gw_buf_printf(&sql, "INSERT IGNORE INTO %s (", cap->qstage);
	gw_sql_ident_list(&sql, cap->d, cap->map.ncols, cap->map.cols);
	gw_buf_puts(&sql, ") ");
	*any = put_values(&sql, cap, i, j);
	if (rc == 0 && *any)
		rc = gw_conn_exec(cap->c, sql.data, err);
	gw_buf_release(&sql);
	stage_select(b, cap, NULL);
	return rc;
}

/* Insert the row images of entries [i, j) (OP_UPSERT only), one statement, else one by one. */
static int insert_rows(struct gw_capture *cap, size_t i, size_t j, bool record,
		       struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	struct gw_error e = GW_ERROR_INIT;
	bool any = false;
	int rc;

	insert_head(&b, cap);
	rc = put_rows(&b, cap, i, j, &any, &e);
	if (rc == 0 && any)
		rc = try_exec(cap, b.data, &e);
	if (rc == GW_ERR_DB_DUPLICATE) {
		/* Some row collides on another unique key: find it, row by row. */
		gw_error_clear(&e);
		rc = 0;
		for (size_t k = i; rc == 0 && k < j; k++) {
			if (cap->v[k].op != OP_UPSERT)
				continue;
			gw_buf_reset(&b);
			insert_head(&b, cap);
			if (cap->qstage)
				stage_select(&b, cap, cap->v[k].key);
			else
				put_values(&b, cap, k, k + 1);
			rc = try_exec(cap, b.data, &e);
			if (rc == GW_ERR_DB_DUPLICATE) {
				gw_error_clear(&e);
				rc = refetch_or_keep(cap, &cap->v[k], record, &e);
			}
		}
	}
	if (rc < 0)
		gw_error_set(err, e.code, "applying the changes of '%s' to '%s': %s",
			     cap->src->name, cap->map.to, e.msg);
	gw_buf_release(&b);
	return rc;
}

/* Retry the pending keys: those that no longer collide are done. */
static int retry_pending(struct gw_capture *cap, bool record, struct gw_error *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cap->npend;) {
		struct gw_error e = GW_ERROR_INIT;
		char id[32];

		rc = refetch(cap, &cap->pend[i], &e);
		if (rc == GW_ERR_DB_DUPLICATE) {
			rc = 0;
			i++;
			continue;
		}
		if (rc < 0) {
			*err = e;
			break;
		}
		/* Done. Unrecorded, its row stays: it goes with the table, or comes back harmless. */
		snprintf(id, sizeof(id), "%ld", cap->pend[i].pending_id);
		if (record && cap->pend[i].pending_id)
			rc = rpl_query(cap, "DELETE FROM ", " WHERE id = $1", 1,
				       (const char *const[]){id}, NULL, err);
		pending_drop(cap, i);
	}
	return rc;
}

/*
 * Apply the batch: one transaction with the position (in_txn: in the
 * caller's, without the position), then confirm it to the server.
 */
static int flush(struct gw_capture *cap, bool in_txn, struct gw_error *err)
{
	bool record = !in_txn;
	bool moved = strcmp(cap->read_pos, cap->saved_pos) != 0;
	int rc = 0;

	if (cap->n == 0 && cap->npend == 0 && (!moved || in_txn))
		return 0;
	if (record)
		rc = gw_conn_exec(cap->c, "BEGIN", err);
	if (rc == 0 && cap->n)
		rc = delete_keys(cap, err);
	for (size_t i = 0; rc == 0 && i < cap->n; i += ROWS_PER_INSERT)
		rc = insert_rows(cap, i, i + ROWS_PER_INSERT < cap->n ? i + ROWS_PER_INSERT : cap->n,
				 record, err);
	for (size_t i = 0; rc == 0 && i < cap->n; i++)
		if (cap->v[i].op == OP_REFETCH)
			rc = refetch_or_keep(cap, &cap->v[i], record, err);
	if (rc == 0)
		rc = retry_pending(cap, record, err);
	if (rc == 0 && record && moved)
		rc = rpl_query(cap, "UPDATE ", " SET v = $1 WHERE id = 0", 1,
			       (const char *const[]){cap->read_pos}, NULL, err);
	if (rc == 0 && record)
		rc = gw_conn_exec(cap->c, "COMMIT", err);
	if (rc < 0) {
		if (record && gw_conn_exec(cap->c, "ROLLBACK", NULL) < 0)
			gw_warn(cap->src->name, "could not roll back a batch of changes");
		return rc;
	}
	batch_clear(cap);
	if (record && moved) {
		memcpy(cap->saved_pos, cap->read_pos, sizeof(cap->saved_pos));
		rc = cap->ops->confirm(cap->s, cap->saved_pos, err);
	}
	return rc;
}

int gw_capture_sync(struct gw_capture *cap, bool in_txn, struct gw_error *err)
{
	long long seq = ++cap->seq;
	double t0 = gw_now_ms();
	int rc = cap->ops->mark(cap->s, seq, err);

	while (rc == 0) {
		struct gw_change ch;

		memset(&ch, 0, sizeof(ch));
		rc = cap->ops->next(cap->s, &ch, 1000, err);
		if (rc < 0)
			break;
		switch (ch.kind) {
		case GW_CHANGE_NONE:
			if (gw_now_ms() - t0 > MARK_WAIT_MS)
				rc = gw_error_set(err, GW_ERR_DB,
						  "replication capture of '%s': mark %lld did not come "
						  "through the stream within %d s",
						  cap->src->name, seq, MARK_WAIT_MS / 1000);
			break;
		case GW_CHANGE_INSERT:
		case GW_CHANGE_UPDATE:
		case GW_CHANGE_DELETE:
			rc = add_change(cap, &ch, err);
			if (rc == 0 && cap->n >= 2 * BATCH_MAX)
				rc = flush(cap, in_txn, err);
			break;
		case GW_CHANGE_TRUNCATE:
			rc = flush(cap, in_txn, err);
			if (rc == 0) {
				char *sql = gw_asprintf("DELETE FROM %s", cap->qshadow);

				rc = gw_conn_exec(cap->c, sql, err);
				free(sql);
			}
			break;
		case GW_CHANGE_COMMIT:
			snprintf(cap->read_pos, sizeof(cap->read_pos), "%s", ch.pos);
			if (cap->n >= BATCH_MAX)
				rc = flush(cap, in_txn, err);
			break;
		case GW_CHANGE_MARK:
			if (ch.mark != seq)
				break;
			cap->lag_ms = (double)(gw_epoch_us() - ch.mark_us) / 1000.0;
			rc = flush(cap, in_txn, err);
			if (rc == 0 && in_txn && cap->npend)
				rc = gw_error_set(err, GW_ERR_DB_DUPLICATE,
						  "rows of '%s' collide on a unique key of '%s' (key %s)",
						  cap->src->name, cap->map.to, cap->pend[0].key);
			if (rc == GW_ERR_DB_DUPLICATE)
				gw_error_hint(err, "fix the data, or change the rebuild, then roll it "
						   "back and run it again");
			if (rc == 0 && !in_txn && cap->ops->settle)
				rc = cap->ops->settle(cap->s, err);
			return rc;
		}
	}
	return rc;
}

int gw_capture_freeze(struct gw_capture *cap, bool on, struct gw_error *err)
{
	char *sql;
	int rc;

	if (!on)
		return gw_conn_exec(cap->c, cap->pg ? (err ? "COMMIT" : "ROLLBACK") : "UNLOCK TABLES",
				    err);
	if (cap->pg)
		sql = gw_asprintf("LOCK TABLE %s IN SHARE MODE", cap->qsrc);
	else
		sql = gw_asprintf("LOCK TABLES %s READ, %s WRITE", cap->qsrc, cap->qshadow);
	rc = cap->pg ? gw_conn_exec(cap->c, "BEGIN", err) : 0;
	if (rc == 0)
		rc = gw_conn_exec(cap->c, sql, err);
	if (rc == 0)
		rc = gw_capture_sync(cap, true, err);
	free(sql);
	return rc;
}

void gw_capture_stats(const struct gw_capture *cap, long long *applied, double *lag_ms)
{
	*applied = cap->applied;
	*lag_ms = cap->lag_ms;
}

const struct gw_stream_ops *gw_stream_ops_of(const struct gw_conn *c)
{
	return c->drv->stream;
}

/* The state table's name, quoted. */
static char *rpl_name(const struct gw_dialect *d, const char *table)
{
	char *name = gw_shadow_name(table, "rpl");
	char *q = gw_sql_quoted(d, name);

	free(name);
	return q;
}

int gw_capture_exists(struct gw_conn *c, const char *table, bool *yes, struct gw_error *err)
{
	char *name = gw_shadow_name(table, "rpl");
	int rc = gw_table_exists(c, name, yes, err);

	free(name);
	return rc;
}

int gw_capture_setup(struct gw_conn *c, const char *table, struct gw_error *err)
{
	const struct gw_dialect *d = gw_conn_dialect(c);
	char *q = rpl_name(d, table), *sql = NULL, *pos = NULL;
	struct gw_table_info *t = NULL;
	struct gw_result *r = NULL;
	int rc = gw_conn_describe(c, table, &t, err);

	if (rc < 0)
		goto out;
	sql = gw_asprintf("CREATE TABLE IF NOT EXISTS %s (id BIGINT NOT NULL PRIMARY KEY, "
			  "seq BIGINT, at_us BIGINT, v TEXT)",
			  q);
	rc = gw_conn_exec(c, sql, err);
	free(sql);
	sql = gw_asprintf("SELECT v FROM %s WHERE id = 0", q);
	if (rc == 0)
		rc = gw_conn_query(c, sql, 0, NULL, &r, err);
	if (rc < 0 || (r->nrows && gw_result_get(r, 0, 0)))
		goto out;   /* set up before an interruption */
	/*
	 * Row 1 names the table before anything is made on the server, so that
	 * the sweep of another run leaves it alone (it is also the heartbeat of
	 * MariaDB/MySQL); row 0 says where the stream starts, once it does.
	 */
	free(sql);
	sql = gw_asprintf("DELETE FROM %s WHERE id = 1", q);
	rc = gw_conn_exec(c, sql, err);
	free(sql);
	sql = gw_asprintf("INSERT INTO %s (id, v) VALUES (1, $1)", q);
	if (rc == 0)
		rc = gw_conn_query(c, sql, 1, (const char *const[]){table}, NULL, err);
	if (rc == 0)
		rc = gw_stream_ops_of(c)->setup(c, t, &pos, err);
	free(sql);
	sql = gw_asprintf("INSERT INTO %s (id, v) VALUES (0, $1)", q);
	if (rc == 0)
		rc = gw_conn_query(c, sql, 1, (const char *const[]){pos}, NULL, err);
	if (rc == 0)
		gw_info(table, "replication capture starts at %s", pos);
out:
	gw_result_free(r);
	gw_table_info_free(t);
	free(pos);
	free(sql);
	free(q);
	return rc;
}

int gw_capture_teardown(struct gw_conn *c, const char *table, struct gw_error *err)
{
	char *q = rpl_name(gw_conn_dialect(c), table);
	char *sql = gw_asprintf("DROP TABLE IF EXISTS %s", q);
	int rc = gw_stream_ops_of(c)->teardown(c, table, err);

	if (rc == 0)
		rc = gw_conn_exec(c, sql, err);
	free(sql);
	free(q);
	return rc;
}

int gw_capture_sweep(struct gw_conn *c, struct gw_error *err)
{
	const struct gw_stream_ops *ops = gw_stream_ops_of(c);
	struct gw_result *r = NULL;
	char **tables = NULL;
	size_t n = 0;
	int rc;

	if (!ops->sweep)
		return 0;
	rc = gw_conn_list_tables(c, &r, err);
	tables = gw_calloc((size_t)(rc == 0 ? r->nrows : 0) + 1, sizeof(char *));
	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *name = gw_result_get(r, i, 0);
		size_t len = strlen(name);
		struct gw_result *v = NULL;
		char *q, *sql;

		if (strncmp(name, "_gw_", 4) != 0 || len < 8 || strcmp(name + len - 4, "_rpl") != 0)
			continue;
		q = gw_sql_quoted(gw_conn_dialect(c), name);
		sql = gw_asprintf("SELECT v FROM %s WHERE id = 1", q);
		rc = gw_conn_query(c, sql, 0, NULL, &v, err);
		free(q);
		if (rc == 0 && v->nrows && gw_result_get(v, 0, 0))
			tables[n++] = gw_strdup(gw_result_get(v, 0, 0));
		gw_result_free(v);
		free(sql);
	}
	if (rc == 0)
		rc = ops->sweep(c, tables, n, err);
	for (size_t i = 0; i < n; i++)
		free(tables[i]);
	free(tables);
	gw_result_free(r);
	return rc;
}

/* Index of column name in t; t->ncolumns when absent. */
static size_t column_index(const struct gw_table_info *t, const char *name)
{
	size_t i = 0;

	while (i < t->ncolumns && strcmp(t->columns[i].name, name) != 0)
		i++;
	return i;
}

static int load_state(struct gw_capture *cap, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = rpl_query(cap, "SELECT id, v FROM ", " WHERE id = 0 OR id >= 2 ORDER BY id", 0, NULL,
			   &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		long id = strtol(gw_result_get(r, i, 0), NULL, 10);
		const char *v = gw_result_get(r, i, 1);

		if (id == RPL_POS) {
			snprintf(cap->saved_pos, sizeof(cap->saved_pos), "%s", v ? v : "");
			continue;
		}
		rc = keep_pending(cap, v ? v : "", false, err);
		cap->pend[cap->npend - 1].pending_id = id;
		cap->next_pending_id = id + 1;
	}
	if (rc == 0 && !cap->saved_pos[0])
		rc = gw_error_set(err, GW_ERR_STATE,
				  "replication capture of '%s' has no recorded position",
				  cap->src->name);
	memcpy(cap->read_pos, cap->saved_pos, sizeof(cap->read_pos));
	gw_result_free(r);
	return rc;
}

/*
 * MariaDB/MySQL: the stage, a temporary table of the source's own column
 * types (no key, nothing generated). Row images go into it, then into the
 * shadow with INSERT ... SELECT as the copy's, so that they convert to the
 * new types exactly as the copy converts the table's rows. A literal
 * converts as itself: an ENUM or SET by its name (into a number: an error,
 * where the copy gives its index or bits), a FLOAT as a double (into
 * text: 17 digits where the copy gives 6), a zero TIMESTAMP as a string
 * (into a number: an error); and strict mode takes no literal for an
 * ENUM's invalid value (index 0), which the copy keeps.
 */
static int stage_create(struct gw_capture *cap, const char *table, struct gw_error *err)
{
	char *name = gw_shadow_name(table, "stage");
	struct gw_buf b = GW_BUF_INIT;
	int rc;

	cap->qstage = gw_sql_quoted(cap->d, name);
	gw_buf_printf(&b, "DROP TEMPORARY TABLE IF EXISTS %s", cap->qstage);
	rc = gw_conn_exec(cap->c, b.data, err);
	gw_buf_reset(&b);
	gw_buf_printf(&b, "CREATE TEMPORARY TABLE %s AS SELECT ", cap->qstage);
	gw_sql_ident_list(&b, cap->d, cap->map.ncols, cap->map.cols);
	gw_buf_printf(&b, " FROM %s WHERE FALSE", cap->qsrc);
	if (rc == 0)
		rc = gw_conn_exec(cap->c, b.data, err);
	gw_buf_release(&b);
	free(name);
	return rc;
}

int gw_capture_open(const char *url, struct gw_conn *c, const char *table,
		    struct gw_capture **out, struct gw_error *err)
{
	struct gw_capture *cap = gw_calloc(1, sizeof(*cap));
	char *shadow = gw_shadow_name(table, "new");
	int rc;

	cap->ops = gw_stream_ops_of(c);
	cap->c = c;
	cap->d = gw_conn_dialect(c);
	cap->pg = cap->d->id == GW_DIALECT_POSTGRES;
	cap->next_pending_id = RPL_PENDING;
	cap->nslots = 4 * 2 * BATCH_MAX;
	cap->slots = gw_calloc(cap->nslots, sizeof(*cap->slots));
	cap->qsrc = gw_sql_quoted(cap->d, table);
	cap->qshadow = gw_sql_quoted(cap->d, shadow);
	cap->qrpl = rpl_name(cap->d, table);
	rc = gw_conn_describe(c, table, &cap->src, err);
	if (rc == 0)
		rc = gw_shadow_map_resolve(c, table, shadow, &cap->map, err);
	if (rc < 0)
		goto out;
	cap->col_src = gw_calloc(cap->map.ncols, sizeof(size_t));
	cap->key_src = gw_calloc(cap->map.key.n, sizeof(size_t));
	for (size_t i = 0; i < cap->map.ncols; i++)
		cap->col_src[i] = column_index(cap->src, cap->map.cols[i]);
	for (size_t i = 0; i < cap->map.key.n; i++)
		cap->key_src[i] = column_index(cap->src, cap->map.key.cols[i]);
	/* TIMESTAMP values come through the binlog in UTC. */
	if (!cap->pg)
		rc = gw_conn_exec(c, "SET SESSION time_zone = '+00:00'", err);
	if (rc == 0 && !cap->pg)
		rc = stage_create(cap, table, err);
	if (rc == 0)
		rc = load_state(cap, err);
	if (rc == 0)
		rc = cap->ops->open(url, c, cap->src, cap->saved_pos, &cap->s, err);
out:
	free(shadow);
	if (rc < 0) {
		gw_capture_close(cap);
		return rc;
	}
	*out = cap;
	return 0;
}

void gw_capture_close(struct gw_capture *cap)
{
	if (!cap)
		return;
	if (cap->s)
		cap->ops->close(cap->s);
	if (cap->qstage) {
		char *sql = gw_asprintf("DROP TEMPORARY TABLE IF EXISTS %s", cap->qstage);

		if (gw_conn_exec(cap->c, sql, NULL) < 0)
			gw_debug(cap->src ? cap->src->name : NULL, "could not drop %s", cap->qstage);
		free(sql);
	}
	batch_clear(cap);
	for (size_t i = 0; i < cap->npend; i++)
		entry_release(&cap->pend[i], 0);
	free(cap->pend);
	free(cap->v);
	free(cap->slots);
	free(cap->col_src);
	free(cap->key_src);
	free(cap->qsrc);
	free(cap->qshadow);
	free(cap->qrpl);
	free(cap->qstage);
	gw_shadow_map_release(&cap->map);
	gw_table_info_free(cap->src);
	free(cap);
}
