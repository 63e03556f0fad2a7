/*
 * The logical replication wire format: CopyBoth frames and the pgoutput
 * plugin's messages (protocol version 1), parsed from bytes.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput_int.h"

#define STATUS_LEN 34  /* 'r', write, flush, apply, clock, reply */

/*
 * A cursor over one message. The first failure sticks: later reads return
 * zeros and NULLs, so a parser reads on and checks once at the end.
 */
struct rd {
	const unsigned char *p;
	size_t len, pos;
	char why[128];  /* the first failure, "" while none */
};

static void fail(struct rd *r, const char *fmt, ...) GW_PRINTF(2, 3);

static void fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	if (r->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* The next n bytes, or NULL (and the cursor failed) when fewer are left. */
static const unsigned char *take(struct rd *r, size_t n)
{
	const unsigned char *b;

	if (r->why[0])
		return NULL;
	if (n > r->len - r->pos) {
		fail(r, "truncated at byte %zu of %zu", r->pos, r->len);
		return NULL;
	}
	b = r->p + r->pos;
	r->pos += n;
	return b;
}

/* A big-endian unsigned integer of n bytes. */
static uint64_t be(struct rd *r, size_t n)
{
	const unsigned char *b = take(r, n);
	uint64_t v = 0;

	for (size_t i = 0; b && i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static uint8_t u8(struct rd *r)
{
	return (uint8_t)be(r, 1);
}

static uint16_t u16(struct rd *r)
{
	return (uint16_t)be(r, 2);
}

static uint32_t u32(struct rd *r)
{
	return (uint32_t)be(r, 4);
}

static uint64_t u64(struct rd *r)
{
	return be(r, 8);
}

/* A new copy of the NUL-terminated String at the cursor, or NULL. */
static char *str(struct rd *r)
{
	const unsigned char *nul;
	size_t n;

	if (r->why[0])
		return NULL;
	nul = memchr(r->p + r->pos, '\0', r->len - r->pos);
	if (!nul) {
		fail(r, "unterminated string at byte %zu of %zu", r->pos, r->len);
		return NULL;
	}
	n = (size_t)(nul - (r->p + r->pos));
	return gw_strndup((const char *)take(r, n + 1), n);
}

/* A new NUL-terminated copy of an Int32 length and that many bytes, or NULL. */
static char *counted(struct rd *r, size_t *len)
{
	size_t n = u32(r);
	const unsigned char *b = take(r, n);

	if (!b)
		return NULL;
	*len = n;
	return gw_strndup((const char *)b, n);
}

static void tuple(struct rd *r, struct gw_pgo_tuple *t)
{
	size_t n = u16(r), vlen = 0;

	if (r->why[0])
		return;
	t->kinds = gw_calloc(n, 1);
	t->vals = gw_calloc(n, sizeof(*t->vals));
	t->n = n;
	for (size_t i = 0; i < n && !r->why[0]; i++) {
		char kind = (char)u8(r);

		switch (kind) {
		case 'n':
		case 'u':
			break;
		case 't':
		case 'b':
			t->vals[i] = counted(r, &vlen);
			if (kind == 't' && t->vals[i] && strlen(t->vals[i]) != vlen)
				fail(r, "text value of column %zu holds a NUL byte", i + 1);
			break;
		default:  /* a failed read gives 0, and the first failure stays */
			fail(r, "unknown kind 0x%02x of column %zu", (unsigned char)kind, i + 1);
			break;
		}
		t->kinds[i] = kind;
	}
}

static void relation(struct rd *r, struct gw_pgo_msg *m)
{
	size_t n;

	m->relid = u32(r);
	m->nspname = str(r);
	m->relname = str(r);
	m->replident = (char)u8(r);
	n = u16(r);
	if (r->why[0])
		return;
	m->colnames = gw_calloc(n, sizeof(*m->colnames));
	m->coltypes = gw_calloc(n, sizeof(*m->coltypes));
	m->typmods = gw_calloc(n, sizeof(*m->typmods));
	m->key = gw_calloc(n, sizeof(*m->key));
	m->ncols = n;
	for (size_t i = 0; i < n && !r->why[0]; i++) {
		m->key[i] = (u8(r) & 1) != 0;
		m->colnames[i] = str(r);
		m->coltypes[i] = u32(r);
		m->typmods[i] = (int32_t)u32(r);
	}
}

/* Insert, update or delete: the relation, then the tagged tuples. */
static void change(struct rd *r, struct gw_pgo_msg *m)
{
	char tag;

	m->relid = u32(r);
	tag = (char)u8(r);
	if (m->type != 'I' && (tag == 'K' || tag == 'O')) {
		m->old_kind = tag;
		tuple(r, &m->old_row);
		if (m->type == 'D')
			return;
		tag = (char)u8(r);
	}
	if (m->type == 'D')
		fail(r, "expected tuple tag 'K' or 'O', got 0x%02x", (unsigned char)tag);
	else if (tag != 'N')
		fail(r, "expected tuple tag 'N', got 0x%02x", (unsigned char)tag);
	else
		tuple(r, &m->new_row);
}

static void truncate_msg(struct rd *r, struct gw_pgo_msg *m)
{
	size_t n = u32(r);

	m->truncate_flags = u8(r);
	if (r->why[0])
		return;
	if (n > (r->len - r->pos) / 4) {
		fail(r, "%zu relations do not fit in %zu bytes", n, r->len - r->pos);
		return;
	}
	m->relids = gw_calloc(n, sizeof(*m->relids));
	m->nrelids = n;
	for (size_t i = 0; i < n; i++)
		m->relids[i] = u32(r);
}

static const struct {
	char type;
	const char *name;
} msg_names[] = {
	{'B', "begin"}, {'C', "commit"}, {'O', "origin"}, {'R', "relation"}, {'Y', "type"},
	{'I', "insert"}, {'U', "update"}, {'D', "delete"}, {'T', "truncate"}, {'M', "message"},
};

int gw_pgo_parse(const unsigned char *p, size_t len, struct gw_pgo_msg *m,
		 struct gw_error *err)
{
	struct rd r = {p, len, 0, ""};
	const char *name = NULL;

	memset(m, 0, sizeof(*m));
	if (len == 0) {
		gw_error_set(err, GW_ERR_DB, "could not parse pgoutput message: empty");
		return -1;
	}
	m->type = (char)u8(&r);
	for (size_t i = 0; i < GW_ARRAY_SIZE(msg_names); i++)
		if (msg_names[i].type == m->type)
			name = msg_names[i].name;
	switch (m->type) {
	case 'B':
		m->lsn = u64(&r);
		m->time = (int64_t)u64(&r);
		m->xid = u32(&r);
		break;
	case 'C':
		(void)u8(&r);  /* flags, unused */
		m->lsn = u64(&r);
		m->end_lsn = u64(&r);
		m->time = (int64_t)u64(&r);
		break;
	case 'O':
		m->lsn = u64(&r);
		m->origin = str(&r);
		break;
	case 'R':
		relation(&r, m);
		break;
	case 'Y':
		m->relid = u32(&r);
		m->nspname = str(&r);
		m->relname = str(&r);
		break;
	case 'I':
	case 'U':
	case 'D':
		change(&r, m);
		break;
	case 'T':
		truncate_msg(&r, m);
		break;
	case 'M':
		m->transactional = (u8(&r) & 1) != 0;
		m->lsn = u64(&r);
		m->prefix = str(&r);
		m->content = counted(&r, &m->content_len);
		break;
	default:
		if (isprint((unsigned char)m->type))
			fail(&r, "unknown type '%c'", m->type);
		else
			fail(&r, "unknown type 0x%02x", (unsigned char)m->type);
		break;
	}
	if (!r.why[0] && r.pos != len)
		fail(&r, "%zu bytes after the end", len - r.pos);
	if (r.why[0]) {
		if (name)
			gw_error_set(err, GW_ERR_DB, "could not parse pgoutput %s message: %s", name,
				     r.why);
		else
			gw_error_set(err, GW_ERR_DB, "could not parse pgoutput message: %s", r.why);
		gw_pgo_msg_release(m);
		return -1;
	}
	return 0;
}

static void tuple_release(struct gw_pgo_tuple *t)
{
	for (size_t i = 0; t->vals && i < t->n; i++)
		free(t->vals[i]);
	free(t->vals);
	free(t->kinds);
}

void gw_pgo_msg_release(struct gw_pgo_msg *m)
{
	if (!m)
		return;
	free(m->nspname);
	free(m->relname);
	for (size_t i = 0; m->colnames && i < m->ncols; i++)
		free(m->colnames[i]);
	free(m->colnames);
	free(m->coltypes);
	free(m->typmods);
	free(m->key);
	tuple_release(&m->old_row);
	tuple_release(&m->new_row);
	free(m->relids);
	free(m->prefix);
	free(m->content);
	free(m->origin);
	memset(m, 0, sizeof(*m));
}

int gw_pgo_frame_parse(const unsigned char *p, size_t len, struct gw_pgo_frame *f,
		       struct gw_error *err)
{
	struct rd r = {p, len, 0, ""};
	const char *what = "";

	memset(f, 0, sizeof(*f));
	if (len == 0) {
		gw_error_set(err, GW_ERR_DB, "could not parse replication frame: empty");
		return -1;
	}
	f->type = (char)u8(&r);
	switch (f->type) {
	case 'w':
		what = " 'w' (XLogData)";
		f->wal_start = u64(&r);
		f->wal_end = u64(&r);
		f->send_time = (int64_t)u64(&r);
		if (r.why[0])
			break;
		f->data = p + r.pos;
		f->len = len - r.pos;
		r.pos = len;
		break;
	case 'k':
		what = " 'k' (keepalive)";
		f->wal_end = u64(&r);
		f->send_time = (int64_t)u64(&r);
		f->reply_requested = u8(&r) != 0;
		break;
	default:
		if (isprint((unsigned char)f->type))
			fail(&r, "unknown type '%c'", f->type);
		else
			fail(&r, "unknown type 0x%02x", (unsigned char)f->type);
		break;
	}
	if (!r.why[0] && r.pos != len)
		fail(&r, "%zu bytes after the end", len - r.pos);
	if (r.why[0]) {
		gw_error_set(err, GW_ERR_DB, "could not parse replication frame%s: %s", what, r.why);
		memset(f, 0, sizeof(*f));
		return -1;
	}
	return 0;
}

static unsigned char *put_be(unsigned char *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	return out + n;
}

size_t gw_pgo_status(unsigned char out[34], uint64_t write, uint64_t flush, uint64_t apply,
		     int64_t now_us, bool reply)
{
	unsigned char *o = out;

	*o++ = 'r';
	o = put_be(o, write, 8);
	o = put_be(o, flush, 8);
	o = put_be(o, apply, 8);
	o = put_be(o, (uint64_t)now_us, 8);
	*o++ = reply ? 1 : 0;
	gw_assert(o - out == STATUS_LEN);
	return STATUS_LEN;
}

void gw_pgo_lsn_format(uint64_t lsn, char out[24])
{
	snprintf(out, 24, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

/* One half of an LSN: 1 to 8 hex digits, as PostgreSQL's pg_lsn input. */
static const char *lsn_half(const char *s, uint32_t *v)
{
	size_t n = 0;

	*v = 0;
	for (; isxdigit((unsigned char)s[n]); n++) {
		if (n == 8)
			return NULL;
		*v = *v << 4 | (uint32_t)(isdigit((unsigned char)s[n])
						 ? s[n] - '0'
						 : tolower((unsigned char)s[n]) - 'a' + 10);
	}
	return n ? s + n : NULL;
}

int gw_pgo_lsn_parse(const char *s, uint64_t *lsn)
{
	uint32_t hi, lo;

	if (!s || !(s = lsn_half(s, &hi)) || *s++ != '/' || !(s = lsn_half(s, &lo)) || *s)
		return -1;
	*lsn = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A full transaction id's low 32 bits; *p moves past it. */
static bool xid_part(const char **p, uint32_t *xid)
{
	char *end;
	unsigned long long v;

	if (**p < '0' || **p > '9')
		return false;
	v = strtoull(*p, &end, 10);
	*xid = (uint32_t)v;
	*p = end;
	return true;
}

int gw_pgo_snapshot_sees(const char *snap, uint32_t xid)
{
	const char *p = snap;
	uint32_t xmin, xmax, x;
	bool running = false;

	if (!xid_part(&p, &xmin) || *p++ != ':' || !xid_part(&p, &xmax) || *p++ != ':')
		return -1;
	while (*p) {
		if (!xid_part(&p, &x) || (*p && (*p++ != ',' || !*p)))
			return -1;
		running |= x == xid;
	}
	/* Ids compare modulo 2^32, as the server does: recent ones are close. */
	if ((int32_t)(xid - xmin) < 0)
		return 1;
	return (int32_t)(xid - xmax) < 0 && !running;
}
