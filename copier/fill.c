/*
 * Running a fill in keyset chunks: find where the next chunk ends, update
 * the rows up to there and record the checkpoint in the same transaction,
 * adapt the chunk size, repeat until the range fixed at the start is done.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "copier_int.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/triggers.h"

#define MAX_RETRIES 10

static void keyval_release(struct gw_keyval *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static void keyval_from_row(struct gw_keyval *v, const struct gw_result *r, int row)
{
	keyval_release(v);
	v->n = (size_t)r->ncols;
	v->v = gw_calloc(v->n, sizeof(char *));
	for (int i = 0; i < r->ncols; i++)
		v->v[i] = gw_strdup(gw_result_get(r, row, i));
}

static json_t *keyval_json(const struct gw_keyval *v)
{
	json_t *a;

	if (v->n == 0)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static int keyval_parse(struct gw_keyval *v, json_t *a, size_t n)
{
	keyval_release(v);
	if (json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) != n)
		return -1;
	v->n = n;
	v->v = gw_calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s)
			return -1;
		v->v[i] = gw_strdup(s);
	}
	return 0;
}

static char *checkpoint_of(const struct gw_walk *w, const struct gw_keyval *lo)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "lo", keyval_json(lo));
	json_object_set_new(o, "hi", keyval_json(&w->hi));
	json_object_set_new(o, "rows", json_integer(w->p.rows_done));
	json_object_set_new(o, "size", json_integer(w->chunker.size));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

char *gw_walk_checkpoint(struct gw_walk *w, const struct gw_keyval *end)
{
	static const struct gw_keyval none = {0, NULL};

	return checkpoint_of(w, end ? end : w->hi.n ? &w->hi : &none);
}

static int resume_from(struct gw_walk *w, const char *text, struct gw_error *err)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	int rc = 0;

	if (!json_is_object(o) || keyval_parse(&w->lo, json_object_get(o, "lo"), w->key.n) < 0 ||
	    keyval_parse(&w->hi, json_object_get(o, "hi"), w->key.n) < 0) {
		rc = gw_error_set(err, GW_ERR_STATE, "checkpoint of the walk of table '%s' is not valid",
				  w->table);
		goto out;
	}
	w->p.rows_done = json_integer_value(json_object_get(o, "rows"));
	if (json_integer_value(json_object_get(o, "size")) > 0)
		w->chunker.size = (long)json_integer_value(json_object_get(o, "size"));
out:
	json_decref(o);
	return rc;
}

void gw_walk_range(struct gw_buf *b, const struct gw_walk *w, const struct gw_keyval *end,
		   int *np, const char **params)
{
	gw_buf_puts(b, " WHERE ");
	if (w->lo.n) {
		gw_keyset_cond(b, w->d, &w->key, &w->lo, true, np, params);
		if (end)
			gw_buf_puts(b, " AND ");
	}
	if (end)
		gw_keyset_cond(b, w->d, &w->key, end, false, np, params);
	else if (!w->lo.n)
		gw_buf_puts(b, "TRUE");
}

/*
 * Where the next chunk ends: the key of the size-th row after lo, or hi
 * when fewer rows are left. *last is set when the chunk reaches hi.
 */
static int chunk_end(struct gw_walk *w, long size, struct gw_keyval *end, bool *last,
		     struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	const char **params = gw_calloc(4 * w->key.n + 1, sizeof(char *));
	struct gw_result *r = NULL;
	int np = 0, rc;

	gw_buf_puts(&b, "SELECT ");
	gw_sql_ident_list(&b, w->d, w->key.n, w->key.cols);
	gw_buf_puts(&b, " FROM ");
	w->d->ident(&b, w->table);
	gw_walk_range(&b, w, &w->hi, &np, params);
	gw_buf_puts(&b, " ORDER BY ");
	gw_sql_ident_list(&b, w->d, w->key.n, w->key.cols);
	gw_buf_printf(&b, " LIMIT 1 OFFSET %ld", size - 1);
	rc = gw_conn_query(w->c, b.data, np, params, &r, err);
	if (rc == 0) {
		*last = r->nrows == 0;
		if (*last)
			keyval_release(end);
		else
			keyval_from_row(end, r, 0);
	}
	gw_result_free(r);
	free(params);
	gw_buf_release(&b);
	return rc;
}

int gw_walk_commit(struct gw_walk *w, const char *first, const char *sql, int np,
		   const char *const *params, const struct gw_keyval *end,
		   const struct gw_fill_hooks *h,
		   int (*check)(struct gw_walk *w, struct gw_error *err), struct gw_error *err)
{
	char *ckpt;
	int rc;

	rc = gw_conn_exec(w->c, "BEGIN", err);
	if (rc == 0 && first)
		rc = gw_conn_query(w->c, first, np, params, NULL, err);
	if (rc == 0)
		rc = gw_conn_query(w->c, sql, np, params, NULL, err);
	if (rc == 0 && check)
		rc = check(w, err);
	if (rc == 0) {
		ckpt = gw_walk_checkpoint(w, end);
		rc = h->checkpoint(h->arg, ckpt, &w->p, err);
		free(ckpt);
	}
	if (rc == 0)
		rc = gw_conn_exec(w->c, "COMMIT", err);
	if (rc < 0 && gw_conn_exec(w->c, "ROLLBACK", NULL) < 0)
		gw_warn(w->table, "could not roll back a failed chunk");
	return rc;
}

static int walk_loop(struct gw_walk *w, const struct gw_fill_hooks *h, struct gw_error *err)
{
	struct gw_keyval end = {0, NULL};
	double prev = -1;   /* when the last chunk ended: the rate counts the waits too */
	int retries = 0, rc = 0;

	for (;;) {
		struct gw_error e = GW_ERROR_INIT;
		bool last = false;
		double t0;
		long size;
		long long done;

		w->p.chunk = w->chunker.size;
		w->p.target_ms = 0;
		w->p.max_chunk = 0;
		rc = h->before_chunk(h->arg, &w->p, err);
		if (rc < 0)
			break;
		if (w->p.target_ms > 0)
			w->chunker.target_ms = w->p.target_ms;
		size = w->chunker.size;
		if (w->p.max_chunk > 0 && size > w->p.max_chunk)
			size = w->p.max_chunk;
		w->p.chunk = size;
		t0 = gw_now_ms();
		/* The chunk's rows count toward progress only once committed. */
		done = w->p.rows_done;
		w->p.rows_done += size;
		rc = chunk_end(w, size, &end, &last, &e);
		/* The last chunk holds fewer rows than its size: do not count past the estimate. */
		if (rc == 0 && last && w->p.rows_total > 0 && w->p.rows_done > w->p.rows_total)
			w->p.rows_done = w->p.rows_total > w->p.rows_done - size ? w->p.rows_total
										   : w->p.rows_done - size;
		if (rc == 0)
			rc = w->chunk(w, last ? (w->open_end ? NULL : &w->hi) : &end, h, &e);
		if (rc < 0) {
			w->p.rows_done = done;
			if ((rc == GW_ERR_DB_LOCK_TIMEOUT || rc == GW_ERR_DB_RETRY) &&
			    ++retries <= MAX_RETRIES) {
				gw_warn(w->table, "chunk of %ld rows: %s; retrying smaller (%d of %d)",
					size, e.msg, retries, MAX_RETRIES);
				w->p.retries++;
				w->chunker.size = size / 2 > w->chunker.min ? size / 2 : w->chunker.min;
				gw_sleep_ms(100L << (retries < 5 ? retries : 5));
				continue;
			}
			*err = e;
			break;
		}
		retries = 0;
		w->p.last_ms = gw_now_ms() - t0;
		{
			double now = gw_now_ms(), span = prev >= 0 ? now - prev : w->p.last_ms;
			double rate = (double)size * 1000.0 / (span > 1 ? span : 1);

			prev = now;
			w->p.rows_per_s = w->p.rows_per_s > 0 ? 0.7 * w->p.rows_per_s + 0.3 * rate
							      : rate;
		}
		gw_chunker_update(&w->chunker, size, w->p.last_ms);
		if (last)
			break;
		keyval_release(&w->lo);
		w->lo = end;
		end.n = 0;
		end.v = NULL;
	}
	keyval_release(&end);
	return rc;
}

void gw_walk_init(struct gw_walk *w, struct gw_conn *c, const char *table, struct gw_key *key,
		  long long rows_total, double target_ms)
{
	memset(w, 0, sizeof(*w));
	w->c = c;
	w->d = gw_conn_dialect(c);
	w->table = table;
	w->key = *key;
	memset(key, 0, sizeof(*key));
	w->p.rows_total = rows_total;
	gw_chunker_init(&w->chunker, target_ms);
}

void gw_walk_release(struct gw_walk *w)
{
	gw_key_release(&w->key);
	keyval_release(&w->lo);
	keyval_release(&w->hi);
}

int gw_walk_run(struct gw_walk *w, const char *resume, const struct gw_fill_hooks *h,
		struct gw_error *err)
{
	struct gw_result *r = NULL;
	char *sql = NULL;
	int rc = 0;

	if (resume && *resume) {
		rc = resume_from(w, resume, err);
	} else {
		sql = gw_keyset_edge_sql(w->d, w->table, &w->key, true);
		rc = gw_conn_query(w->c, sql, 0, NULL, &r, err);
		if (rc == 0 && r->nrows > 0)
			keyval_from_row(&w->hi, r, 0);
	}
	/* An empty table: an open-ended walk still looks once (the other side may have rows). */
	if (rc == 0 && (w->hi.n || w->open_end)) {
		if (!w->hi.n)
			rc = w->chunk(w, NULL, h, err);
		else
			rc = walk_loop(w, h, err);
	}
	free(sql);
	gw_result_free(r);
	return rc;
}

/* A fill: UPDATE table SET ... over each chunk. */
static int fill_chunk(struct gw_walk *w, const struct gw_keyval *end,
		      const struct gw_fill_hooks *h, struct gw_error *err)
{
	const struct gw_fill *f = w->arg;
	struct gw_buf b = GW_BUF_INIT;
	const char **params = gw_calloc(4 * w->key.n + 1, sizeof(char *));
	int np = 0, rc;

	gw_buf_puts(&b, "UPDATE ");
	w->d->ident(&b, f->table);
	gw_buf_printf(&b, " SET %s", f->set);
	gw_walk_range(&b, w, end, &np, params);
	if (f->where)
		gw_buf_printf(&b, " AND (%s)", f->where);
	rc = gw_walk_commit(w, NULL, b.data, np, params, end, h, NULL, err);
	free(params);
	gw_buf_release(&b);
	return rc;
}

int gw_fill_run(struct gw_conn *c, const struct gw_fill *f, const char *resume,
		long long rows_total, double target_ms, const struct gw_fill_hooks *h,
		struct gw_error *err)
{
	struct gw_walk w;
	struct gw_table_info *t = NULL;
	struct gw_key key;
	int rc;

	rc = gw_conn_describe(c, f->table, &t, err);
	if (rc == 0)
		rc = gw_key_choose(t, &key, err);
	gw_table_info_free(t);
	if (rc < 0)
		return rc;
	gw_walk_init(&w, c, f->table, &key, rows_total, target_ms);
	w.chunk = fill_chunk;
	w.arg = (void *)f;
	rc = gw_conn_exec(c, gw_trigger_fill_flag_sql(w.d, f->mode ? f->mode : "skip"), err);
	if (rc == 0)
		rc = gw_walk_run(&w, resume, h, err);
	if (gw_conn_exec(c, gw_trigger_fill_flag_sql(w.d, NULL), NULL) < 0 && rc == 0)
		rc = gw_error_set(err, GW_ERR_DB, "could not reset the fill flag of the session");
	gw_walk_release(&w);
	return rc;
}
