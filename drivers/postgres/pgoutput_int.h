/*
 * Private to the postgres driver: the logical replication stream's wire
 * format. CopyBoth frames (XLogData, primary keepalive, standby status
 * update) and the pgoutput plugin's messages (protocol version 1), parsed
 * from bytes: pure functions, used by the stream (logical.c).
 */
#ifndef GODWIT_PGOUTPUT_INT_H
#define GODWIT_PGOUTPUT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "godwit/common.h"

/* A frame of the CopyBoth stream from the server. */
struct gw_pgo_frame {
	char type;                  /* 'w' XLogData, 'k' keepalive */
	uint64_t wal_start;         /* 'w' */
	uint64_t wal_end;           /* 'w', 'k': the server's end of WAL */
	int64_t send_time;          /* microseconds since 2000-01-01 */
	bool reply_requested;       /* 'k' */
	const unsigned char *data;  /* 'w': the pgoutput message (borrowed from the input) */
	size_t len;
};

/* Parse a frame; -1 with err (GW_ERR_DB) when malformed or of another type. */
GW_MUSTCHECK int gw_pgo_frame_parse(const unsigned char *p, size_t len,
				    struct gw_pgo_frame *f, struct gw_error *err);

/* Standby status update 'r' into out (34 bytes); returns its length. */
size_t gw_pgo_status(unsigned char out[34], uint64_t write, uint64_t flush, uint64_t apply,
		     int64_t now_us, bool reply);

/*
 * The values of a row: per column 'n' null, 'u' unchanged TOAST (not sent),
 * 't' text. A 'K' old row carries the key columns and 'n' for the others.
 * 'b' (binary) is parsed like 't' and keeps its kind, but godwit never asks
 * for binary (START_REPLICATION option binary), so the server never sends it.
 */
struct gw_pgo_tuple {
	size_t n;
	char *kinds;         /* n */
	char **vals;         /* n: 't', 'b': the bytes, NUL-terminated (owned); else NULL.
				A 't' value never holds a NUL byte (rejected as malformed) */
};

/* A pgoutput message; strings and arrays owned, released by gw_pgo_msg_release. */
struct gw_pgo_msg {
	char type;           /* 'B' begin, 'C' commit, 'R' relation, 'I' insert, 'U' update,
				'D' delete, 'T' truncate, 'M' message, 'O' origin, 'Y' type */
	uint64_t lsn;        /* B: final LSN; C: commit LSN (the same); M: the end of the
				message's WAL record; O: the commit LSN on the origin */
	uint64_t end_lsn;    /* C: end LSN of the transaction */
	int64_t time;        /* B, C: commit time, microseconds since 2000-01-01 */
	uint32_t xid;        /* B (protocol version 1 sends no xid in any other message) */
	uint32_t relid;      /* R, I, U, D; Y: the type's OID */
	/* R; Y: the type's schema ("" for pg_catalog) and name */
	char *nspname, *relname;
	char replident;      /* 'd' default, 'n' nothing, 'f' full, 'i' index */
	size_t ncols;        /* the columns tuples carry, in order (never generated ones) */
	char **colnames;
	uint32_t *coltypes;  /* type OIDs */
	int32_t *typmods;
	bool *key;           /* part of the replica identity */
	/* U, D: the old row, when sent: 'K' key columns only, 'O' every column; else 0 */
	char old_kind;
	struct gw_pgo_tuple old_row;
	/* I, U: the new row */
	struct gw_pgo_tuple new_row;
	/* T */
	size_t nrelids;
	uint32_t *relids;
	uint8_t truncate_flags;  /* 1 CASCADE, 2 RESTART IDENTITY */
	/* M */
	bool transactional;
	char *prefix;
	char *content;       /* NUL-terminated copy */
	size_t content_len;
	/* O */
	char *origin;        /* the origin's name */
};

/*
 * Parse one pgoutput message into m (zeroed first). -1 with err (GW_ERR_DB,
 * naming the message type) when truncated, malformed (an unexpected tuple
 * tag or column kind, bytes after the message) or of an unknown type; m
 * then holds nothing. Release m after success; release accepts a zeroed m.
 */
GW_MUSTCHECK int gw_pgo_parse(const unsigned char *p, size_t len, struct gw_pgo_msg *m,
			      struct gw_error *err);
void gw_pgo_msg_release(struct gw_pgo_msg *m);

/* "16/B374D848" <-> LSN; parse: -1 when malformed. */
void gw_pgo_lsn_format(uint64_t lsn, char out[24]);
GW_MUSTCHECK int gw_pgo_lsn_parse(const char *s, uint64_t *lsn);
/*
 * Whether transaction xid, known to have committed, is visible to snapshot
 * snap (the text of pg_current_snapshot(): "xmin:xmax:xip,..."; full
 * transaction ids, of which xid is the low 32 bits): 1 yes, 0 not yet (it
 * is still listed as running), -1 snap is malformed.
 */
GW_MUSTCHECK int gw_pgo_snapshot_sees(const char *snap, uint32_t xid);

#endif
