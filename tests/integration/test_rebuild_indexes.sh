#!/bin/bash
# Deferred secondary indexes of a shadow-table rebuild (rebuild_table): the
# shadow's non-unique indexes are recorded in _gw_<t>_ix and dropped at
# expand, the unique ones and the primary key kept; the copy builds them
# again, definitions as they were (prefixes, DESC, comments with quotes and
# backslashes, odd names; partial, expression, opclass and INCLUDE indexes),
# and drops the record. Rollback of expand leaves nothing; a build resumed
# with one index already there builds the others, each once; the swap and
# cleanup leave the table with its indexes under their own names.
. "$(dirname "$0")/lib.sh"
it_init "$1" rebuild_indexes
ROWS=${GW_REBUILD_ROWS:-3000}
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M

# items: a primary key, a unique index and six others of every kind.
if [ "$ENGINE" = mysql ]; then
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, code VARCHAR(20) NOT NULL,
	   name VARCHAR(100) NOT NULL, k INT NOT NULL, price DECIMAL(10,2) NOT NULL, note VARCHAR(50),
	   UNIQUE KEY items_code (code), KEY items_k (k), KEY items_k_price (k, price),
	   KEY items_name10 (name(10)), KEY items_price_desc (price DESC),
	   KEY items_note (note) COMMENT 'it''s a \\\\ back', KEY \`odd \`\`name\` (k, id));
	   INSERT INTO items SELECT seq, concat('c', seq), concat('Name ', seq), seq % 97,
	   seq * 1.25, IF(seq % 3 = 0, 'it''s', concat('n', seq)) FROM seq_1_to_$ROWS"
else
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, code varchar(20) NOT NULL,
	   name varchar(100) NOT NULL, k int NOT NULL, price numeric(10,2) NOT NULL, note varchar(50));
	   CREATE UNIQUE INDEX items_code ON items (code);
	   CREATE INDEX items_k ON items (k);
	   CREATE INDEX items_k_price ON items (k, price);
	   CREATE INDEX items_partial ON items (k) WHERE note <> 'it''s';
	   CREATE INDEX items_lower ON items (lower(name));
	   CREATE INDEX items_pattern ON items (name varchar_pattern_ops) INCLUDE (price);
	   CREATE INDEX \"odd \"\"name\" ON items (k, id);
	   INSERT INTO items SELECT g, 'c' || g, 'Name ' || g, g % 97, g * 1.25,
	   CASE WHEN g % 3 = 0 THEN 'it''s' ELSE 'n' || g END FROM generate_series(1, $ROWS) g;
	   ANALYZE items"
fi

# rawq SQL: q, with MariaDB's escapes of its batch output (\n, \t, \\) undone.
rawq() {
	if [ "$ENGINE" = mysql ]; then printf '%b\n' "$(q "$1")"; else q "$1"; fi
}

# ixdefs TABLE [named]: TABLE's indexes, one definition a line, sorted, each
# once as many times as it is there. MariaDB: the PRIMARY/UNIQUE/KEY lines of
# SHOW CREATE TABLE. PostgreSQL: pg_get_indexdef without the table's name
# and, unless named, the index's (the shadow's are its own until the swap).
ixdefs() {
	if [ "$ENGINE" = mysql ]; then
		rawq "SHOW CREATE TABLE \`$1\`" | grep -E '^  (PRIMARY |UNIQUE )?KEY ' |
			sed 's/^  //; s/,$//' | LC_ALL=C sort
	else
		q "SELECT replace(pg_get_indexdef(x.indexrelid),
		     ' INDEX ' || quote_ident(i.relname) || ' ON public.' || quote_ident('$1') || ' ',
		     CASE WHEN '${2:-}' = 'named' THEN ' INDEX ' || quote_ident(i.relname) || ' ON '
		     ELSE ' INDEX ON ' END)
		   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		   WHERE x.indrelid = 'public.$1'::regclass" | LC_ALL=C sort
	fi
}
# The non-unique ones (deferred) and the others (kept) out of ixdefs' lines.
if [ "$ENGINE" = mysql ]; then DEFERRED='^KEY '; else DEFERRED='^CREATE INDEX '; fi
deferred() { grep -E "$DEFERRED"; }
kept() { grep -vE "$DEFERRED"; }

# recorded: the definitions in _gw_items_ix, as ixdefs spells them.
recorded() {
	if [ "$ENGINE" = mysql ]; then
		rawq "SELECT def FROM _gw_items_ix" | LC_ALL=C sort
	else
		q "SELECT replace(def, ' INDEX ' || quote_ident(name) || ' ON public._gw_items_new ',
		   ' INDEX ON ') FROM _gw_items_ix" | LC_ALL=C sort
	fi
}

# Tables of godwit in the database (shadow, old copy, index record), but
# for where replication capture keeps its position (_gw_items_rpl).
gw_tables() { tables | grep '^_gw_' | grep -vx _gw_items_rpl | LC_ALL=C sort | tr '\n' ' '; }
# Rows of items as text, for before/after comparisons.
rows() { q "SELECT id, code, name, k, price, note FROM items ORDER BY id"; }

BASE=$(ixdefs items)
BASE_NAMED=$(ixdefs items named)
BASE_NAMES=$(indexes items)
NDEF=$(deferred <<<"$BASE" | wc -l)
expect_eq "deferrable indexes of items" "$NDEF" 6
expect_eq "kept indexes of items" "$(kept <<<"$BASE" | wc -l)" 2

rebuild_migration 0001_ix "" items "ADD COLUMN extra INT NULL" "ADD COLUMN extra int"
gw 0 init

# --- 1. expand: the shadow keeps its primary key and unique index only ---
check_expanded() {
	expect_eq "tables after expand ($1)" "$(gw_tables)" "_gw_items_ix _gw_items_new "
	expect_eq "shadow's indexes after expand ($1)" "$(ixdefs _gw_items_new)" "$(kept <<<"$BASE")"
	expect_eq "recorded indexes after expand ($1)" "$(recorded)" "$(deferred <<<"$BASE")"
	expect_eq "records after expand ($1)" "$(q "SELECT count(*) FROM _gw_items_ix")" "$NDEF"
}
gw 0 up 0001_ix:expand
check_expanded first
expect_eq "items' indexes after expand" "$(ixdefs items named)" "$BASE_NAMED"

# --- 2. rollback of expand leaves nothing of godwit ---
rows >"$T/rows.before"
gw 0 down base
expect_eq "no godwit objects after rollback of expand" "$(leftovers)" ""
expect_eq "items' indexes after rollback of expand" "$(ixdefs items named)" "$BASE_NAMED"
rows >"$T/rows.after"
if cmp -s "$T/rows.before" "$T/rows.after"; then pass; else fail "rows of items changed by expand and its rollback"; fi

# --- 3. expand again, one index built by hand as if before a crash, backfill ---
gw 0 up 0001_ix:expand
check_expanded again
[ "${GW_CAPTURE:-triggers}" = replication ] && [ "$ENGINE" = mysql ] && q "FLUSH BINARY LOGS"
# writes that only the capture carries to the shadow, while its indexes are gone
q "UPDATE items SET name = concat('Renamed ', id), note = 'it''s' WHERE id % 100 = 0;
   DELETE FROM items WHERE id % 250 = 1;
   INSERT INTO items (id, code, name, k, price, note) VALUES
     (90001, 'x1', 'Extra one', 5, 9.99, NULL), (90002, 'x2', 'extra two', 6, 1.5, 'n')"
if [ "$ENGINE" = mysql ]; then
	ONE=items_note
	q "ALTER TABLE _gw_items_new ADD $(rawq "SELECT def FROM _gw_items_ix WHERE name = '$ONE'")"
else
	ONE=$(q "SELECT name FROM _gw_items_ix WHERE def LIKE '%WHERE%'")
	q "$(q "SELECT def FROM _gw_items_ix WHERE name = '$ONE'")"
fi
expect_eq "shadow's indexes with $ONE built by hand" "$(ixdefs _gw_items_new | deferred | wc -l)" 1
gw 0 up 0001_ix:backfill
expect_out "building $NDEF secondary indexes"
expect_out "built the secondary indexes"
expect_eq "tables after backfill" "$(gw_tables)" "_gw_items_new "
expect_eq "shadow's indexes after backfill" "$(ixdefs _gw_items_new)" "$BASE"
if [ "$ENGINE" = postgres ]; then
	expect_eq "invalid indexes on the shadow" \
		"$(q "SELECT count(*) FROM pg_index WHERE indrelid = 'public._gw_items_new'::regclass AND NOT indisvalid")" 0
fi
gw 0 verify 0001_ix

# --- 4. contract: items is the shadow, under the indexes' own names ---
rows >"$T/rows.before"
gw 0 contract 0001_ix
expect_eq "items' indexes after contract" "$(ixdefs items named)" "$BASE_NAMED"
expect_eq "items' index names after contract" "$(indexes items)" "$BASE_NAMES"
expect_eq "items' extra column after contract" "$(columns items | cut -f1 | tail -1)" extra
rows >"$T/rows.after"
if cmp -s "$T/rows.before" "$T/rows.after"; then pass; else fail "rows of items changed by contract"; fi
expect_eq "tables after contract" "$(gw_tables)" "_gw_items_old "
gw 0 verify 0001_ix
gw 0 cleanup 0001_ix
expect_eq "no godwit objects after cleanup" "$(leftovers)" ""
expect_eq "items' indexes after cleanup" "$(ixdefs items named)" "$BASE_NAMED"

# --- 5. the rebuilt table rebuilt again, all phases in one run ---
rebuild_migration 0002_ix 0001_ix items "DROP COLUMN extra" "DROP COLUMN extra"
gw 0 up
expect_out "building $NDEF secondary indexes"
expect_eq "items' indexes after a second rebuild" "$(ixdefs items named)" "$BASE_NAMED"
expect_eq "items' index names after a second rebuild" "$(indexes items)" "$BASE_NAMES"
rows >"$T/rows.again"
if cmp -s "$T/rows.after" "$T/rows.again"; then pass; else fail "rows of items changed by the second rebuild"; fi
gw 0 cleanup 0002_ix
expect_eq "no godwit objects after the second cleanup" "$(leftovers)" ""

# --- 6. MariaDB/MySQL: a key that leads with the AUTO_INCREMENT column stays ---
if [ "$ENGINE" = mysql ]; then
	q "CREATE TABLE seqs (tenant INT NOT NULL, id BIGINT NOT NULL AUTO_INCREMENT, v INT,
	   PRIMARY KEY (tenant, id), KEY seqs_id (id), KEY seqs_v (v));
	   INSERT INTO seqs (tenant, v) SELECT seq % 7, seq FROM seq_1_to_500"
	SEQ_BASE=$(ixdefs seqs)
	rebuild_migration 0003_ix 0002_ix seqs "MODIFY v BIGINT" "MODIFY v INT"
	gw 0 up 0003_ix:expand
	expect_eq "seqs' recorded indexes" "$(rawq "SELECT name FROM _gw_seqs_ix")" seqs_v
	gw 0 up
	expect_eq "seqs' indexes after the rebuild" "$(ixdefs seqs)" "$SEQ_BASE"
	gw 0 cleanup 0003_ix
	expect_eq "no godwit objects after seqs' cleanup" "$(leftovers)" ""
fi
it_done
