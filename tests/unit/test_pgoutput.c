/*
 * The logical replication wire format: frames, every pgoutput message,
 * malformed and truncated input, LSN text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/postgres/pgoutput_int.h"

/* A message under construction: big-endian integers and NUL-terminated strings. */
struct bb {
	unsigned char b[512];
	size_t n;
};

static void put(struct bb *b, uint64_t v, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	for (size_t i = 0; i < n; i++)
		b->b[b->n++] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static void put_bytes(struct bb *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_str(struct bb *b, const char *s)
{
	put_bytes(b, s, strlen(s) + 1);
}

/* A 't' (or 'b') column of n bytes. */
static void put_val(struct bb *b, char kind, const void *p, size_t n)
{
	put(b, (unsigned char)kind, 1);
	put(b, n, 4);
	put_bytes(b, p, n);
}

#define put_text(b, s) put_val((b), 't', (s), strlen(s))

/*
 * Parse b from an exactly sized heap copy, so that ASan sees any read past
 * the end.
 */
static int parse(const struct bb *b, size_t len, struct gw_pgo_msg *m, struct gw_error *e)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, b->b, len);
	gw_error_clear(e);
	rc = gw_pgo_parse(copy, len, m, e);
	free(copy);
	return rc;
}

static void parse_ok(const struct bb *b, struct gw_pgo_msg *m)
{
	struct gw_error e = GW_ERROR_INIT;

	if (parse(b, b->n, m, &e) != 0)
		fail_msg("parse failed: %s", e.msg);
}

/* Parsing b must fail with GW_ERR_DB and a message containing want. */
static void parse_bad(const struct bb *b, const char *want)
{
	struct gw_pgo_msg m;
	struct gw_error e = GW_ERROR_INIT;

	assert_int_equal(parse(b, b->n, &m, &e), -1);
	assert_int_equal(e.code, GW_ERR_DB);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' does not contain '%s'", e.msg, want);
	assert_int_equal(m.type, 0);
	assert_null(m.new_row.vals);
	gw_pgo_msg_release(&m);
}

static void tuple_is(const struct gw_pgo_tuple *t, size_t n, const char *kinds)
{
	assert_int_equal(t->n, n);
	assert_memory_equal(t->kinds, kinds, n);
	for (size_t i = 0; i < n; i++)
		if (kinds[i] != 't' && kinds[i] != 'b')
			assert_null(t->vals[i]);
		else
			assert_non_null(t->vals[i]);
}

/* ---- valid messages, also used by the truncation test -------------------- */

static void build_begin(struct bb *b)
{
	put(b, 'B', 1);
	put(b, 0x0000001600B374D8ull, 8);
	put(b, 0x0002A6B1C2D3E4F5ull, 8);
	put(b, 0xFEDCBA98u, 4);
}

static void build_commit(struct bb *b)
{
	put(b, 'C', 1);
	put(b, 0, 1);
	put(b, 0x10ull, 8);
	put(b, 0xFFFFFFFF00000020ull, 8);
	put(b, (uint64_t)-5, 8);
}

static void build_origin(struct bb *b)
{
	put(b, 'O', 1);
	put(b, 0x1234ull << 32 | 0x5678, 8);
	put_str(b, "node_a");
}

static void build_relation(struct bb *b)
{
	put(b, 'R', 1);
	put(b, 16385, 4);
	put_str(b, "public");
	put_str(b, "t");
	put(b, 'd', 1);
	put(b, 3, 2);
	put(b, 1, 1), put_str(b, "id"), put(b, 20, 4), put(b, 0xFFFFFFFFu, 4);
	put(b, 0, 1), put_str(b, ""), put(b, 25, 4), put(b, 0xFFFFFFFFu, 4);
	put(b, 0, 1), put_str(b, "n"), put(b, 1700, 4), put(b, (10 << 16 | 2) + 4, 4);
}

static void build_type(struct bb *b)
{
	put(b, 'Y', 1);
	put(b, 70000, 4);
	put_str(b, "");
	put_str(b, "mood");
}

static const char embedded[] = "a\x01\xff\n\t'\"\\\xc3\xa9";

static void build_insert(struct bb *b)
{
	put(b, 'I', 1);
	put(b, 16385, 4);
	put(b, 'N', 1);
	put(b, 5, 2);
	put_text(b, "42");
	put(b, 'n', 1);
	put_text(b, "");
	put_val(b, 't', embedded, sizeof(embedded) - 1);
	put(b, 'u', 1);
}

static void build_update_key(struct bb *b)
{
	put(b, 'U', 1);
	put(b, 7, 4);
	put(b, 'K', 1);
	put(b, 2, 2);
	put_text(b, "1");
	put(b, 'n', 1);
	put(b, 'N', 1);
	put(b, 2, 2);
	put_text(b, "2");
	put(b, 'u', 1);
}

static void build_delete_old(struct bb *b)
{
	put(b, 'D', 1);
	put(b, 7, 4);
	put(b, 'O', 1);
	put(b, 2, 2);
	put_text(b, "1");
	put(b, 'n', 1);
}

static void build_truncate(struct bb *b)
{
	put(b, 'T', 1);
	put(b, 2, 4);
	put(b, 3, 1);
	put(b, 16385, 4);
	put(b, 0x80000001u, 4);
}

static void build_message(struct bb *b)
{
	put(b, 'M', 1);
	put(b, 1, 1);
	put(b, 0xABCDull, 8);
	put_str(b, "godwit");
	put(b, 3, 4);
	put_bytes(b, "x\0y", 3);
}

/* ---- frames -------------------------------------------------------------- */

static void test_frame_xlogdata(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_frame f;
	struct gw_error e = GW_ERROR_INIT;

	(void)state;
	put(&b, 'w', 1);
	put(&b, 0x0000000100000002ull, 8);
	put(&b, 0xFFFFFFFFFFFFFFFFull, 8);
	put(&b, (uint64_t)INT64_C(-2), 8);
	put_bytes(&b, "Mxyz", 4);
	assert_int_equal(gw_pgo_frame_parse(b.b, b.n, &f, &e), 0);
	assert_int_equal(f.type, 'w');
	assert_true(f.wal_start == 0x0000000100000002ull);
	assert_true(f.wal_end == UINT64_MAX);
	assert_true(f.send_time == -2);
	assert_ptr_equal(f.data, b.b + 25);
	assert_int_equal(f.len, 4);
	assert_false(f.reply_requested);

	/* no payload is still a frame */
	assert_int_equal(gw_pgo_frame_parse(b.b, 25, &f, &e), 0);
	assert_int_equal(f.len, 0);
}

static void test_frame_keepalive(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_frame f;
	struct gw_error e = GW_ERROR_INIT;

	(void)state;
	put(&b, 'k', 1);
	put(&b, 0x16B374D848ull, 8);
	put(&b, 7, 8);
	put(&b, 1, 1);
	assert_int_equal(gw_pgo_frame_parse(b.b, b.n, &f, &e), 0);
	assert_int_equal(f.type, 'k');
	assert_true(f.wal_end == 0x16B374D848ull);
	assert_true(f.send_time == 7);
	assert_true(f.reply_requested);
	assert_null(f.data);

	b.b[b.n - 1] = 0;
	assert_int_equal(gw_pgo_frame_parse(b.b, b.n, &f, &e), 0);
	assert_false(f.reply_requested);
}

static void frame_bad(const unsigned char *p, size_t len, const char *want)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct gw_pgo_frame f;
	struct gw_error e = GW_ERROR_INIT;

	assert_non_null(copy);
	memcpy(copy, p, len);
	assert_int_equal(gw_pgo_frame_parse(copy, len, &f, &e), -1);
	free(copy);
	assert_int_equal(e.code, GW_ERR_DB);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' does not contain '%s'", e.msg, want);
	assert_int_equal(f.type, 0);
}

static void test_frame_bad(void **state)
{
	struct bb w = {.n = 0}, k = {.n = 0};

	(void)state;
	put(&w, 'w', 1), put(&w, 1, 8), put(&w, 2, 8), put(&w, 3, 8);
	put(&k, 'k', 1), put(&k, 1, 8), put(&k, 2, 8), put(&k, 0, 1);
	for (size_t n = 1; n < w.n; n++)
		frame_bad(w.b, n, "'w'");
	for (size_t n = 1; n < k.n; n++)
		frame_bad(k.b, n, "'k'");
	frame_bad(k.b, 0, "empty");
	put(&k, 0, 1);
	frame_bad(k.b, k.n, "1 bytes after the end");
	frame_bad((const unsigned char *)"r", 1, "unknown type 'r'");
	frame_bad((const unsigned char *)"\x01", 1, "unknown type 0x01");
}

static void test_status(void **state)
{
	static const unsigned char want[34] = {
		'r',
		0x00, 0x00, 0x00, 0x16, 0xB3, 0x74, 0xD8, 0x48,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
		1,
	};
	unsigned char out[34];

	(void)state;
	assert_int_equal(gw_pgo_status(out, 0x16B374D848ull, 1, UINT64_MAX, -2, true), 34);
	assert_memory_equal(out, want, 34);
	assert_int_equal(gw_pgo_status(out, 0, 0, 0, 0, false), 34);
	assert_int_equal(out[0], 'r');
	for (size_t i = 1; i < 34; i++)
		assert_int_equal(out[i], 0);
}

/* ---- messages ------------------------------------------------------------ */

static void test_begin_commit(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_begin(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'B');
	assert_true(m.lsn == 0x0000001600B374D8ull);
	assert_true(m.time == 0x0002A6B1C2D3E4F5ll);
	assert_true(m.xid == 0xFEDCBA98u);
	gw_pgo_msg_release(&m);

	b.n = 0;
	build_commit(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'C');
	assert_true(m.lsn == 0x10);
	assert_true(m.end_lsn == 0xFFFFFFFF00000020ull);
	assert_true(m.time == -5);
	gw_pgo_msg_release(&m);
	assert_int_equal(m.type, 0);
}

static void test_origin_type(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_origin(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'O');
	assert_true(m.lsn == (0x1234ull << 32 | 0x5678));
	assert_string_equal(m.origin, "node_a");
	gw_pgo_msg_release(&m);

	b.n = 0;
	build_type(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'Y');
	assert_int_equal(m.relid, 70000);
	assert_string_equal(m.nspname, "");
	assert_string_equal(m.relname, "mood");
	gw_pgo_msg_release(&m);
}

static void test_relation(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_relation(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'R');
	assert_int_equal(m.relid, 16385);
	assert_string_equal(m.nspname, "public");
	assert_string_equal(m.relname, "t");
	assert_int_equal(m.replident, 'd');
	assert_int_equal(m.ncols, 3);
	assert_string_equal(m.colnames[0], "id");
	assert_string_equal(m.colnames[1], "");
	assert_string_equal(m.colnames[2], "n");
	assert_true(m.key[0] && !m.key[1] && !m.key[2]);
	assert_int_equal(m.coltypes[0], 20);
	assert_int_equal(m.coltypes[2], 1700);
	assert_int_equal(m.typmods[0], -1);
	assert_int_equal(m.typmods[2], (10 << 16 | 2) + 4);
	gw_pgo_msg_release(&m);

	/* no columns, flags other than 1 ignored */
	b.n = 0;
	put(&b, 'R', 1), put(&b, 1, 4), put_str(&b, "s"), put_str(&b, "e"), put(&b, 'n', 1);
	put(&b, 0, 2);
	parse_ok(&b, &m);
	assert_int_equal(m.ncols, 0);
	assert_int_equal(m.replident, 'n');
	gw_pgo_msg_release(&m);
	b.n = 0;
	put(&b, 'R', 1), put(&b, 1, 4), put_str(&b, "s"), put_str(&b, "e"), put(&b, 'f', 1);
	put(&b, 1, 2), put(&b, 2, 1), put_str(&b, "c"), put(&b, 23, 4), put(&b, 0, 4);
	parse_ok(&b, &m);
	assert_false(m.key[0]);
	gw_pgo_msg_release(&m);
}

static void test_insert(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_insert(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'I');
	assert_int_equal(m.relid, 16385);
	assert_int_equal(m.old_kind, 0);
	assert_int_equal(m.old_row.n, 0);
	tuple_is(&m.new_row, 5, "tntt" "u");
	assert_string_equal(m.new_row.vals[0], "42");
	assert_string_equal(m.new_row.vals[2], "");
	assert_string_equal(m.new_row.vals[3], embedded);
	gw_pgo_msg_release(&m);

	/* a row of no columns */
	b.n = 0;
	put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 0, 2);
	parse_ok(&b, &m);
	assert_int_equal(m.new_row.n, 0);
	gw_pgo_msg_release(&m);
}

static void test_binary_value(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 1, 2);
	put_val(&b, 'b', "\x00\x00\x00\x2a", 4);
	parse_ok(&b, &m);
	tuple_is(&m.new_row, 1, "b");
	assert_memory_equal(m.new_row.vals[0], "\x00\x00\x00\x2a\x00", 5);
	gw_pgo_msg_release(&m);
}

static void test_update(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	/* no old row: the key did not change, replica identity default */
	put(&b, 'U', 1), put(&b, 7, 4), put(&b, 'N', 1), put(&b, 3, 2);
	put_text(&b, "1"), put(&b, 'u', 1), put(&b, 'n', 1);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'U');
	assert_int_equal(m.relid, 7);
	assert_int_equal(m.old_kind, 0);
	assert_int_equal(m.old_row.n, 0);
	assert_null(m.old_row.vals);
	tuple_is(&m.new_row, 3, "tun");
	assert_string_equal(m.new_row.vals[0], "1");
	gw_pgo_msg_release(&m);

	/* the old key: the key changed */
	b.n = 0;
	build_update_key(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.old_kind, 'K');
	tuple_is(&m.old_row, 2, "tn");
	assert_string_equal(m.old_row.vals[0], "1");
	tuple_is(&m.new_row, 2, "tu");
	assert_string_equal(m.new_row.vals[0], "2");
	gw_pgo_msg_release(&m);

	/* the old row: replica identity full */
	b.n = 0;
	put(&b, 'U', 1), put(&b, 7, 4);
	put(&b, 'O', 1), put(&b, 2, 2), put_text(&b, "1"), put_text(&b, "old");
	put(&b, 'N', 1), put(&b, 2, 2), put_text(&b, "1"), put_text(&b, "new");
	parse_ok(&b, &m);
	assert_int_equal(m.old_kind, 'O');
	tuple_is(&m.old_row, 2, "tt");
	assert_string_equal(m.old_row.vals[1], "old");
	tuple_is(&m.new_row, 2, "tt");
	assert_string_equal(m.new_row.vals[1], "new");
	gw_pgo_msg_release(&m);
}

static void test_delete(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	put(&b, 'D', 1), put(&b, 9, 4), put(&b, 'K', 1), put(&b, 2, 2);
	put(&b, 'n', 1), put_text(&b, "k");
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'D');
	assert_int_equal(m.relid, 9);
	assert_int_equal(m.old_kind, 'K');
	tuple_is(&m.old_row, 2, "nt");
	assert_string_equal(m.old_row.vals[1], "k");
	assert_int_equal(m.new_row.n, 0);
	gw_pgo_msg_release(&m);

	b.n = 0;
	build_delete_old(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.old_kind, 'O');
	tuple_is(&m.old_row, 2, "tn");
	gw_pgo_msg_release(&m);
}

static void test_truncate(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_truncate(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'T');
	assert_int_equal(m.nrelids, 2);
	assert_int_equal(m.truncate_flags, 3);
	assert_int_equal(m.relids[0], 16385);
	assert_true(m.relids[1] == 0x80000001u);
	gw_pgo_msg_release(&m);
}

static void test_message(void **state)
{
	struct bb b = {.n = 0};
	struct gw_pgo_msg m;

	(void)state;
	build_message(&b);
	parse_ok(&b, &m);
	assert_int_equal(m.type, 'M');
	assert_true(m.transactional);
	assert_true(m.lsn == 0xABCD);
	assert_int_equal(m.xid, 0);
	assert_string_equal(m.prefix, "godwit");
	assert_int_equal(m.content_len, 3);
	assert_memory_equal(m.content, "x\0y\0", 4);
	gw_pgo_msg_release(&m);

	b.n = 0;
	put(&b, 'M', 1), put(&b, 0, 1), put(&b, 1, 8), put_str(&b, ""), put(&b, 0, 4);
	parse_ok(&b, &m);
	assert_false(m.transactional);
	assert_string_equal(m.prefix, "");
	assert_int_equal(m.content_len, 0);
	assert_string_equal(m.content, "");
	gw_pgo_msg_release(&m);
}

/* ---- malformed ----------------------------------------------------------- */

static void test_malformed(void **state)
{
	struct bb b = {.n = 0};

	(void)state;
	parse_bad(&b, "empty");
	put(&b, 'Z', 1);
	parse_bad(&b, "unknown type 'Z'");
	b.n = 0, put(&b, 0xC3, 1);
	parse_bad(&b, "unknown type 0xc3");
	/* streaming and two-phase messages (protocol 2, 3) are not ours */
	b.n = 0, put(&b, 'S', 1), put(&b, 1, 4), put(&b, 1, 1);
	parse_bad(&b, "unknown type 'S'");

	b.n = 0, build_begin(&b), put(&b, 0, 1);
	parse_bad(&b, "begin message: 1 bytes after the end");

	b.n = 0, put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'K', 1), put(&b, 0, 2);
	parse_bad(&b, "insert message: expected tuple tag 'N', got 0x4b");
	b.n = 0, put(&b, 'U', 1), put(&b, 1, 4), put(&b, 'X', 1), put(&b, 0, 2);
	parse_bad(&b, "update message: expected tuple tag 'N'");
	b.n = 0, put(&b, 'U', 1), put(&b, 1, 4), put(&b, 'K', 1), put(&b, 0, 2);
	put(&b, 'K', 1), put(&b, 0, 2);
	parse_bad(&b, "update message: expected tuple tag 'N'");
	b.n = 0, put(&b, 'D', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 0, 2);
	parse_bad(&b, "delete message: expected tuple tag 'K' or 'O'");

	b.n = 0, put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 2, 2);
	put(&b, 'n', 1), put(&b, 'x', 1);
	parse_bad(&b, "insert message: unknown kind 0x78 of column 2");
	b.n = 0, put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 1, 2);
	put_val(&b, 't', "a\0b", 3);
	parse_bad(&b, "text value of column 1 holds a NUL byte");
	/* a length far beyond the message, and a negative one */
	b.n = 0, put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 1, 2);
	put(&b, 't', 1), put(&b, 0xFFFFFFFFu, 4), put_bytes(&b, "abc", 3);
	parse_bad(&b, "insert message: truncated at byte 13 of 16");
	/* more columns than bytes */
	b.n = 0, put(&b, 'I', 1), put(&b, 1, 4), put(&b, 'N', 1), put(&b, 0xFFFF, 2);
	parse_bad(&b, "truncated");

	b.n = 0, put(&b, 'T', 1), put(&b, 0xFFFFFFFFu, 4), put(&b, 0, 1), put(&b, 1, 4);
	parse_bad(&b, "truncate message: 4294967295 relations do not fit in 4 bytes");
	b.n = 0, put(&b, 'M', 1), put(&b, 0, 1), put(&b, 1, 8), put_str(&b, "p");
	put(&b, 0x7FFFFFFF, 4), put_bytes(&b, "x", 1);
	parse_bad(&b, "message message: truncated");
	b.n = 0, put(&b, 'O', 1), put(&b, 1, 8), put_bytes(&b, "abc", 3);
	parse_bad(&b, "origin message: unterminated string at byte 9 of 12");
	b.n = 0, put(&b, 'R', 1), put(&b, 1, 4), put_str(&b, "s"), put_bytes(&b, "t", 1);
	parse_bad(&b, "relation message: unterminated string");
}

/* Every proper prefix of every valid message fails cleanly, naming the type. */
static void test_truncations(void **state)
{
	static void (*const builders[])(struct bb *) = {
		build_begin,  build_commit,     build_origin,     build_relation,
		build_type,   build_insert,     build_update_key, build_delete_old,
		build_truncate, build_message,
	};
	static const char *const names[] = {
		"begin",  "commit", "origin", "relation", "type",
		"insert", "update", "delete", "truncate", "message",
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(builders); i++) {
		struct bb b = {.n = 0};
		struct gw_pgo_msg m;
		struct gw_error e = GW_ERROR_INIT;
		char want[64];

		builders[i](&b);
		parse_ok(&b, &m);
		gw_pgo_msg_release(&m);
		snprintf(want, sizeof(want), "pgoutput %s message", names[i]);
		for (size_t n = 0; n < b.n; n++) {
			assert_int_equal(parse(&b, n, &m, &e), -1);
			assert_int_equal(e.code, GW_ERR_DB);
			if (n > 0 && !strstr(e.msg, want))
				fail_msg("prefix %zu of %s: '%s'", n, names[i], e.msg);
			assert_int_equal(m.type, 0);
			assert_null(m.nspname);
			assert_null(m.new_row.vals);
			assert_null(m.old_row.vals);
			gw_pgo_msg_release(&m);
		}
	}
}

static void test_release_zeroed(void **state)
{
	struct gw_pgo_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	gw_pgo_msg_release(&m);
	gw_pgo_msg_release(NULL);
}

/* ---- snapshot visibility ---------------------------------------------- */

static void test_snapshot_sees(void **state)
{
	static const struct {
		const char *snap;
		uint32_t xid;
		int sees;
	} cases[] = {
		{"100:105:", 99, 1},               /* before xmin */
		{"100:105:", 104, 1},              /* committed, below xmax, not running */
		{"100:105:", 105, 0},              /* xmax and after: not yet */
		{"100:105:", 200, 0},
		{"100:105:100,103", 100, 0},       /* still running */
		{"100:105:100,103", 103, 0},
		{"100:105:100,103", 101, 1},
		{"100:100:", 100, 0},
		/* full ids with an epoch: their low 32 bits count */
		{"4294967396:4294967401:4294967399", 101, 1},
		{"4294967396:4294967401:4294967399", 103, 0},
		{"4294967396:4294967401:4294967399", 105, 0},
		/* across the wrap of 32-bit ids */
		{"4294967290:4294967300:", 4294967295u, 1},
		{"4294967290:4294967300:", 3, 1},
		{"4294967290:4294967300:", 4, 0},
		{"4294967290:4294967300:4294967298", 2, 0},
	};
	static const char *const bad[] = {
		"", "100", "100:", "100:105", ":105:", "a:105:", "100:b:", "100:105:1,", "100:105:1;2",
		"100:105:x",
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++)
		if (gw_pgo_snapshot_sees(cases[i].snap, cases[i].xid) != cases[i].sees)
			fail_msg("'%s' and %u: expected %d", cases[i].snap, cases[i].xid,
				 cases[i].sees);
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++)
		if (gw_pgo_snapshot_sees(bad[i], 101) != -1)
			fail_msg("'%s' parsed", bad[i]);
}

/* ---- LSN ----------------------------------------------------------------- */

static void test_lsn(void **state)
{
	static const struct {
		uint64_t lsn;
		const char *text;
	} cases[] = {
		{0, "0/0"},
		{1, "0/1"},
		{0x16B374D848ull, "16/B374D848"},
		{0x100000000ull, "1/0"},
		{0xFFFFFFFFull, "0/FFFFFFFF"},
		{UINT64_MAX, "FFFFFFFF/FFFFFFFF"},
	};
	static const char *const bad[] = {
		"",      "/",        "0",         "0/",       "/0",         "1/2/3",
		"G/0",   "0/G",      "0/0 ",      " 0/0",     "0/ 0",       "0x1/0",
		"-1/0",  "+1/0",     "0//0",      "0/-1",     "123456789/0", "0/123456789",
		"0/0\n", "1:2",
	};
	char out[24];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		gw_pgo_lsn_format(cases[i].lsn, out);
		assert_string_equal(out, cases[i].text);
		v = 42;
		assert_int_equal(gw_pgo_lsn_parse(out, &v), 0);
		assert_true(v == cases[i].lsn);
	}
	assert_int_equal(gw_pgo_lsn_parse("16/b374d848", &v), 0);
	assert_true(v == 0x16B374D848ull);
	assert_int_equal(gw_pgo_lsn_parse("00000000/00000001", &v), 0);
	assert_true(v == 1);
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++) {
		v = 42;
		if (gw_pgo_lsn_parse(bad[i], &v) != -1)
			fail_msg("'%s' parsed", bad[i]);
		assert_true(v == 42);
	}
	assert_int_equal(gw_pgo_lsn_parse(NULL, &v), -1);
	/* round trip over spread-out values */
	for (uint64_t x = 1; x != 0; x *= 3) {
		gw_pgo_lsn_format(x, out);
		assert_int_equal(gw_pgo_lsn_parse(out, &v), 0);
		assert_true(v == x);
		if (x > UINT64_MAX / 3)
			break;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_xlogdata),
		cmocka_unit_test(test_frame_keepalive),
		cmocka_unit_test(test_frame_bad),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_begin_commit),
		cmocka_unit_test(test_origin_type),
		cmocka_unit_test(test_relation),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_binary_value),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_release_zeroed),
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_snapshot_sees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
