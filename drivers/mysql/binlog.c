/*
 * The binlog stream: one table's row changes read from the MariaDB/MySQL
 * binary log over a replication connection (Connector/C's mariadb_rpl),
 * for replication capture (stream.h).
 *
 * Positions are "file:offset" at the end of a transaction. Marks are
 * updates of row 1 of the table's "_gw_<t>_rpl", written on a connection
 * of the stream's own; they come through the binlog like any change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "binlog_int.h"
#include "mysql_int.h"   /* before mariadb_rpl.h, which needs mysql.h */

#include <mariadb_rpl.h>

#include "godwit/dialect.h"
#include "godwit/log.h"
#include "godwit/shadow.h"
#include "godwit/stream.h"

#define HEARTBEAT_NS "500000000"   /* the server says it is alive when idle */

/* A table followed in the binlog: its columns and the id of its last TABLE_MAP. */
struct followed {
	const char *name;
	struct gw_binlog_col *cols;
	size_t ncols;
	unsigned long long id;
	bool mapped;
};

struct gw_stream {
	struct gw_conn *repl;         /* the replication connection */
	struct gw_conn *hb;           /* writes marks */
	MARIADB_RPL *rpl;
	MARIADB_RPL_EVENT *ev;        /* the last event fetched */
	char *db;
	char *rpl_table, *qrpl;
	struct followed t, marks;
	char file[96];                /* the binlog file being read */
	bool crc;                     /* events end with a 4-byte checksum */
	/* the rows event being split into changes */
	struct followed *of;
	enum mariadb_rpl_event rows_type;
	const unsigned char *rp, *rend;
	const unsigned char *bitmap, *bitmap_after;
	char **before, **after;
};

static void vals_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void followed_release(struct followed *f)
{
	for (size_t i = 0; i < f->ncols; i++) {
		free((char *)f->cols[i].name);
		gw_binlog_col_release(&f->cols[i]);
	}
	free(f->cols);
	memset(f, 0, sizeof(*f));
}

static int rpl_error(struct gw_stream *s, struct gw_error *err)
{
	const char *why = s->rpl ? mariadb_rpl_error(s->rpl) : "";

	if (!why || !*why)
		why = mysql_error(gw_mysql_downcast(s->repl)->my);
	return gw_error_set(err, GW_ERR_DB, "could not read the binlog at '%s': %s", s->file, why);
}

/* The definition of table's columns, for the decoder. */
static int define(struct gw_conn *c, const char *table, struct followed *f, struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = gw_conn_query(c,
			       "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME "
			       "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
			       "AND TABLE_NAME = $1 ORDER BY ORDINAL_POSITION",
			       1, (const char *const[]){table}, &r, err);

	if (rc < 0)
		return rc;
	f->name = table;
	f->ncols = (size_t)r->nrows;
	f->cols = gw_calloc(f->ncols + 1, sizeof(*f->cols));
	for (int i = 0; i < r->nrows; i++) {
		gw_binlog_col_define(&f->cols[i], gw_result_get(r, i, 1), gw_result_get(r, i, 2));
		f->cols[i].name = gw_strdup(gw_result_get(r, i, 0));
	}
	gw_result_free(r);
	return 0;
}

static bool is_rows(enum mariadb_rpl_event t)
{
	return t == WRITE_ROWS_EVENT_V1 || t == UPDATE_ROWS_EVENT_V1 || t == DELETE_ROWS_EVENT_V1 ||
	       t == WRITE_ROWS_EVENT || t == UPDATE_ROWS_EVENT || t == DELETE_ROWS_EVENT ||
	       t == WRITE_ROWS_COMPRESSED_EVENT_V1 || t == UPDATE_ROWS_COMPRESSED_EVENT_V1 ||
	       t == DELETE_ROWS_COMPRESSED_EVENT_V1 || t == WRITE_ROWS_COMPRESSED_EVENT ||
	       t == UPDATE_ROWS_COMPRESSED_EVENT || t == DELETE_ROWS_COMPRESSED_EVENT;
}

static bool is_update(enum mariadb_rpl_event t)
{
	return t == UPDATE_ROWS_EVENT_V1 || t == UPDATE_ROWS_EVENT ||
	       t == UPDATE_ROWS_COMPRESSED_EVENT_V1 || t == UPDATE_ROWS_COMPRESSED_EVENT;
}

static bool is_delete(enum mariadb_rpl_event t)
{
	return t == DELETE_ROWS_EVENT_V1 || t == DELETE_ROWS_EVENT ||
	       t == DELETE_ROWS_COMPRESSED_EVENT_V1 || t == DELETE_ROWS_COMPRESSED_EVENT;
}

static bool named(const MARIADB_STRING *s, const char *name)
{
	return s->length == strlen(name) && memcmp(s->str, name, s->length) == 0;
}

/* A TABLE_MAP event: note the id of a followed table and its columns' binlog types. */
static int table_map(struct gw_stream *s, struct gw_error *err)
{
	const struct st_mariadb_rpl_table_map_event *tm = &s->ev->event.table_map;
	struct followed *f = NULL;
	unsigned *meta;

	if (!named(&tm->database, s->db))
		return 0;
	if (named(&tm->table, s->t.name))
		f = &s->t;
	else if (named(&tm->table, s->rpl_table))
		f = &s->marks;
	else
		return 0;
	if (tm->column_count != f->ncols)
		return gw_error_set(err, GW_ERR_STATE,
				    "table '%s' has %u columns in the binlog and %zu now: its "
				    "definition changed during the rebuild",
				    f->name, tm->column_count, f->ncols);
	meta = gw_calloc(f->ncols + 1, sizeof(unsigned));
	if (gw_binlog_meta((const unsigned char *)tm->column_types.str, f->ncols,
			   (const unsigned char *)tm->metadata.str, tm->metadata.length, meta) < 0) {
		free(meta);
		return gw_error_set(err, GW_ERR_DB, "binlog: table map of '%s' is not valid", f->name);
	}
	for (size_t i = 0; i < f->ncols; i++) {
		f->cols[i].type = (unsigned char)tm->column_types.str[i];
		f->cols[i].meta = meta[i];
	}
	free(meta);
	f->id = tm->table_id;
	f->mapped = true;
	return 0;
}

/* Decode the next image of the rows event being split into *out. */
static int image(struct gw_stream *s, const unsigned char *bitmap, char ***out,
		 struct gw_error *err)
{
	struct followed *f = s->of;
	char **v = gw_calloc(f->ncols + 1, sizeof(char *));
	long n = gw_binlog_row(f->cols, f->ncols, bitmap, s->rp, (size_t)(s->rend - s->rp), v, err);

	if (n < 0) {
		vals_free(v, f->ncols);
		return GW_ERR_DB;
	}
	s->rp += n;
	*out = v;
	return 0;
}

/* The next row of the rows event being split, as a change (or a mark). */
static int split_row(struct gw_stream *s, struct gw_change *ch, struct gw_error *err)
{
	int rc = 0;

	vals_free(s->before, s->t.ncols);
	vals_free(s->after, s->t.ncols);
	s->before = s->after = NULL;
	if (s->of == &s->marks) {
		char **v = NULL;

		/* Mark rows: only their last image matters. */
		rc = image(s, s->bitmap, &v, err);
		if (rc == 0 && is_update(s->rows_type)) {
			vals_free(v, s->marks.ncols);
			rc = image(s, s->bitmap_after, &v, err);
		}
		if (rc == 0 && !is_delete(s->rows_type) && v[0] && strcmp(v[0], "1") == 0 && v[1] &&
		    v[2]) {
			ch->kind = GW_CHANGE_MARK;
			ch->mark = strtoll(v[1], NULL, 10);
			ch->mark_us = strtoll(v[2], NULL, 10);
		}
		vals_free(v, s->marks.ncols);
		return rc;
	}
	if (is_update(s->rows_type)) {
		ch->kind = GW_CHANGE_UPDATE;
		rc = image(s, s->bitmap, &s->before, err);
		if (rc == 0)
			rc = image(s, s->bitmap_after, &s->after, err);
	} else if (is_delete(s->rows_type)) {
		ch->kind = GW_CHANGE_DELETE;
		rc = image(s, s->bitmap, &s->before, err);
	} else {
		ch->kind = GW_CHANGE_INSERT;
		rc = image(s, s->bitmap, &s->after, err);
	}
	ch->before = s->before;
	ch->after = s->after;
	return rc;
}

/* A rows event: split it if it is of a followed table. */
static int rows(struct gw_stream *s, struct gw_error *err)
{
	const struct st_mariadb_rpl_rows_event *re = &s->ev->event.rows;
	struct followed *f = NULL;

	if (s->t.mapped && re->table_id == s->t.id)
		f = &s->t;
	else if (s->marks.mapped && re->table_id == s->marks.id)
		f = &s->marks;
	if (!f)
		return 0;
	if (re->compressed)
		return gw_error_set(err, GW_ERR_UNSUPPORTED,
				    "binlog: compressed row events (log_bin_compress) are not read");
	s->of = f;
	s->rows_type = s->ev->event_type;
	s->rp = re->row_data;
	s->rend = s->rp + re->row_data_size;
	s->bitmap = re->column_bitmap;
	s->bitmap_after = re->column_update_bitmap ? re->column_update_bitmap : re->column_bitmap;
	return 0;
}

/*
 * A ROTATE event: the next file's name. Read from the raw event (after the
 * packet's first byte and the 19-byte header: the 8-byte position, the
 * name, the checksum if any), because Connector/C 3.3 decodes the fields
 * of a real rotation wrongly (only the one at the start of a dump right).
 */
static int rotate(struct gw_stream *s, struct gw_error *err)
{
	const unsigned char *raw = s->ev->raw_data;
	size_t len = s->ev->raw_data_size, ev_len, name;

	if (len < 1 + 19 + 8)
		return gw_error_set(err, GW_ERR_DB, "binlog: rotate event of %zu bytes", len);
	ev_len = (size_t)raw[10] | (size_t)raw[11] << 8 | (size_t)raw[12] << 16 |
		 (size_t)raw[13] << 24;
	name = ev_len - 19 - 8 - (s->crc ? 4 : 0);
	if (ev_len > len - 1 || ev_len < 19 + 8 + 4 || name == 0 || name >= sizeof(s->file))
		return gw_error_set(err, GW_ERR_DB, "binlog: rotate event is not valid");
	memcpy(s->file, raw + 1 + 19 + 8, name);
	s->file[name] = '\0';
	return 0;
}

static int stream_next(struct gw_stream *s, struct gw_change *ch, int timeout_ms,
		       struct gw_error *err)
{
	(void)timeout_ms;   /* the server's heartbeat bounds the wait */
	memset(ch, 0, sizeof(*ch));
	for (;;) {
		int rc = 0;

		if (s->rp && s->rp < s->rend) {
			rc = split_row(s, ch, err);
			if (rc < 0 || ch->kind != GW_CHANGE_NONE)
				return rc;
			continue;
		}
		s->rp = s->rend = NULL;
		s->ev = mariadb_rpl_fetch(s->rpl, s->ev);
		if (!s->ev)
			return rpl_error(s, err);
		switch (s->ev->event_type) {
		case ROTATE_EVENT:
			rc = rotate(s, err);
			break;
		case HEARTBEAT_LOG_EVENT:
			return 0;
		case TABLE_MAP_EVENT:
			rc = table_map(s, err);
			break;
		case XID_EVENT:
			ch->kind = GW_CHANGE_COMMIT;
			snprintf(ch->pos, sizeof(ch->pos), "%.96s:%u", s->file, s->ev->next_event_pos);
			return 0;
		case QUERY_EVENT:
			/* A statement on its own (DDL) ends its group; BEGIN starts one. */
			if (named(&s->ev->event.query.statement, "BEGIN"))
				break;
			ch->kind = GW_CHANGE_COMMIT;
			snprintf(ch->pos, sizeof(ch->pos), "%.96s:%u", s->file, s->ev->next_event_pos);
			return 0;
		default:
			if (is_rows(s->ev->event_type))
				rc = rows(s, err);
			break;
		}
		if (rc < 0)
			return rc;
	}
}

/* "file:offset" into file and offset. */
static int parse_pos(const char *pos, char *file, size_t filesz, unsigned long *off)
{
	const char *colon = strrchr(pos, ':');
	char *end;

	if (!colon || colon == pos || (size_t)(colon - pos) >= filesz)
		return -1;
	memcpy(file, pos, (size_t)(colon - pos));
	file[colon - pos] = '\0';
	*off = strtoul(colon + 1, &end, 10);
	return *end ? -1 : 0;
}

static void stream_close(struct gw_stream *s)
{
	if (!s)
		return;
	if (s->ev)
		mariadb_free_rpl_event(s->ev);
	if (s->rpl)
		mariadb_rpl_close(s->rpl);
	vals_free(s->before, s->t.ncols);
	vals_free(s->after, s->t.ncols);
	followed_release(&s->t);
	followed_release(&s->marks);
	gw_conn_close(s->repl);
	gw_conn_close(s->hb);
	free(s->db);
	free(s->rpl_table);
	free(s->qrpl);
	free(s);
}

/*
 * What the server must do for the binlog to carry whole rows, checked when
 * the stream is set up and each time it opens.
 */
static int server_check(struct gw_conn *c, const struct gw_table_info *t, struct gw_error *err)
{
	/*
	 * binlog_order_commits (MySQL; MariaDB always does): InnoDB commits in
	 * binlog order, so that all read up to a mark is visible once the mark
	 * has committed (stream.h).
	 */
	static const struct {
		const char *var, *want, *fix;
	} need[] = {
		{"log_bin", "1", "start the server with log_bin (and binlog_format=ROW, "
				 "binlog_row_image=FULL)"},
		{"binlog_format", "ROW", "SET GLOBAL binlog_format = 'ROW'"},
		{"binlog_row_image", "FULL", "SET GLOBAL binlog_row_image = 'FULL'"},
		{"binlog_order_commits", "ON", "SET GLOBAL binlog_order_commits = ON (the default)"},
	};
	struct gw_result *r = NULL, *order = NULL;
	int rc = gw_conn_query(c, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image", 0, NULL,
			       &r, err);

	if (rc == 0)
		rc = gw_conn_query(c, "SHOW GLOBAL VARIABLES LIKE 'binlog_order_commits'", 0, NULL,
				   &order, err);
	for (size_t i = 0; rc == 0 && i < GW_ARRAY_SIZE(need); i++) {
		const char *v = i < 3 ? gw_result_get(r, 0, (int)i)
				: order->nrows ? gw_result_get(order, 0, 1) : "ON";

		if (v && strcasecmp(v, need[i].want) == 0)
			continue;
		rc = gw_error_set(err, GW_ERR_UNSUPPORTED,
				  "replication capture of '%s' needs %s = %s on the server; it is %s",
				  t->name, need[i].var, need[i].want, v ? v : "NULL");
		gw_error_hint(err, "%s%s, or use \"capture\": \"triggers\"", need[i].fix,
			      i ? " and put it in the server's configuration" : "");
	}
	gw_result_free(order);
	gw_result_free(r);
	return rc;
}

static int stream_open(const char *url, struct gw_conn *c, const struct gw_table_info *t,
		       const char *pos, struct gw_stream **out, struct gw_error *err)
{
	struct gw_stream *s = gw_calloc(1, sizeof(*s));
	struct gw_buf b = GW_BUF_INIT;
	unsigned long off = 0;
	unsigned int server_id = 0x60000000u | (unsigned int)(gw_epoch_us() & 0xffffff);
	struct gw_result *r = NULL;
	int rc;

	s->db = gw_strdup(c->database);
	s->rpl_table = gw_shadow_name(t->name, "rpl");
	gw_conn_dialect(c)->ident(&b, s->rpl_table);
	s->qrpl = gw_buf_detach(&b);
	if (parse_pos(pos, s->file, sizeof(s->file), &off) < 0) {
		rc = gw_error_set(err, GW_ERR_STATE, "binlog position '%s' is not valid", pos);
		goto out;
	}
	rc = server_check(c, t, err);
	if (rc == 0)
		rc = define(c, t->name, &s->t, err);
	if (rc == 0 && s->t.ncols != t->ncolumns)
		rc = gw_error_set(err, GW_ERR_STATE, "table '%s' changed while it was opened",
				  t->name);
	if (rc == 0)
		rc = define(c, s->rpl_table, &s->marks, err);
	s->t.name = t->name;
	s->marks.name = s->rpl_table;
	if (rc == 0)
		rc = gw_connect(url, &s->hb, err);
	if (rc == 0)
		rc = gw_connect(url, &s->repl, err);
	if (rc == 0)
		rc = gw_conn_exec(s->repl, "SET @master_binlog_checksum = @@global.binlog_checksum",
				  err);
	if (rc == 0)
		rc = gw_conn_query(s->repl, "SELECT @@global.binlog_checksum <> 'NONE'", 0, NULL, &r,
				   err);
	if (rc == 0)
		s->crc = strcmp(gw_result_get(r, 0, 0), "1") == 0;
	gw_result_free(r);
	if (rc == 0)
		rc = gw_conn_exec(s->repl, "SET @master_heartbeat_period = " HEARTBEAT_NS, err);
	if (rc == 0)
		rc = gw_conn_exec(s->repl, "SET @mariadb_slave_capability = 4", err);
	if (rc < 0)
		goto out;
	s->rpl = mariadb_rpl_init(gw_mysql_downcast(s->repl)->my);
	if (!s->rpl) {
		rc = gw_error_set(err, GW_ERR_DB, "could not start reading the binlog");
		goto out;
	}
	if (mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FILENAME, s->file, strlen(s->file)) ||
	    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_START, off) ||
	    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_SERVER_ID, server_id) ||
	    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FLAGS, 0) || mariadb_rpl_open(s->rpl)) {
		rc = rpl_error(s, err);
		gw_error_hint(err, "the binlog file may have been purged; roll back the expand phase "
				   "and run the rebuild again, or keep binlogs longer");
		goto out;
	}
	gw_debug(t->name, "reading the binlog from %s", pos);
out:
	if (rc < 0) {
		stream_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int stream_mark(struct gw_stream *s, long long seq, struct gw_error *err)
{
	char *sql = gw_asprintf("INSERT INTO %s (id, seq, at_us) VALUES (1, %lld, %lld) "
				"ON DUPLICATE KEY UPDATE seq = VALUES(seq), at_us = VALUES(at_us)",
				s->qrpl, seq, (long long)gw_epoch_us());
	int rc = gw_conn_exec(s->hb, sql, err);

	free(sql);
	return rc;
}

static int stream_confirm(struct gw_stream *s, const char *pos, struct gw_error *err)
{
	(void)s;
	(void)pos;
	(void)err;
	return 0;   /* the server keeps binlogs by its own retention */
}

static int stream_setup(struct gw_conn *c, const struct gw_table_info *t, char **pos,
			struct gw_error *err)
{
	struct gw_result *r = NULL;
	int rc = server_check(c, t, err);

	if (rc == 0)
		rc = gw_conn_query(c, "SHOW MASTER STATUS", 0, NULL, &r, err);
	if (rc == 0 && r->nrows == 0)
		rc = gw_error_set(err, GW_ERR_UNSUPPORTED, "the server reports no binlog position");
	if (rc == 0)
		*pos = gw_asprintf("%s:%s", gw_result_get(r, 0, 0), gw_result_get(r, 0, 1));
	gw_result_free(r);
	return rc;
}

static int stream_teardown(struct gw_conn *c, const char *table, struct gw_error *err)
{
	(void)c;
	(void)table;
	(void)err;
	return 0;   /* nothing on the server but the state table */
}

const struct gw_stream_ops gw_mysql_stream = {
	.setup = stream_setup,
	.teardown = stream_teardown,
	.open = stream_open,
	.mark = stream_mark,
	.next = stream_next,
	.confirm = stream_confirm,
	.close = stream_close,
};
