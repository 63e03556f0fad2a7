#!/bin/bash
# A crash after every statement: godwit dies (SIGKILL, through
# GODWIT_CRASH_AFTER=N) right after the server has run its Nth statement
# and before godwit has recorded it, for each N of an in-place rename, an
# in-place retype and a shadow rebuild, going up and coming back down. The
# next run must finish the job, and the result must be the one an
# uninterrupted run gives, with nothing of godwit left behind.
. "$(dirname "$0")/lib.sh"
it_init "$1" crashpoints
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M

if [ "$ENGINE" = mysql ]; then
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, v DOUBLE NOT NULL DEFAULT 0, price DOUBLE,
	   note VARCHAR(40), KEY items_v (v), KEY items_nv (note, v));
	   INSERT INTO items SELECT seq, seq * 1.5, seq * 0.25, concat('n', seq % 100)
	   FROM seq_1_to_2000"
else
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, v DOUBLE PRECISION NOT NULL DEFAULT 0,
	   price DOUBLE PRECISION, note VARCHAR(40));
	   CREATE INDEX items_v ON items (v); CREATE INDEX items_nv ON items (note, v);
	   INSERT INTO items SELECT g, g * 1.5, g * 0.25, 'n' || (g % 100)
	   FROM generate_series(1, 2000) g"
fi
cat >"$M/0001_rename.json" <<'EOF'
{"id": "0001_rename", "parents": [], "message": "rename v to amount",
 "operations": [{"rename_column": {"table": "items", "from": "v", "to": "amount"}}],
 "options": {"chunk_time_ms": 20}}
EOF
cat >"$M/0002_retype.json" <<'EOF'
{"id": "0002_retype", "parents": ["0001_rename"], "message": "retype price",
 "operations": [{"alter_column": {"table": "items", "column": "price", "type": "DECIMAL(12,2)",
   "up": "CAST(price AS DECIMAL(12,2))", "down": "price"}}],
 "options": {"chunk_time_ms": 20}}
EOF
rebuild_migration 0003_rebuild 0002_retype items "MODIFY note VARCHAR(80)" \
	"ALTER COLUMN note TYPE VARCHAR(80)"
gw 0 init

# state: the table's schema and rows, which every crash sequence must reach
# (PostgreSQL cannot put a column back in its place: order by name)
state() {
	local cols
	columns items | sort
	indexes items
	cols=$(columns items | cut -f1 | sort | paste -sd,)
	q "SELECT $cols FROM items ORDER BY id" | md5sum
}

# crash_through WHAT CMD...: for N = 1, 2, ... run CMD crashing after its
# Nth statement, then CMD again to finish, until a run goes through without
# crashing; each time the outcome must equal the uninterrupted one, taken
# before from $T/want. Between attempts, UNDO (a command) goes back.
crash_through() {
	local what=$1 n=1 rc
	shift
	while :; do
		GODWIT_CRASH_AFTER=$n "$GODWIT" "$@" >"$T/crash.log" 2>&1
		rc=$?
		[ "$rc" = 0 ] && break
		if [ "$rc" != 137 ]; then
			fail "$what: crash run $n exited $rc: $(tail -5 "$T/crash.log")"
			return
		fi
		gw 0 "$@"
		[ "$IT_FAIL" = 0 ] || { echo "(after a crash after statement $n)" >&2; return; }
		expect_eq "$what, crash after statement $n" "$(state)" "$(cat "$T/want")"
		expect_eq "$what, crash after statement $n: leftovers" "$(leftovers)" "$LEFT"
		$UNDO
		n=$((n + 1))
	done
	echo "$what: $((n - 1)) crash points" >&2
	[ "$n" -gt 1 ] && pass || fail "$what: no crash point: is GODWIT_CRASH_AFTER read?"
}

state >"$T/base"
revs="0001_rename 0002_retype 0003_rebuild"
if [ "${GW_CAPTURE:-triggers}" != triggers ]; then   # only the rebuild captures
	gw 0 up 0002_retype
	revs=0003_rebuild
fi
for rev in $revs; do
	before=$(state)
	gw 0 up "$rev"
	state >"$T/want"
	left_up=$(leftovers)   # a rebuild keeps the old table for a revert
	gw 0 down -1
	expect_eq "$rev: clean down" "$(state)" "$before"
	LEFT=$left_up
	UNDO="gw 0 down -1"
	crash_through "$rev up" up "$rev"
	[ "$IT_FAIL" = 0 ] || break
	gw 0 up "$rev"
	# and back down, from the state after up
	printf '%s\n' "$before" >"$T/want"
	LEFT=
	UNDO="gw 0 up $rev"
	crash_through "$rev down" down -1
	[ "$IT_FAIL" = 0 ] || break
	gw 0 up "$rev"
done
gw 0 down base
expect_eq "back to the start" "$(state)" "$(cat "$T/base")"
expect_eq "nothing of godwit left" "$(leftovers)" ""

it_done
