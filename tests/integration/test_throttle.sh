#!/bin/bash
# Throttling of a running backfill on a real server: lag of a real replica
# (a MariaDB replica whose SQL thread stops, a PostgreSQL standby whose
# replay pauses) stops the copy within 2 s of passing the threshold and it
# goes on when the replica catches up; an operator pause likewise; an
# unreachable replica makes it wait (fail closed); a flag file, a load
# query and live limits; schedule windows under an injected clock, with
# --until-window-ends exiting 4 when the window closes.
. "$(dirname "$0")/lib.sh"
it_init "$1" throttle
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M
if [ "$ENGINE" = mysql ]; then
	REPLICA=${GW_TEST_MYSQL_REPLICA_DSN:-}
	PHASES=godwit_phases
else
	REPLICA=${GW_TEST_PG_STANDBY_DSN:-}
	PHASES=godwit.phases
fi

# make_table NAME ROWS
make_table() {
	if [ "$ENGINE" = mysql ]; then
		q "CREATE TABLE $1 (id BIGINT PRIMARY KEY, price DOUBLE);
		   INSERT INTO $1 SELECT seq, seq * 0.25 FROM seq_1_to_$2"
	else
		q "CREATE TABLE $1 (id BIGINT PRIMARY KEY, price DOUBLE PRECISION);
		   INSERT INTO $1 SELECT g, g * 0.25 FROM generate_series(1, $2) g; ANALYZE $1"
	fi
}

# retype ID PARENT TABLE OPTIONS: a migration retyping TABLE.price in place.
retype() {
	local parents=
	[ -n "$2" ] && parents="\"$2\""
	cat >"$M/$1.json" <<EOF
{"id": "$1", "parents": [$parents], "message": "retype $3",
 "operations": [{"alter_column": {"table": "$3", "column": "price", "type": "DECIMAL(12,2)",
   "up": "CAST(price AS DECIMAL(12,2))", "down": "price"}}],
 "options": {"chunk_time_ms": 50, $4}}
EOF
}

rows_done() { q "SELECT rows_done FROM $PHASES WHERE migration_id = '$1' AND phase = 'backfill'"; }
now() { date +%s.%N; }

# wait_rows ID N SECONDS: until rows_done of ID's backfill exceeds N; fails after SECONDS.
wait_rows() {
	local end
	end=$(echo "$(now) + $3" | bc)
	while [ "$(rows_done "$1")" -le "$2" ]; do
		if (($(echo "$(now) > $end" | bc))); then
			fail "$1: rows_done stayed at $(rows_done "$1") (waited for > $2 for $3 s)"
			return 1
		fi
		sleep 0.1
	done
	pass
}

# stall_time ID: watch rows_done until it has not moved for 2 s; print the
# time of its last move (epoch seconds).
stall_time() {
	local last last_t v t
	last=$(rows_done "$1")
	last_t=$(now)
	while :; do
		sleep 0.05
		v=$(rows_done "$1")
		t=$(now)
		if [ "$v" != "$last" ]; then
			last=$v
			last_t=$t
		elif (($(echo "$t - $last_t > 2" | bc))); then
			break
		fi
	done
	echo "$last_t"
}

# stopped_within WHAT FROM LIMIT ID: the copy of ID stopped at most LIMIT
# seconds after FROM (epoch seconds); says how long it took.
stopped_within() {
	local stop d
	stop=$(stall_time "$4")
	d=$(echo "$stop - $2" | bc)
	echo "measured: $ENGINE: $1: copy stopped $d s after it" >&2
	if (($(echo "$d <= $3" | bc))); then pass; else fail "$1: copy stopped $d s after it (limit $3 s)"; fi
}

# status_shows TEXT [--json]: godwit status (or --json) shows TEXT within 10 s.
status_shows() {
	local i
	for i in $(seq 100); do
		OUT=$("$GODWIT" status ${2:-} 2>&1)
		[[ $OUT == *"$1"* ]] && break
		sleep 0.1
	done
	expect_out "$1"
}

backfill_bg() {
	"$GODWIT" backfill "$@" >"$T/backfill.log" 2>&1 &
	BF=$!
}

gw 0 init

# --- 1. a real replica: pause, lag, live limits ---
if [ -n "$REPLICA" ]; then
	make_table items 30000
	# no credentials and no database in the URL: both come from the primary's
	replica_url=$(echo "$REPLICA" | sed -E 's#://[^@]*@#://#; s#/[^/]*$#/#')
	retype 0001_lag "" items "\"max_rate_rows\": 3000, \"max_lag_ms\": 1000,
	   \"replicas\": [\"$replica_url\"]"
	gw 0 expand 0001_lag
	backfill_bg 0001_lag
	wait_rows 0001_lag 0 10

	# an operator's pause
	gw 0 pause 0001_lag
	t0=$(now)
	stopped_within "pause" "$t0" 2 0001_lag
	gw 0 status
	expect_out "paused by operator"
	before=$(rows_done 0001_lag)
	gw 0 resume 0001_lag
	wait_rows 0001_lag "$before" 5

	# live limits, applied before the next chunk
	gw 0 throttle 0001_lag --rate 6000
	status_shows '"rate": 6000' --json

	# the replica falls behind
	REPLICA_PORT=$(echo "$REPLICA" | sed -E 's#.*:([0-9]+)/.*#\1#')
	if [ "$ENGINE" = mysql ]; then
		replica_q() { MYSQL_PWD=$DB_PASS mariadb --no-defaults -h 127.0.0.1 -P "$REPLICA_PORT" \
			-u "$DB_USER" -N -B -e "$1"; }
		replica_q "STOP SLAVE SQL_THREAD"
	else
		replica_q() { PGPASSWORD=$DB_PASS psql -X -q -h 127.0.0.1 -p "$REPLICA_PORT" -U "$DB_USER" \
			-d "$DB_NAME" -At -c "$1"; }
		replica_q "SELECT pg_wal_replay_pause()" >/dev/null
	fi
	t0=$(now)
	# the lag passes 1 s one second after the replica stops
	stopped_within "replica lag over 1 s" "$(echo "$t0 + 1" | bc)" 2 0001_lag
	gw 0 status
	expect_out "waiting: replica 127.0.0.1:$REPLICA_PORT: lag"
	expect_out "s > 1.0 s"
	gw 0 status --json
	expect_out '"replicas": ['
	before=$(rows_done 0001_lag)
	if [ "$ENGINE" = mysql ]; then
		replica_q "START SLAVE SQL_THREAD"
	else
		replica_q "SELECT pg_wal_replay_resume()" >/dev/null
	fi
	wait_rows 0001_lag "$before" 5
	if wait "$BF"; then pass; else fail "backfill failed: $(tail -5 "$T/backfill.log")"; fi
	# (it may also have waited at its start for the heartbeat to reach the replica)
	if grep -q "waiting: replica 127.0.0.1:$REPLICA_PORT: lag .* > 1.0 s" "$T/backfill.log"; then
		pass
	else
		fail "backfill did not say it waited for the lag: $(grep waiting "$T/backfill.log")"
	fi
	gw 0 contract 0001_lag
	expect_eq "rows retyped" "$(q "SELECT count(*) FROM items WHERE price <> CAST(id * 0.25 AS DECIMAL(12,2))")" 0
	PARENT=0001_lag
else
	echo "skipped the replica part: no replica (scripts/scratch.sh start-replicas)" >&2
	PARENT=
fi

# --- 2. an unreachable replica: the copy waits and says why ---
make_table items2 2000
retype 0002_unreachable "$PARENT" items2 "\"max_lag_ms\": 1000,
   \"replicas\": [\"$DB_SCHEME://$DB_USER@127.0.0.1:1/$DB_NAME\"]"
gw 0 expand 0002_unreachable
backfill_bg 0002_unreachable
status_shows "waiting: replica 127.0.0.1:1: unreachable"
sleep 2
expect_eq "nothing copied with the replica unreachable" "$(rows_done 0002_unreachable)" 0
gw 0 pause 0002_unreachable --stop
wait "$BF"
expect_eq "stopped backfill exit status" "$?" 4
gw 0 resume 0002_unreachable
gw 0 rollback 0002_unreachable
rm "$M/0002_unreachable.json"

# --- 3. a flag file, then a load query over its limit, lifted live ---
make_table items3 5000
retype 0003_flag "$PARENT" items3 "\"throttle_flag_file\": \"$T/flag\", \"max_load\": 5,
   \"load_query\": \"SELECT 10\""
gw 0 expand 0003_flag
touch "$T/flag"
backfill_bg 0003_flag
status_shows "waiting: flag file $T/flag exists"
expect_eq "nothing copied while the flag is up" "$(rows_done 0003_flag)" 0
rm "$T/flag"
status_shows "waiting: load 10 > 5"
gw 0 throttle 0003_flag:backfill --max-load 20
if wait "$BF"; then pass; else fail "flag backfill failed: $(tail -5 "$T/backfill.log")"; fi
gw 0 contract 0003_flag

# --- 4. schedule windows, with an injected clock ---
make_table items4 20000
retype 0004_window 0003_flag items4 "\"max_rate_rows\": 2000,
   \"schedule\": {\"windows\": [\"mon-fri 22:00-06:00\"], \"timezone\": \"UTC\"}"
gw 0 expand 0004_window
# Tuesday 05:59:57 UTC: three seconds of the window opened on Monday night left
GODWIT_FAKE_NOW=2026-11-24T05:59:57Z gw 4 backfill 0004_window --until-window-ends
expect_out "outside the schedule window; it opens Tue 2026-11-24 22:00 UTC"
done4=$(rows_done 0004_window)
if [ "$done4" -gt 0 ] && [ "$done4" -lt 20000 ]; then pass; else fail "rows in the window: $done4"; fi
gw 0 status
expect_out "backfill  paused"
# Tuesday 21:59:58: waits two seconds for the window, then goes on to the end
GODWIT_FAKE_NOW=2026-11-24T21:59:58Z gw 0 backfill 0004_window
expect_out "waiting: outside the schedule window"
expect_out "going on after waiting"
gw 0 contract 0004_window
expect_eq "rows retyped in windows" \
	"$(q "SELECT count(*) FROM items4 WHERE price <> CAST(id * 0.25 AS DECIMAL(12,2))")" 0

# --- 5. bad throttle input: exit 2, nothing changed ---
gw 2 throttle 0004_window --rate fast
expect_out "--rate: expected a number >= 0, got 'fast'"
retype 0005_bad 0004_window items4 "\"schedule\": {\"windows\": [\"mon-fro 22:00-06:00\"]}"
before=$(dump)
gw 2 up
expect_out "0005_bad.json"
expect_out "mon-fro"
expect_eq "bad schedule changed nothing" "$(dump)" "$before"
rm "$M/0005_bad.json"

expect_eq "nothing of godwit left" "$(leftovers)" ""
it_done
