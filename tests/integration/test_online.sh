#!/bin/bash
# Online in-place column changes under concurrent writes, on a real server:
# a rename and a retype with writers through the old and the new column
# names during every phase; pause and resume from a second process during a
# backfill; kill -9 of the runner at random points, then resume, compared
# with an uninterrupted run; rollback of each phase leaving nothing behind.
. "$(dirname "$0")/lib.sh"
it_init "$1" online
ROWS=${GW_ONLINE_ROWS:-100000}
WRITER=${GW_WRITER:?GW_WRITER must point at the gw_writer binary}
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M

# make_items TABLE N: the test table, with N rows and two indexes on v.
make_items() {
	if [ "$ENGINE" = mysql ]; then
		q "CREATE TABLE $1 (id BIGINT PRIMARY KEY, v DOUBLE NOT NULL DEFAULT 0, price DOUBLE,
		   note VARCHAR(40), KEY ${1}_v (v), KEY ${1}_nv (note, v));
		   INSERT INTO $1 SELECT seq, seq * 1.5, seq * 0.25, concat('n', seq % 100)
		   FROM seq_1_to_$2"
	else
		q "CREATE TABLE $1 (id BIGINT PRIMARY KEY, v DOUBLE PRECISION NOT NULL DEFAULT 0,
		   price DOUBLE PRECISION, note VARCHAR(40));
		   CREATE INDEX ${1}_v ON $1 (v); CREATE INDEX ${1}_nv ON $1 (note, v);
		   INSERT INTO $1 SELECT g, g * 1.5, g * 0.25, 'n' || (g % 100)
		   FROM generate_series(1, $2) g; ANALYZE $1"
	fi
}

# migrations TABLE CHUNK_MS: 0001 renames v to amount, 0002 retypes price.
migrations() {
	cat >"$M/0001_rename.json" <<EOF
{"id": "0001_rename", "parents": [], "message": "rename v to amount",
 "operations": [{"rename_column": {"table": "$1", "from": "v", "to": "amount"}}],
 "options": {"chunk_time_ms": $2}}
EOF
	cat >"$M/0002_retype.json" <<EOF
{"id": "0002_retype", "parents": ["0001_rename"], "message": "retype price",
 "operations": [{"alter_column": {"table": "$1", "column": "price", "type": "DECIMAL(12,2)",
   "up": "CAST(price AS DECIMAL(12,2))", "down": "price"}}],
 "options": {"chunk_time_ms": $2}}
EOF
}

# Schema of a table in a position-independent form: columns sorted by name
# with type, nullability and default; index names with their columns.
shape() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT column_name, column_type, is_nullable, column_default
		   FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '$1'
		   ORDER BY column_name"
		q "SELECT index_name, group_concat(column_name ORDER BY seq_in_index), non_unique
		   FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '$1'
		   GROUP BY index_name, non_unique ORDER BY index_name"
	else
		q "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
		   WHERE table_schema = 'public' AND table_name = '$1' ORDER BY column_name"
		q "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '$1' ORDER BY indexname"
	fi
}

# rows_of TABLE FILE: every row, sorted, into FILE; same_rows WHAT A B compares two such files.
rows_of() { q "SELECT * FROM $1 ORDER BY id" >"$2"; }
same_rows() {
	if cmp -s "$2" "$3"; then pass; else fail "$1: $(diff "$2" "$3" | sed -n "1,3p;/^---/,+2p")"; fi
}

if [ "$ENGINE" = mysql ]; then NE='NOT (a <=> b)'; else NE='a IS DISTINCT FROM b'; fi
# mismatch_count TABLE A B: rows where column expressions A and B differ.
mismatch_count() {
	local cond=${NE/a/$2}
	cond=${cond/b/$3}
	q "SELECT count(*) FROM $1 WHERE $cond"
}

# writer NAME COLUMN PARTITION: start a writer in the background until $T/stop.NAME exists.
writer() {
	rm -f "$T/stop.$1"
	"$WRITER" run --url "$DATABASE_URL" --table items --column "$2" --partition "$3" \
		--rows "$ROWS" --state "$T/state.$1" --stop-file "$T/stop.$1" --seconds 3600 \
		--rate 300 >"$T/out.$1" 2>&1 &
	eval "PID_$1=$!"
}
stop_writer() {
	local pid
	touch "$T/stop.$1"
	eval "pid=\$PID_$1"
	if wait "$pid"; then pass; else fail "writer $1 failed: $(cat "$T/out.$1")"; fi
}
verify() {
	if OUTV=$("$WRITER" verify --url "$DATABASE_URL" --table items --column "$2" \
		--state "$T/state.$1" 2>&1); then
		pass
	else
		fail "writer $1 verify on $2: $OUTV"
	fi
}

# --- 1. rename and retype under writers of both application versions ---
make_items items "$ROWS"
migrations items 100
gw 0 init

writer old_v v 0/4             # the old application writes v ...
writer old_price price 1/4     # ... and price, through every phase
sleep 1
gw 0 expand 0001_rename
writer new_amount amount 2/4   # the new application writes amount
gw 0 backfill 0001_rename
expect_eq "amount = v after the rename's backfill" "$(mismatch_count items amount v)" 0
stop_writer old_v              # the old application is gone before contract
gw 0 contract 0001_rename
stop_writer new_amount
verify old_v amount
verify new_amount amount

gw 0 expand 0002_retype
writer new_price _gw_new_price 3/4
gw 0 backfill 0002_retype
expect_eq "new price = up(price) after backfill" \
	"$(mismatch_count items _gw_new_price 'CAST(price AS DECIMAL(12,2))')" 0
stop_writer new_price
gw 0 contract 0002_retype
stop_writer old_price
verify old_price price
verify new_price price
expect_eq "no godwit objects left" "$(leftovers)" ""
expect_eq "columns after" "$(columns items | cut -f1,3 | sort | tr "\t\n" "  ")" \
	"amount NO id NO note YES price YES "

# --- 2. pause from a second process during a backfill, then resume ---
cat >"$M/0003_fill.json" <<EOF
{"id": "0003_fill", "parents": ["0002_retype"], "message": "data migration",
 "operations": [{"update_rows": {"table": "items", "set": {"note": "'filled'"}}}],
 "options": {"chunk_time_ms": 5}}
EOF
gw 0 expand 0003_fill
"$GODWIT" backfill 0003_fill >"$T/fill.log" 2>&1 &
FILL=$!
for _ in $(seq 100); do
	n=$(q "SELECT rows_done FROM $( [ "$ENGINE" = mysql ] && echo godwit_phases || echo godwit.phases)
	       WHERE migration_id = '0003_fill' AND phase = 'backfill'")
	[ "${n:-0}" -gt 0 ] && break
	sleep 0.1
done
gw 0 pause 0003_fill
sleep 2
P=$( [ "$ENGINE" = mysql ] && echo godwit_phases || echo godwit.phases)
state=$(q "SELECT state FROM $P WHERE migration_id = '0003_fill' AND phase = 'backfill'")
expect_eq "paused state" "$state" paused
n1=$(q "SELECT rows_done FROM $P WHERE migration_id = '0003_fill' AND phase = 'backfill'")
sleep 1.5
n2=$(q "SELECT rows_done FROM $P WHERE migration_id = '0003_fill' AND phase = 'backfill'")
expect_eq "no progress while paused" "$n2" "$n1"
gw 0 status
expect_out "[control: paused]"
gw 0 resume 0003_fill
if wait $FILL; then pass; else fail "backfill after resume: $(cat "$T/fill.log")"; fi
expect_eq "every row filled" "$(q "SELECT count(*) FROM items WHERE note <> 'filled' OR note IS NULL")" 0
# pause --stop: the runner records paused and exits 4; a restart stays paused until resumed
gw 0 pause 0003_fill:contract --stop
gw 4 contract 0003_fill
expect_out "stopped by operator"
gw 0 resume 0003_fill:contract
gw 0 contract 0003_fill

# --- 3. kill -9 at random points, then resume; compare with an uninterrupted run ---
gw 0 stamp base
q "DROP TABLE items"
rm -f "$M"/*.json
make_items items 60000
migrations items 2
gw 0 up
rows_of items "$T/ref.rows"
REF_SHAPE=$(shape items)
gw 0 down base
expect_eq "down restores rows" "$(q "SELECT count(*) FROM items")" 60000
RANDOM=${GW_SEED:-$$}
for i in $(seq 10); do
	"$GODWIT" up >"$T/kill.$i.log" 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	echo "kill $i: $(tail -1 "$T/kill.$i.log" | cut -c1-100)"
done
# The server may take a moment to notice the last killed session and free its lock.
for _ in $(seq 50); do
	"$GODWIT" current >/dev/null 2>&1
	"$GODWIT" up >"$T/final.log" 2>&1 && break
	[ $? = 3 ] || break
	sleep 0.2
done
gw 0 up
rows_of items "$T/killed.rows"
same_rows "rows after kills and resume" "$T/ref.rows" "$T/killed.rows"
expect_eq "shape after kills and resume" "$(shape items)" "$REF_SHAPE"
expect_eq "no godwit objects after kills" "$(leftovers)" ""

# --- 4. rollback of each phase leaves the table as it was ---
gw 0 down base
rows_of items "$T/base.rows"
BASE_SHAPE=$(shape items)
for phase in expand backfill contract; do
	gw 0 up "0002_retype:$phase"
	gw 0 down base
	rows_of items "$T/back.rows"
	same_rows "rows after rollback from $phase" "$T/base.rows" "$T/back.rows"
	expect_eq "shape after rollback from $phase" "$(shape items)" "$BASE_SHAPE"
	expect_eq "no godwit objects after rollback from $phase" "$(leftovers)" ""
done
it_done
