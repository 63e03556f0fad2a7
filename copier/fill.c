/*
 * Running a fill in keyset chunks: find where the next chunk ends, update
 * the rows up to there and record the checkpoint in the same transaction,
 * adapt the chunk size, repeat until the range fixed at the start is done.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "godwit/copier.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/triggers.h"

#define MAX_RETRIES 10

struct fill_state {
	struct gw_conn *c;
	const struct gw_dialect *d;
	const struct gw_fill *f;
	struct gw_key key;
	struct gw_keyval lo, hi;   /* lo.n == 0: from the first key */
	struct gw_chunker chunker;
	struct gw_fill_progress p;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

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

static char *checkpoint_text(const struct fill_state *st)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "lo", keyval_json(&st->lo));
	json_object_set_new(o, "hi", keyval_json(&st->hi));
	json_object_set_new(o, "rows", json_integer(st->p.rows_done));
	json_object_set_new(o, "size", json_integer(st->chunker.size));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static int resume_from(struct fill_state *st, const char *text, struct gw_error *err)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	int rc = 0;

	if (!json_is_object(o) || keyval_parse(&st->lo, json_object_get(o, "lo"), st->key.n) < 0 ||
	    keyval_parse(&st->hi, json_object_get(o, "hi"), st->key.n) < 0) {
		rc = gw_error_set(err, GW_ERR_STATE, "fill checkpoint of table '%s' is not valid",
				  st->f->table);
		goto out;
	}
	st->p.rows_done = json_integer_value(json_object_get(o, "rows"));
	if (json_integer_value(json_object_get(o, "size")) > 0)
		st->chunker.size = (long)json_integer_value(json_object_get(o, "size"));
out:
	json_decref(o);
	return rc;
}

/* Append " WHERE lo < key AND key <= end" with its parameters. */
static void put_range(struct gw_buf *b, const struct fill_state *st, const struct gw_keyval *end,
		      int *np, const char **params)
{
	gw_buf_puts(b, " WHERE ");
	if (st->lo.n) {
		gw_keyset_cond(b, st->d, &st->key, &st->lo, true, np, params);
		gw_buf_puts(b, " AND ");
	}
	gw_keyset_cond(b, st->d, &st->key, end, false, np, params);
}

/*
 * Where the next chunk ends: the key of the size-th row after lo, or hi
 * when fewer rows are left. *last is set when the chunk reaches hi.
 */
static int chunk_end(struct fill_state *st, struct gw_keyval *end, bool *last,
		     struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	const char **params = gw_calloc(4 * st->key.n + 1, sizeof(char *));
	struct gw_result *r = NULL;
	int np = 0, rc;

	gw_buf_puts(&b, "SELECT ");
	gw_sql_ident_list(&b, st->d, st->key.n, st->key.cols);
	gw_buf_puts(&b, " FROM ");
	st->d->ident(&b, st->f->table);
	put_range(&b, st, &st->hi, &np, params);
	gw_buf_puts(&b, " ORDER BY ");
	gw_sql_ident_list(&b, st->d, st->key.n, st->key.cols);
	gw_buf_printf(&b, " LIMIT 1 OFFSET %ld", st->chunker.size - 1);
	rc = gw_conn_query(st->c, b.data, np, params, &r, err);
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

static int update_chunk(struct fill_state *st, const struct gw_keyval *end,
			const struct gw_fill_hooks *h, struct gw_error *err)
{
	struct gw_buf b = GW_BUF_INIT;
	const char **params = gw_calloc(4 * st->key.n + 1, sizeof(char *));
	struct gw_keyval saved = st->lo;
	char *ckpt;
	int np = 0, rc;

	gw_buf_puts(&b, "UPDATE ");
	st->d->ident(&b, st->f->table);
	gw_buf_printf(&b, " SET %s", st->f->set);
	put_range(&b, st, end, &np, params);
	if (st->f->where)
		gw_buf_printf(&b, " AND (%s)", st->f->where);

	rc = gw_conn_exec(st->c, "BEGIN", err);
	if (rc == 0)
		rc = gw_conn_query(st->c, b.data, np, params, NULL, err);
	if (rc == 0) {
		/* The checkpoint names the new lower bound; keep the old until commit. */
		st->lo = *end;
		ckpt = checkpoint_text(st);
		st->lo = saved;
		rc = h->checkpoint(h->arg, ckpt, &st->p, err);
		free(ckpt);
	}
	if (rc == 0)
		rc = gw_conn_exec(st->c, "COMMIT", err);
	if (rc < 0 && gw_conn_exec(st->c, "ROLLBACK", NULL) < 0)
		gw_warn(st->f->table, "could not roll back a failed chunk");
	free(params);
	gw_buf_release(&b);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int fill_loop(struct fill_state *st, const struct gw_fill_hooks *h, struct gw_error *err)
{
	struct gw_keyval end = {0, NULL};
	int retries = 0, rc = 0;

	for (;;) {
		struct gw_error e = GW_ERROR_INIT;
		bool last = false;
		double t0;
		long size = st->chunker.size;

		st->p.chunk = size;
		rc = h->before_chunk(h->arg, &st->p, err);
		if (rc < 0)
			break;
		t0 = now_ms();
		/* The chunk's rows count toward progress only once committed. */
		st->p.rows_done += size;
		rc = chunk_end(st, &end, &last, &e);
		if (rc == 0)
			rc = update_chunk(st, last ? &st->hi : &end, h, &e);
		if (rc < 0) {
			st->p.rows_done -= size;
			if ((rc == GW_ERR_DB_LOCK_TIMEOUT || rc == GW_ERR_DB_RETRY) &&
			    ++retries <= MAX_RETRIES) {
				gw_warn(st->f->table, "chunk of %ld rows: %s; retrying smaller (%d of %d)",
					size, e.msg, retries, MAX_RETRIES);
				st->p.retries++;
				st->chunker.size = size / 2 > st->chunker.min ? size / 2 : st->chunker.min;
				sleep_ms(100L << (retries < 5 ? retries : 5));
				continue;
			}
			*err = e;
			break;
		}
		retries = 0;
		st->p.last_ms = now_ms() - t0;
		{
			double rate = (double)size * 1000.0 / (st->p.last_ms > 1 ? st->p.last_ms : 1);

			st->p.rows_per_s = st->p.rows_per_s > 0 ? 0.7 * st->p.rows_per_s + 0.3 * rate
								: rate;
		}
		gw_chunker_update(&st->chunker, size, st->p.last_ms);
		if (last)
			break;
		keyval_release(&st->lo);
		st->lo = end;
		end.n = 0;
		end.v = NULL;
	}
	keyval_release(&end);
	return rc;
}

int gw_fill_run(struct gw_conn *c, const struct gw_fill *f, const char *resume,
		long long rows_total, double target_ms, const struct gw_fill_hooks *h,
		struct gw_error *err)
{
	struct fill_state st;
	struct gw_table_info *t = NULL;
	struct gw_result *r = NULL;
	char *sql = NULL;
	int rc;

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.d = gw_conn_dialect(c);
	st.f = f;
	st.p.rows_total = rows_total;
	gw_chunker_init(&st.chunker, target_ms);

	rc = gw_conn_describe(c, f->table, &t, err);
	if (rc == 0)
		rc = gw_key_choose(t, &st.key, err);
	if (rc < 0)
		goto out;
	if (resume && *resume) {
		rc = resume_from(&st, resume, err);
	} else {
		sql = gw_keyset_edge_sql(st.d, f->table, &st.key, true);
		rc = gw_conn_query(c, sql, 0, NULL, &r, err);
		if (rc == 0 && r->nrows == 0)
			goto out;    /* empty table: nothing to fill */
		if (rc == 0)
			keyval_from_row(&st.hi, r, 0);
	}
	if (rc < 0 || st.hi.n == 0)
		goto out;
	rc = gw_conn_exec(c, gw_trigger_fill_flag_sql(st.d, f->mode ? f->mode : "skip"), err);
	if (rc == 0)
		rc = fill_loop(&st, h, err);
	if (gw_conn_exec(c, gw_trigger_fill_flag_sql(st.d, NULL), NULL) < 0 && rc == 0)
		rc = gw_error_set(err, GW_ERR_DB, "could not reset the fill flag of the session");
out:
	free(sql);
	gw_result_free(r);
	gw_table_info_free(t);
	gw_key_release(&st.key);
	keyval_release(&st.lo);
	keyval_release(&st.hi);
	return rc;
}
