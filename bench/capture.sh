#!/usr/bin/env bash
# Replication capture against trigger capture for a shadow rebuild under a
# fixed-rate foreground load: per engine, godwit up of the rebuild of
# bench/rebuild.sh's table (CHAR(120) -> VARCHAR(200), N rows, default 1M)
# once per capture, each while gw_writer runs an open-loop mix of point
# writes and point selects, with a baseline window before the migration.
# Reports per capture the wall time, copy and verify as godwit logs them, the
# write block at cut-over, and the foreground latency (from each statement's
# intended start) and errors before, during and after the migration.
# Usage: bench/capture.sh [ROWS] [ENGINES]
# Env: GW_BUILD_DIR (default build: godwit and tests/gw_writer),
# GW_BENCH_REPEAT (runs, medians reported; default 1), GW_BENCH_OUT
# (default /tmp/godwit-bench), GW_BENCH_CAPTURES (default "triggers
# replication"), GW_BENCH_RATE (foreground statements/s in all, default 200;
# 0: no load), GW_BENCH_CONNS (connections, default 4), GW_BENCH_SELECTS
# (percent point selects, default 50), GW_BENCH_BASELINE (seconds of load
# before the migration; default 10, 3 below 100000 rows), GW_BENCH_TAIL
# (seconds of load after it, default 3), GW_BENCH_VERIFY (1: godwit verify
# after the run, old table against new; default 1), GW_BENCH_FLUSH_BINLOGS
# (1: FLUSH BINARY LOGS before each MariaDB run, so that no binlog rotation
# falls inside one; default 0), GW_BENCH_PG_SYNCHRONOUS_COMMIT (on, off...:
# set for the bench database; default: the server's).
# Starts the scratch servers it needs and stops the ones it started; works in
# its own database gw_bench_capture (BENCH_DB), dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
ENGINES=${2:-mysql postgres}
REPEAT=${GW_BENCH_REPEAT:-1}
OUT=${GW_BENCH_OUT:-/tmp/godwit-bench}
BUILD=${GW_BUILD_DIR:-build}
CAPTURES=${GW_BENCH_CAPTURES:-triggers replication}
RATE=${GW_BENCH_RATE:-200}
CONNS=${GW_BENCH_CONNS:-4}
SELECTS=${GW_BENCH_SELECTS:-50}
TAIL=${GW_BENCH_TAIL:-3}
VERIFY=${GW_BENCH_VERIFY:-1}
FLUSH_BINLOGS=${GW_BENCH_FLUSH_BINLOGS:-0}
PG_SYNC=${GW_BENCH_PG_SYNCHRONOUS_COMMIT:-}
WARMUP=1 # seconds of load before the baseline window, not measured
# Latency windows: migration is godwit up; copy, verify and contract lie within.
WINDOWS="baseline migration copy verify contract after"
export BENCH_DB=${BENCH_DB:-gw_bench_capture}
G=$PWD/$BUILD/godwit
WRITER=$PWD/$BUILD/tests/gw_writer
die() { printf 'capture.sh: error: %s\n' "$*" >&2; exit 2; }
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer, not '$ROWS'"
if [ "$ROWS" -lt 100000 ]; then BASELINE=${GW_BENCH_BASELINE:-3}; else BASELINE=${GW_BENCH_BASELINE:-10}; fi
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_REPEAT must be a positive integer"
[[ $RATE =~ ^[0-9]+$ ]] || die "GW_BENCH_RATE must be a whole number of statements per second"
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_CONNS must be a positive integer"
[[ $SELECTS =~ ^[0-9]+$ ]] && [ "$SELECTS" -le 100 ] || die "GW_BENCH_SELECTS must be a percent"
[[ $BASELINE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "GW_BENCH_BASELINE must be seconds"
[[ $TAIL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "GW_BENCH_TAIL must be seconds"
[[ $PG_SYNC =~ ^(|on|off|local|remote_write|remote_apply)$ ]] ||
	die "GW_BENCH_PG_SYNCHRONOUS_COMMIT must be a synchronous_commit value"
[[ $BENCH_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"
for c in $CAPTURES; do
	[ "$c" = triggers ] || [ "$c" = replication ] || die "unknown capture '$c' (triggers or replication)"
done
for e in $ENGINES; do
	[ "$e" = mysql ] || [ "$e" = postgres ] || die "unknown engine '$e' (mysql or postgres)"
done
[ -x "$G" ] || die "no $G: build first (GW_BUILD_DIR=$BUILD bash scripts/build.sh)"
[ "$RATE" = 0 ] || [ -x "$WRITER" ] || die "no $WRITER: build the tests too (target gw_writer)"
mkdir -p "$OUT"

started=()
status=$(bash scripts/scratch.sh status)
for e in $ENGINES; do
	if ! grep -q "^$e: running" <<<"$status"; then
		bash scripts/scratch.sh start "$e"
		started+=("$e")
	fi
done
eval "$(bash scripts/scratch.sh env)"
D=$GW_SCRATCH_DIR
W=$(mktemp -d)
writers=()
stop_writers() {
	local p rc=0
	[ ${#writers[@]} -gt 0 ] || return 0
	touch "$W/stop"
	for p in "${writers[@]}"; do
		wait "$p" || rc=1
	done
	writers=()
	return $rc
}
cleanup_exit() {
	stop_writers || true
	rm -rf "$W"
	for e in "${started[@]}"; do bash scripts/scratch.sh stop "$e" || true; done
}
trap cleanup_exit EXIT
export GODWIT_MIGRATIONS=$W/migrations
mkdir -p "$GODWIT_MIGRATIONS"
unset GODWIT_DATABASE_URL

. bench/lib.sh

declare -A V    # "capture|field" -> space-separated values, one per run
declare -A NOTE # "capture" -> notes, each distinct text once
failed=0
add() { V[$1|$2]="${V[$1|$2]:-} $3"; }
note() {
	[[ ${NOTE[$1]:-} == *"$2"* ]] || NOTE[$1]="${NOTE[$1]:+${NOTE[$1]}; }$2"
}
fail() {
	failed=1
	note "$1" "FAILED: $2"
	printf 'capture.sh: %s %s: %s\n' "$engine" "$1" "$2" >&2
}

# One godwit command, its output appended to the engine's log and to
# $W/part.log, and with the time each line came out ($EPOCHREALTIME, bash 5)
# to $W/part.ts; sets took to its wall seconds, or returns non-zero (the first
# error line becomes the note).
gw_timed() {
	local capture=$1 t0 t1 rc l
	shift
	printf '\n$ godwit %s\n' "$*" >>"$LOG"
	t0=$(now)
	{
		"$G" --database-url "$url" "$@" 2>&1
		echo "# rc $?"
	} | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$W/part.ts"
	t1=$(now)
	rc=$(sed -n 's/^[^ ]* # rc \([0-9]*\)$/\1/p' "$W/part.ts")
	sed -e 's/^[^ ]* //' -e '/^# rc [0-9]*$/d' "$W/part.ts" >"$W/part.log"
	cat "$W/part.log" >>"$LOG"
	took=$(secs "$t0" "$t1")
	rc=${rc:-1}
	if [ $rc -ne 0 ]; then
		fail "$capture" "godwit $* exited $rc: $(grep -m1 -i 'error' "$W/part.log" || head -n1 "$W/part.log")"
		return 1
	fi
}

migration() {
	rm -f "$GODWIT_MIGRATIONS"/*.json
	cat >"$GODWIT_MIGRATIONS/0001_rebuild.json" <<EOF2
{"id": "0001_rebuild", "parents": [], "message": "c to varchar",
 "operations": [{"rebuild_table": {"table": "t", "alter": "$gw_alter"}}],
 "options": {"capture": "$1"}}
EOF2
}

# CONNS writers on column c, each owning a partition of the ids, at RATE/CONNS
# statements/s each, the same seeds for every capture of a run.
start_writers() {
	local run=$1 i per
	per=$(awk -v r="$RATE" -v n="$CONNS" 'BEGIN { printf "%.6f", r / n }')
	rm -f "$W/stop" "$W"/lat.* "$W"/state.* "$W"/writer.*
	for i in $(seq 0 $((CONNS - 1))); do
		"$WRITER" run --url "$url" --table t --column c --partition "$i/$CONNS" --rows "$ROWS" \
			--state "$W/state.$i" --stop-file "$W/stop" --rate "$per" --selects "$SELECTS" \
			--latency "$W/lat.$i" --seed $((1000 * run + i + 1)) >"$W/writer.$i" 2>&1 &
		writers+=($!)
	done
}

# When godwit printed the first line matching a regular expression ("" if
# none), from $W/part.ts.
line_at() { awk -v re="$1" '$0 ~ re { print $1; exit }' "$W/part.ts"; }

# lat_stats LO HI [writes]: statements of every writer (with "writes", all
# but the selects) whose intended start is in [LO, HI): "count p50 p95 p99
# max errors" (ms; nearest rank), "0" if none.
lat_stats() {
	awk -v lo="$1" -v hi="$2" -v w="${3:-}" '!/^#/ && $1 >= lo && $1 < hi &&
		(w == "" || $3 != "select") { print $2, ($4 == 0) }' "$W"/lat.* |
		sort -g -k1,1 | awk '
		function rank(q,   i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] }
		{ v[NR] = $1; e += $2 }
		END {
			if (!NR) { print 0; exit }
			printf "%d %.1f %.1f %.1f %.1f %d\n", NR, rank(0.5), rank(0.95), rank(0.99), v[NR], e
		}'
}

# A fresh database, with GW_BENCH_PG_SYNCHRONOUS_COMMIT as its default.
bench_db() {
	fresh_db
	[ -z "$PG_SYNC" ] || [ "$engine" != postgres ] ||
		server -c "ALTER DATABASE $BENCH_DB SET synchronous_commit = $PG_SYNC"
}

# One capture, one run: fresh table, load, baseline, godwit up, tail, checks.
run_capture() {
	local capture=$1 run=$2 tb0 tm0 tm1 ta1 b s left win lo hi n p50 p95 p99 mx e \
		behind=0 errs=0 i wrc=0 up_ok=0 tc0='' tc1='' tv0='' tv1='' tx0=
	printf 'capture.sh: %s, %d rows, run %d of %d: %s capture\n' "$engine" "$ROWS" "$run" "$REPEAT" \
		"$capture" >&2
	printf '\n### %s, run %d, %s capture\n' "$engine" "$run" "$capture" >>"$LOG"
	bench_db
	make_t
	[ "$FLUSH_BINLOGS" != 1 ] || [ "$engine" != mysql ] || server "FLUSH BINARY LOGS"
	migration "$capture"
	gw_timed "$capture" init || return 0
	if [ "$RATE" != 0 ]; then
		start_writers "$run"
		sleep "$WARMUP"
	fi
	tb0=$(now)
	[ "$RATE" = 0 ] || sleep "$BASELINE"
	tm0=$(now)
	if gw_timed "$capture" up; then
		up_ok=1
		add "$capture" wall "$took"
		b=$(blocked_ms "$W/part.log")
		[ -z "$b" ] || add "$capture" blocked "$b"
		b=$(copy_s "$W/part.log")
		[ -z "$b" ] || add "$capture" copy "$b"
		b=$(verify_s "$W/part.log")
		[ -z "$b" ] || add "$capture" verify "$b"
		# The last lag a replication capture logged, if any.
		b=$(sed -n 's/.*replication capture: [0-9]* changes applied, lag \([0-9.]*\) ms.*/\1/p' \
			"$W/part.log" | tail -n 1)
		[ -z "$b" ] || add "$capture" lag "$b"
		# The phases within: the copy, the verify and the contract (cut-over).
		tc0=$(line_at ":backfill: copying '")
		tc1=$(line_at ":backfill: copied '")
		tv0=$(line_at ":backfill: verifying '")
		tv1=$(line_at ":backfill: verified '")
		tx0=$(line_at ":contract: ")
	fi
	tm1=$(now)
	[ $up_ok = 1 ] || note "$capture" "godwit up failed in run $run: the run is left out of the medians"
	if [ "$RATE" != 0 ]; then
		sleep "$TAIL"
		ta1=$(now)
		stop_writers || wrc=1
		for i in $(seq 0 $((CONNS - 1))); do
			printf -- '--- writer %d\n' "$i" >>"$LOG"
			cat "$W/writer.$i" >>"$LOG"
			b=$(sed -n 's/^# behind \([0-9]*\)$/\1/p' "$W/lat.$i")
			behind=$((behind + ${b:-0}))
		done
		[ "$behind" = 0 ] ||
			note "$capture" "writers $behind statements behind at the stop (not measured): raise GW_BENCH_TAIL"
		# A failed run's latency is left out of the medians.
		for win in $WINDOWS; do
			[ $up_ok = 1 ] || break
			case $win in
			baseline) lo=$tb0 hi=$tm0 ;;
			migration) lo=$tm0 hi=$tm1 ;;
			copy) lo=$tc0 hi=$tc1 ;;
			verify) lo=$tv0 hi=$tv1 ;;
			contract) lo=$tx0 hi=$tm1 ;;
			after) lo=$tm1 hi=$ta1 ;;
			esac
			[ -n "$lo" ] && [ -n "$hi" ] || continue
			add "$capture" "$win.secs" "$(secs "$lo" "$hi")"
			read -r n p50 p95 p99 mx e <<<"$(lat_stats "$lo" "$hi")"
			add "$capture" "$win.n" "$n"
			[ "$n" = 0 ] && continue
			add "$capture" "$win.p50" "$p50"
			add "$capture" "$win.p95" "$p95"
			add "$capture" "$win.p99" "$p99"
			add "$capture" "$win.max" "$mx"
			add "$capture" "$win.errors" "$e"
			case $win in baseline | migration | after) errs=$((errs + e)) ;; esac
			# Writes alone: a lock that lets reads through shows here.
			read -r n p50 p95 p99 mx e <<<"$(lat_stats "$lo" "$hi" writes)"
			[ "$n" = 0 ] && continue
			add "$capture" "$win.wp99" "$p99"
			add "$capture" "$win.wmax" "$mx"
		done
		[ $up_ok = 0 ] || add "$capture" errors "$errs"
		if [ "$wrc" != 0 ] || [ "$errs" != 0 ]; then
			b=$(grep -h -m1 -v '^writer [0-9]*/[0-9]*: [a-z_]*=' "$W"/writer.* | head -n 1 || true)
			note "$capture" "foreground errors${b:+, first: $b}"
		fi
		# Every row a writer touched must hold its last write.
		for i in $(seq 0 $((CONNS - 1))); do
			if ! "$WRITER" verify --url "$url" --table t --column c --state "$W/state.$i" \
				>"$W/verify.$i" 2>&1; then
				failed=1
				note "$capture" "CHECK: writer $i: $(grep -m1 -v '^verify:' "$W/verify.$i" || head -n1 "$W/verify.$i") ($(grep -m1 '^verify:' "$W/verify.$i" || true))"
			fi
			cat "$W/verify.$i" >>"$LOG"
		done
	fi
	# The result: the new type, both indexes; the old table as the new one
	# (godwit verify, compared after the load stopped); nothing left after
	# cleanup, replication slots included.
	s=$(type_of_c t)
	[ "$s" = "$want_type" ] || { failed=1; note "$capture" "CHECK: c is '$s', not '$want_type'"; }
	s=$(indexes_of t)
	[ "$s" = "$want_indexes" ] || { failed=1; note "$capture" "CHECK: indexes '$s', not '$want_indexes'"; }
	if [ "$VERIFY" = 1 ] && gw_timed "$capture" verify 0001_rebuild; then
		add "$capture" postverify "$took"
	fi
	s=$(slots)
	[ -z "$s" ] || note "$capture" "replication slots after up: $s"
	if gw_timed "$capture" cleanup 0001_rebuild; then
		add "$capture" cleanup "$took"
	fi
	left=$(tables)
	[ "$left" = t ] || note "$capture" "tables left after cleanup: $left"
	left=$(slots)
	[ -z "$left" ] || note "$capture" "replication slots left after cleanup: $left"
	return 0
}

window_label() {
	case $1 in
	copy | verify) printf '· %s' "$1" ;;
	contract) printf '· contract (cut-over)' ;;
	*) printf '%s' "$1" ;;
	esac
}

med() { local xs; read -r -a xs <<<"${V[$1|$2]:-}"; median "${xs[@]}"; }
# The runs' values "a, b, c" when there are several.
runs() {
	local xs
	read -r -a xs <<<"${V[$1|$2]:-}"
	[ ${#xs[@]} -gt 1 ] || return 0
	(IFS=,; printf '%s' "${xs[*]}") | sed 's/,/, /g'
}
fmt() { [ -z "$2" ] && printf '–' || awk -v f="$1" -v x="$2" 'BEGIN { printf f, x }'; }

report() {
	local c w note
	printf '## capture: %s, %d rows\n\n' "$engine" "$ROWS"
	printf '%s; %s run(s), median shown; %s; %s CPUs, load average %s at the start, %s at the end.\n' \
		"$version" "$REPEAT" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$load0" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	printf 'Server settings that bear on capture: %s.\n' "$settings"
	printf 'Command: `%s`\n' "$command"
	if [ "$RATE" != 0 ]; then
		printf 'Foreground: %s statements/s over %s connections (gw_writer, open loop), %s%% point selects, the rest point updates, inserts and deletes on column c; baseline %s s, tail %s s.\n\n' \
			"$RATE" "$CONNS" "$SELECTS" "$BASELINE" "$TAIL"
	else
		printf 'No foreground load.\n\n'
	fi
	echo "| engine | rows | capture | godwit up wall s | copy s | verify s | blocked ms at cut-over | fg errors | wall s per run | note |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---|---|"
	for c in $CAPTURES; do
		printf '| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$engine" "$ROWS" "$c" \
			"$(fmt %.2f "$(med "$c" wall)")" "$(fmt %.1f "$(med "$c" copy)")" \
			"$(fmt %.1f "$(med "$c" verify)")" "$(fmt %.0f "$(med "$c" blocked)")" \
			"$(fmt %.0f "$(med "$c" errors)")" "$(runs "$c" wall)" "${NOTE[$c]:-}"
	done
	echo
	if [ "$RATE" != 0 ]; then
		echo "| engine | capture | window | s | statements | p50 ms | p95 ms | p99 ms | max ms | writes p99 ms | writes max ms | errors |"
		echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for c in $CAPTURES; do
			for w in $WINDOWS; do
				[ -n "$(med "$c" "$w.secs")" ] || continue
				printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$engine" "$c" \
					"$(window_label "$w")" "$(fmt %.1f "$(med "$c" "$w.secs")")" \
					"$(fmt %.0f "$(med "$c" "$w.n")")" \
					"$(fmt %.1f "$(med "$c" "$w.p50")")" "$(fmt %.1f "$(med "$c" "$w.p95")")" \
					"$(fmt %.1f "$(med "$c" "$w.p99")")" "$(fmt %.1f "$(med "$c" "$w.max")")" \
					"$(fmt %.1f "$(med "$c" "$w.wp99")")" "$(fmt %.1f "$(med "$c" "$w.wmax")")" \
					"$(fmt %.0f "$(med "$c" "$w.errors")")"
			done
		done
		echo
		echo "Latency is from each statement's intended start on the fixed schedule (open loop),"
		echo "so a stall counts for every statement queued behind it. Windows by intended start:"
		echo "baseline before godwit up, migration while it runs (within it, as godwit's output"
		echo "lines mark them: the copy, the verify, and the contract with the cut-over; expand"
		echo "and ANALYZE are in migration only), after for the tail; s is the window's length."
	fi
	echo "copy and verify: as godwit logs them (0.1 s resolution); blocked: the sum of the"
	echo "\"writes were blocked for N ms\" lines (\"–\" if none was logged)."
}

# JSON value of a median ("null" if not measured).
jnum() { local m; m=$(med "$1" "$2"); [ -n "$m" ] && printf '%s' "$m" || printf null; }
jarr() { local xs; read -r -a xs <<<"${V[$1|$2]:-}"; (IFS=,; printf '[%s]' "${xs[*]}"); }
jstr() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\t\n' '  ')"; }
json_engine() {
	local c w f first=1 wf
	printf '{"engine": "%s", "version": %s, "settings": %s, "load_start": %s, "load_end": %s, "captures": [' \
		"$engine" "$(jstr "$version")" "$(jstr "$settings")" "$load0" "$(cut -d' ' -f1 /proc/loadavg)"
	for c in $CAPTURES; do
		[ $first = 1 ] || printf ', '
		first=0
		printf '\n  {"capture": "%s"' "$c"
		for f in wall copy verify blocked errors lag postverify cleanup; do
			printf ', "%s": %s, "%s_runs": %s' "$f" "$(jnum "$c" $f)" "$f" "$(jarr "$c" $f)"
		done
		printf ', "latency_ms": {'
		wf=1
		for w in $WINDOWS; do
			[ $wf = 1 ] || printf ', '
			wf=0
			printf '"%s": {' "$w"
			printf '"seconds": %s, "statements": %s, "p50": %s, "p95": %s, "p99": %s, "max": %s, "writes_p99": %s, "writes_max": %s, "errors": %s' \
				"$(jnum "$c" "$w.secs")" "$(jnum "$c" "$w.n")" "$(jnum "$c" "$w.p50")" \
				"$(jnum "$c" "$w.p95")" "$(jnum "$c" "$w.p99")" "$(jnum "$c" "$w.max")" \
				"$(jnum "$c" "$w.wp99")" "$(jnum "$c" "$w.wmax")" "$(jnum "$c" "$w.errors")"
			printf ', "p99_runs": %s}' "$(jarr "$c" "$w.p99")"
		done
		printf '}, "note": %s}' "$(jstr "${NOTE[$c]:-}")"
	done
	printf ']}'
}

command="${PG_SYNC:+GW_BENCH_PG_SYNCHRONOUS_COMMIT=$PG_SYNC }$([ "$FLUSH_BINLOGS" != 1 ] || echo "GW_BENCH_FLUSH_BINLOGS=1 ")GW_BENCH_REPEAT=$REPEAT GW_BENCH_RATE=$RATE GW_BENCH_CONNS=$CONNS GW_BENCH_SELECTS=$SELECTS GW_BENCH_BASELINE=$BASELINE GW_BENCH_TAIL=$TAIL bash bench/capture.sh $ROWS '$ENGINES'"
JSON=$OUT/capture-$ROWS.json
jparts=()
for engine in $ENGINES; do
	setup_engine "$engine"
	LOG=$OUT/capture-$engine-$ROWS.log
	: >"$LOG"
	bench_db
	version=$(server_version)
	# PostgreSQL: with synchronous_commit off a commit reaches the logical
	# stream only when the WAL writer flushes (wal_writer_delay).
	if [ "$engine" = mysql ]; then
		settings=$(sql "SELECT CONCAT('binlog_format ', @@binlog_format, ', binlog_row_image ',
		     @@binlog_row_image, ', sync_binlog ', @@sync_binlog,
		     ', innodb_flush_log_at_trx_commit ', @@innodb_flush_log_at_trx_commit)")
	else
		settings=$(sql "SELECT string_agg(name || ' ' || setting || coalesce(unit, ''), ', ' ORDER BY name)
		     FROM pg_settings WHERE name IN ('synchronous_commit', 'wal_writer_delay', 'fsync')")
	fi
	load0=$(cut -d' ' -f1 /proc/loadavg)
	V=()
	NOTE=()
	for r in $(seq 1 "$REPEAT"); do
		# Alternate the order so that a drift of the machine does not favour one.
		order=$CAPTURES
		[ $((r % 2)) = 1 ] || order=$(printf '%s\n' $CAPTURES | tac | tr '\n' ' ')
		for c in $order; do
			run_capture "$c" "$r"
		done
	done
	report | tee "$OUT/capture-$engine-$ROWS.md"
	echo
	jparts+=("$(json_engine)")
	drop_db
done
{
	printf '{"bench": "capture", "rows": %d, "repeat": %d, "command": %s, "date": "%s", "cpus": %d,\n' \
		"$ROWS" "$REPEAT" "$(jstr "$command")" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$(nproc)"
	printf ' "foreground": {"rate": %s, "connections": %s, "selects_pct": %s, "baseline_s": %s, "tail_s": %s},\n' \
		"$RATE" "$CONNS" "$SELECTS" "$BASELINE" "$TAIL"
	printf ' "engines": ['
	(IFS=,; printf '%s' "${jparts[*]}")
	printf ']}\n'
} >"$JSON"
printf 'capture.sh: results in %s (JSON %s; godwit and writer output in capture-ENGINE-ROWS.log)\n' \
	"$OUT" "$JSON" >&2
exit $failed
