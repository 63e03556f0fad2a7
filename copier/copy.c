/*
 * The shadow-table copy and its verification, chunk by chunk over the
 * source's key (see shadow.h).
 *
 * A chunk is copied with INSERT ... SELECT. With trigger capture the
 * source rows are read under share locks, so that a concurrent DELETE of a
 * row waits until the copy of it commits and its trigger then deletes the
 * copy; rows the triggers wrote already are newer than or equal to what
 * the copy reads, and are kept: PostgreSQL says so with ON CONFLICT on the
 * key; MariaDB/MySQL with INSERT IGNORE, whose warnings are then read:
 * anything but a duplicate of the key (a duplicate on another unique key,
 * a truncated value) fails.
 *
 * With replication capture nothing is locked (the runner's MariaDB/MySQL
 * sessions read at READ COMMITTED, where INSERT ... SELECT does not lock
 * either): the stream was applied to a mark and settled just before the
 * chunk (see stream.h), so the chunk's snapshot is newer than anything the
 * shadow holds, and what the snapshot misses comes after the mark, to be
 * applied after the chunk. PostgreSQL then deletes the range from the
 * shadow and inserts without ON CONFLICT (cheaper), when the key orders
 * alike in both tables; INSERT IGNORE keeps older rows, which the stream
 * brings up to date.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "copier_int.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/shadow.h"

#define VERIFY_ATTEMPTS 3
/* MariaDB/MySQL keep at most this many warnings: no chunk may have more rows. */
#define MY_MAX_WARNINGS 65535

/* What a copy or verify walk carries to its chunks. */
struct job {
	const struct gw_shadow_map *map;
	bool repair;        /* verify: copy a chunk that differs again */
	long differed;      /* verify: chunks found different */
	bool dup_retried;   /* copy: a duplicate was retried after the stream caught up */
};

static void put_cols(struct gw_buf *b, const struct gw_dialect *d,
		     const struct gw_shadow_map *map)
{
	gw_sql_ident_list(b, d, map->ncols, map->cols);
}

/*
 * The copy of the rows of a range (" WHERE ..."): INSERT ... SELECT, under
 * share locks (lock), keeping the shadow's rows (keep: PostgreSQL ON
 * CONFLICT; MariaDB/MySQL always, INSERT IGNORE).
 */
static char *copy_sql(const struct gw_dialect *d, const struct gw_shadow_map *map,
		      const char *range, bool lock, bool keep)
{
	bool pg = d->id == GW_DIALECT_POSTGRES;
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, pg ? "INSERT INTO " : "INSERT IGNORE INTO ");
	d->ident(&b, map->to);
	gw_buf_puts(&b, " (");
	put_cols(&b, d, map);
	gw_buf_puts(&b, pg ? ") OVERRIDING SYSTEM VALUE SELECT " : ") SELECT ");
	put_cols(&b, d, map);
	gw_buf_puts(&b, " FROM ");
	d->ident(&b, map->from);
	gw_buf_puts(&b, range);
	if (lock)
		gw_buf_puts(&b, pg ? " FOR SHARE" : " LOCK IN SHARE MODE");
	if (pg && keep) {
		gw_buf_puts(&b, " ON CONFLICT (");
		gw_sql_ident_list(&b, d, map->key.n, map->key.cols);
		gw_buf_puts(&b, ") DO NOTHING");
	}
	return gw_buf_detach(&b);
}

static char *delete_sql(const struct gw_dialect *d, const struct gw_shadow_map *map,
			const char *range)
{
	struct gw_buf b = GW_BUF_INIT;

	gw_buf_puts(&b, "DELETE FROM ");
	d->ident(&b, map->to);
	gw_buf_puts(&b, range);
	return gw_buf_detach(&b);
}

static void duplicate_hint(const struct gw_shadow_map *map, struct gw_error *err)
{
	gw_error_hint(err, "rows of '%s' collide on a unique key of the new definition; fix the "
			   "data, or change the rebuild, then roll it back and run it again",
		      map->from);
}

/* The index a duplicate-key message names: the last quoted word, without "table.". */
static bool duplicate_of(const char *msg, const char *index)
{
	const char *end = strrchr(msg, '\'');
	const char *start, *dot;

	if (!end || end == msg)
		return false;
	for (start = end - 1; start > msg && *start != '\''; start--)
		;
	if (*start != '\'')
		return false;
	start++;
	dot = memchr(start, '.', (size_t)(end - start));
	if (dot)
		start = dot + 1;
	return (size_t)(end - start) == strlen(index) && strncmp(start, index, strlen(index)) == 0;
}

static int my_warnings(struct gw_walk *w, struct gw_error *err)
{
	const struct gw_shadow_map *map = ((struct job *)w->arg)->map;
	struct gw_result *r = NULL;
	int rc = gw_conn_query(w->c, "SHOW WARNINGS", 0, NULL, &r, err);

	for (int i = 0; rc == 0 && i < r->nrows; i++) {
		const char *code = gw_result_get(r, i, 1), *msg = gw_result_get(r, i, 2);

		if (code && strcmp(code, "1062") == 0 && msg && duplicate_of(msg, map->to_key_index))
			continue;
		rc = gw_error_set(err, code && strcmp(code, "1062") == 0 ? GW_ERR_DB_DUPLICATE : GW_ERR_DB,
				  "copying '%s' into '%s': %s", map->from, map->to, msg ? msg : "?");
		if (rc == GW_ERR_DB_DUPLICATE)
			duplicate_hint(map, err);
	}
	gw_result_free(r);
	return rc;
}

static int copy_chunk(struct gw_walk *w, const struct gw_keyval *end,
		      const struct gw_fill_hooks *h, struct gw_error *err)
{
	struct job *job = w->arg;
	const struct gw_shadow_map *map = job->map;
	const char **params = gw_calloc(4 * w->key.n + 1, sizeof(char *));
	bool pg = w->d->id == GW_DIALECT_POSTGRES, lock = !h->sync;
	bool clear = pg && !lock && map->key_ordered;
	struct gw_buf range = GW_BUF_INIT;
	int np = 0, rc;
	char *sql, *del = NULL;

	gw_walk_range(&range, w, end, &np, params);
	sql = copy_sql(w->d, map, range.data, lock, !clear);
	if (clear)
		del = delete_sql(w->d, map, range.data);
	rc = gw_walk_commit(w, del, sql, np, params, end, h, pg ? NULL : my_warnings, err);
	/*
	 * Replication capture: a row may collide on another unique key with
	 * one the stream has not brought up to date yet (changed between the
	 * mark and the chunk's snapshot): catch up and try once more.
	 */
	if (rc == GW_ERR_DB_DUPLICATE && !lock && !job->dup_retried) {
		job->dup_retried = true;
		rc = GW_ERR_DB_RETRY;
	} else if (rc == 0) {
		job->dup_retried = false;
	}
	if (rc == GW_ERR_DB_DUPLICATE && pg)
		duplicate_hint(map, err);
	free(del);
	free(sql);
	free(params);
	gw_buf_release(&range);
	return rc;
}

static int walk_map(struct gw_conn *c, struct job *job, bool verify, const char *resume,
		    long long rows_total, double target_ms, const struct gw_fill_hooks *h,
		    gw_walk_chunk_fn *chunk, struct gw_error *err)
{
	const struct gw_shadow_map *map = job->map;
	struct gw_walk w;
	struct gw_key key;
	int rc = 0;

	/* The walk owns its key: give it a copy of the map's. */
	gw_key_copy(&key, &map->key);
	gw_walk_init(&w, c, map->from, &key, rows_total, target_ms);
	w.chunk = chunk;
	w.arg = job;
	w.open_end = verify;
	if (gw_conn_dialect(c)->id != GW_DIALECT_POSTGRES) {
		w.chunker.max = MY_MAX_WARNINGS;
		rc = gw_conn_exec(c, "SET SESSION max_error_count = 65535", err);
	}
	if (rc == 0)
		rc = gw_walk_run(&w, resume, h, err);
	gw_walk_release(&w);
	return rc;
}

int gw_copy_run(struct gw_conn *c, const struct gw_shadow_map *map, const char *resume,
		long long rows_total, double target_ms, const struct gw_fill_hooks *h,
		struct gw_error *err)
{
	struct job job = {map, false, 0, false};

	return walk_map(c, &job, false, resume, rows_total, target_ms, h, copy_chunk, err);
}

/*
 * MariaDB/MySQL: the expression a column is compared by, from its type in
 * the new table, so that an old value and its copy give the same text.
 */
static void my_compared(struct gw_buf *b, const struct gw_dialect *d, const char *col,
			const char *type)
{
	static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "bigint"};
	static const char *const texts[] = {"char", "varchar", "tinytext", "text", "mediumtext",
					    "longtext", "enum", "set", "json"};
	size_t n = strcspn(type, "( ");
	const char *paren = strchr(type, '(');

	for (size_t i = 0; i < GW_ARRAY_SIZE(ints); i++) {
		if (strlen(ints[i]) == n && strncasecmp(type, ints[i], n) == 0) {
			gw_buf_puts(b, "CAST(");
			d->ident(b, col);
			gw_buf_puts(b, strstr(type, "unsigned") ? " AS UNSIGNED)" : " AS SIGNED)");
			return;
		}
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(texts); i++) {
		if (strlen(texts[i]) == n && strncasecmp(type, texts[i], n) == 0) {
			gw_buf_puts(b, "CONVERT(");
			d->ident(b, col);
			gw_buf_puts(b, " USING utf8mb4)");
			return;
		}
	}
	static const struct {
		const char *type, *as;
		bool scale;      /* keeps the type's (p,s) or (fsp) */
	} casts[] = {
		{"decimal", "DECIMAL", true},   {"numeric", "DECIMAL", true},
		{"float", "FLOAT", false},      {"double", "DOUBLE", false},
		{"real", "DOUBLE", false},      {"date", "DATE", false},
		{"datetime", "DATETIME", true}, {"timestamp", "DATETIME", true},
		{"time", "TIME", true},
	};
	const char *as = "BINARY";
	int scale = 0;

	for (size_t i = 0; i < GW_ARRAY_SIZE(casts); i++) {
		if (strlen(casts[i].type) == n && strncasecmp(type, casts[i].type, n) == 0) {
			as = casts[i].as;
			if (casts[i].scale && paren)
				scale = (int)strcspn(paren, ")") + 1;
			break;
		}
	}
	/*
	 * A FLOAT turns into text with 6 digits only: compare it as the DOUBLE
	 * it converts to exactly. float(M,D) and double(M,D) keep D decimals:
	 * compare them rounded so.
	 */
	if (strcmp(as, "FLOAT") == 0 || strcmp(as, "DOUBLE") == 0) {
		bool scaled = paren && strchr(paren, ',');

		bool f = strcmp(as, "FLOAT") == 0;

		gw_buf_puts(b, scaled ? "ROUND(CAST(" : "CAST(");
		gw_buf_puts(b, f ? "CAST(" : "");
		d->ident(b, col);
		gw_buf_puts(b, f ? " AS FLOAT) AS DOUBLE)" : " AS DOUBLE)");
		if (scaled)
			gw_buf_printf(b, ", %ld)", strtol(strchr(paren, ',') + 1, NULL, 10));
		return;
	}
	gw_buf_puts(b, "CAST(");
	d->ident(b, col);
	gw_buf_printf(b, " AS %s%.*s)", as, scale, scale ? paren : "");
}

char *gw_checksum_sql(const struct gw_dialect *d, const struct gw_shadow_map *map, bool to_side,
		      const char *range)
{
	struct gw_buf b = GW_BUF_INIT;

	if (d->id == GW_DIALECT_POSTGRES) {
		/* The 64 first bits of the md5 of each row's text, summed (numeric: no overflow). */
		gw_buf_puts(&b, "SELECT count(*), coalesce(sum(('x' || substr(md5(ROW(");
		for (size_t i = 0; i < map->ncols; i++) {
			if (i)
				gw_buf_puts(&b, ", ");
			if (to_side) {
				d->ident(&b, map->cols[i]);
			} else {
				gw_buf_puts(&b, "CAST(");
				d->ident(&b, map->cols[i]);
				gw_buf_printf(&b, " AS %s)", map->to_types[i]);
			}
		}
		gw_buf_puts(&b, ")::text), 1, 16))::bit(64)::bigint), 0) FROM ");
	} else {
		/* CONCAT_WS skips NULLs: which values are NULL is hashed too. */
		/*
		 * CRC32 is linear over XOR: rows changed alike cancel out in
		 * BIT_XOR, so the sum of the same CRCs is compared as well.
		 */
		struct gw_buf row = GW_BUF_INIT;

		gw_buf_puts(&row, "CRC32(CONCAT_WS('#', ");
		for (size_t i = 0; i < map->ncols; i++) {
			my_compared(&row, d, map->cols[i], map->to_types[i]);
			gw_buf_puts(&row, ", ");
		}
		gw_buf_puts(&row, "CONCAT(");
		for (size_t i = 0; i < map->ncols; i++) {
			if (i)
				gw_buf_puts(&row, ", ");
			gw_buf_puts(&row, "ISNULL(");
			d->ident(&row, map->cols[i]);
			gw_buf_putc(&row, ')');
		}
		gw_buf_puts(&row, ")))");
		gw_buf_printf(&b, "SELECT COUNT(*), CONCAT(COALESCE(BIT_XOR(%s), 0), '/', "
				  "COALESCE(SUM(%s), 0)) FROM ",
			      row.data, row.data);
		gw_buf_release(&row);
	}
	d->ident(&b, to_side ? map->to : map->from);
	gw_buf_puts(&b, range);
	return gw_buf_detach(&b);
}

/*
 * Checksums of both sides of a range, in one snapshot (frozen: with
 * writes blocked by the caller, as they are): *same if equal.
 */
static int compare_chunk(struct gw_walk *w, const struct gw_shadow_map *map, const char *range,
			 int np, const char **params, bool frozen, bool *same, struct gw_error *err)
{
	bool pg = w->d->id == GW_DIALECT_POSTGRES;
	struct gw_result *a = NULL, *b = NULL;
	char *qa = gw_checksum_sql(w->d, map, false, range);
	char *qb = gw_checksum_sql(w->d, map, true, range);
	int rc = 0;

	if (!frozen)
		rc = gw_conn_exec(w->c, pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
					   : "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", err);
	if (rc == 0 && !pg && !frozen)
		rc = gw_conn_exec(w->c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
	if (rc == 0)
		rc = gw_conn_query(w->c, qa, np, params, &a, err);
	if (rc == 0)
		rc = gw_conn_query(w->c, qb, np, params, &b, err);
	if (!frozen && rc == 0)
		rc = gw_conn_exec(w->c, "COMMIT", err);
	else if (!frozen && gw_conn_exec(w->c, "ROLLBACK", NULL) < 0)
		gw_warn(map->from, "could not roll back a checksum");
	if (rc == 0) {
		const char *ca = gw_result_get(a, 0, 0), *cb = gw_result_get(b, 0, 0);
		const char *sa = gw_result_get(a, 0, 1), *sb = gw_result_get(b, 0, 1);

		*same = strcmp(ca, cb) == 0 && strcmp(sa, sb) == 0;
	}
	gw_result_free(a);
	gw_result_free(b);
	free(qa);
	free(qb);
	return rc;
}

/*
 * Delete the range from the shadow and copy it again, in one transaction
 * (replication capture: after the stream is applied and settled, as for a
 * chunk of the copy).
 */
static int recopy(struct gw_walk *w, const struct gw_shadow_map *map, const char *range, int np,
		  const char **params, const struct gw_fill_hooks *h, struct gw_error *err)
{
	bool pg = w->d->id == GW_DIALECT_POSTGRES, lock = !h->sync;
	char *del = delete_sql(w->d, map, range), *copy = copy_sql(w->d, map, range, lock, lock);
	int rc = lock ? 0 : h->sync(h->arg, err);

	if (rc == 0)
		rc = gw_conn_exec(w->c, "BEGIN", err);
	if (rc == 0)
		rc = gw_conn_query(w->c, del, np, params, NULL, err);
	if (rc == 0)
		rc = gw_conn_query(w->c, copy, np, params, NULL, err);
	if (rc == 0 && !pg)
		rc = my_warnings(w, err);
	if (rc == 0)
		rc = gw_conn_exec(w->c, "COMMIT", err);
	if (rc < 0 && gw_conn_exec(w->c, "ROLLBACK", NULL) < 0)
		gw_warn(map->from, "could not roll back a failed copy");
	free(copy);
	free(del);
	return rc;
}

static int verify_chunk(struct gw_walk *w, const struct gw_keyval *end,
			const struct gw_fill_hooks *h, struct gw_error *err)
{
	struct job *job = w->arg;
	const struct gw_shadow_map *map = job->map;
	struct gw_buf range = GW_BUF_INIT;
	const char **params = gw_calloc(4 * w->key.n + 1, sizeof(char *));
	bool same = false;
	int np = 0, rc = 0;
	char *ckpt;

	gw_walk_range(&range, w, end, &np, params);
	for (int attempt = 0; rc == 0 && !same; attempt++) {
		rc = compare_chunk(w, map, range.data, np, params, false, &same, err);
		/*
		 * With replication capture the shadow lags: catch up and look
		 * again; a chunk written all the time is compared with writes
		 * blocked for a moment.
		 */
		for (int lag = 0; h->sync && rc == 0 && !same && lag < VERIFY_ATTEMPTS; lag++) {
			rc = h->sync(h->arg, err);
			if (rc == 0)
				rc = compare_chunk(w, map, range.data, np, params, false, &same, err);
		}
		if (h->freeze && rc == 0 && !same) {
			int off;

			rc = h->freeze(h->arg, true, err);
			if (rc == 0)
				rc = compare_chunk(w, map, range.data, np, params, true, &same, err);
			off = h->freeze(h->arg, false, rc < 0 ? NULL : err);
			if (rc == 0)
				rc = off;
		}
		if (rc < 0 || same)
			break;
		if (attempt == 0)
			job->differed++;
		if (!job->repair) {
			gw_warn(map->from, "rows differ from '%s' in a chunk (%s)", map->to, range.data);
			break;
		}
		if (attempt == VERIFY_ATTEMPTS) {
			rc = gw_error_set(err, GW_ERR_DB,
					  "verify: '%s' and '%s' still differ after copying a chunk %d "
					  "times (%s)",
					  map->from, map->to, VERIFY_ATTEMPTS, range.data);
			gw_error_hint(err, "something writes to '%s' past godwit's capture; find it, "
					   "then run the backfill again",
				      map->to);
			break;
		}
		gw_warn(map->from, "rows differ from '%s' in a chunk: copying it again", map->to);
		w->p.retries++;
		rc = recopy(w, map, range.data, np, params, h, err);
	}
	if (rc == 0) {
		ckpt = gw_walk_checkpoint(w, end);
		rc = h->checkpoint(h->arg, ckpt, &w->p, err);
		free(ckpt);
	}
	free(params);
	gw_buf_release(&range);
	return rc;
}

int gw_verify_run(struct gw_conn *c, const struct gw_shadow_map *map, bool repair,
		  const char *resume, long long rows_total, double target_ms,
		  const struct gw_fill_hooks *h, long *differed, struct gw_error *err)
{
	struct job job = {map, repair, 0, false};
	int rc = walk_map(c, &job, true, resume, rows_total, target_ms, h, verify_chunk, err);

	*differed = job.differed;
	return rc;
}
