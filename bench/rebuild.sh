#!/usr/bin/env bash
# Cost of a whole-table rebuild (CHAR(120) -> VARCHAR(200) on a sysbench-style
# table of N rows, default 1M) per engine: the server's own bulk copy into an
# empty twin, the engine's blocking ALTER, and godwit's shadow rebuild
# (rebuild_table) as one "up" and phase by phase, with the write block at
# cut-over as godwit logs it. Usage: bench/rebuild.sh [ROWS] [ENGINES]
# Env: GW_BUILD_DIR (default build), GW_BENCH_REPEAT (runs of each
# measurement, the median is reported; default 1), GW_BENCH_OUT (where the
# markdown results and godwit's logs go; default /tmp/godwit-bench),
# GW_BENCH_CAPTURE (triggers or replication: the godwit runs' capture; unset,
# godwit's default). bench/capture.sh compares the two under a write load.
# Starts the scratch servers it needs (scripts/scratch.sh) and stops the ones
# it started. Every measurement starts from a freshly loaded, analysed table
# in a new database gw_bench, dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
ENGINES=${2:-mysql postgres}
REPEAT=${GW_BENCH_REPEAT:-1}
CAPTURE=${GW_BENCH_CAPTURE:-}
OUT=${GW_BENCH_OUT:-/tmp/godwit-bench}
G=$PWD/${GW_BUILD_DIR:-build}/godwit
die() { printf 'rebuild.sh: error: %s\n' "$*" >&2; exit 2; }
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer, not '$ROWS'"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_REPEAT must be a positive integer"
case $CAPTURE in '' | triggers | replication) ;; *) die "GW_BENCH_CAPTURE must be triggers or replication" ;; esac
for e in $ENGINES; do
	[ "$e" = mysql ] || [ "$e" = postgres ] || die "unknown engine '$e' (mysql or postgres)"
done
[ -x "$G" ] || die "no $G: build first (GW_BUILD_DIR=${GW_BUILD_DIR:-build} bash scripts/build.sh)"
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
cleanup_exit() {
	rm -rf "$W"
	for e in "${started[@]}"; do bash scripts/scratch.sh stop "$e" || true; done
}
trap cleanup_exit EXIT
export GODWIT_MIGRATIONS=$W/migrations
mkdir -p "$GODWIT_MIGRATIONS"
unset GODWIT_DATABASE_URL

. bench/lib.sh

declare -A V    # "method|field" -> space-separated values, one per run
declare -A NOTE # "method" -> note (the latest run's)
failed=0
add() { V[$1|$2]="${V[$1|$2]:-} $3"; }
# Appends to a method's note, once per distinct text however many runs.
note() {
	[[ ${NOTE[$1]:-} == *"$2"* ]] || NOTE[$1]="${NOTE[$1]:+${NOTE[$1]}; }$2"
}
fail() {
	failed=1
	note "$1" "FAILED: $2"
	printf 'rebuild.sh: %s %s: %s\n' "$engine" "$1" "$2" >&2
}

# A table just rebuilt must hold the same rows, the new type and the same
# indexes as the original; a difference becomes the method's note.
check_result() {
	local method=$1 tbl=$2 problems=() got
	got=$(checksum_of "$tbl")
	[ "$got" = "$expect_sum" ] || problems+=("rows differ: count/checksum '$got', expected '$expect_sum'")
	if [ "$tbl" = t ]; then
		got=$(type_of_c t)
		[ "$got" = "$want_type" ] || problems+=("c is '$got', not '$want_type'")
	fi
	got=$(indexes_of "$tbl")
	[ "$tbl" = t_copy ] || [ "$got" = "$want_indexes" ] ||
		problems+=("indexes '$got', expected '$want_indexes'")
	if [ ${#problems[@]} -gt 0 ]; then
		failed=1
		note "$method" "CHECK: $(IFS=';'; echo "${problems[*]}")"
		printf 'rebuild.sh: %s %s: CHECK: %s\n' "$engine" "$method" "${problems[*]}" >&2
	fi
}

fresh_table() {
	fresh_db
	make_t
}

# One godwit command, its output appended to the engine's log; sets took to
# its wall seconds, or returns non-zero (the first error line becomes the
# note). Not run in $(...): the note must reach this shell.
gw_timed() {
	local method=$1 t0 t1 rc=0 part=$W/part.log
	shift
	printf '\n$ godwit %s\n' "$*" >>"$LOG"
	t0=$(now)
	"$G" --database-url "$url" "$@" >"$part" 2>&1 || rc=$?
	t1=$(now)
	cat "$part" >>"$LOG"
	if [ $rc -ne 0 ]; then
		fail "$method" "godwit $* exited $rc: $(grep -m1 -i 'error' "$part" || head -n1 "$part")"
		return 1
	fi
	cat "$part" >>"$W/run.log"
	took=$(secs "$t0" "$t1")
}

# With GW_BENCH_CAPTURE set, the migration asks for that capture (triggers or
# replication); otherwise godwit's default.
migration() {
	local options=
	[ -z "$CAPTURE" ] || options=",
 \"options\": {\"capture\": \"$CAPTURE\"}"
	rm -f "$GODWIT_MIGRATIONS"/*.json
	cat >"$GODWIT_MIGRATIONS/0001_rebuild.json" <<EOF2
{"id": "0001_rebuild", "parents": [], "message": "c to varchar",
 "operations": [{"rebuild_table": {"table": "t", "alter": "$gw_alter"}}]$options}
EOF2
}

# The old table godwit keeps after contract is dropped by cleanup: timed
# apart, not part of the rebuild. Whatever table remains besides t is noted.
gw_cleanup() {
	local method=$1 left
	if gw_timed "godwit cleanup" cleanup 0001_rebuild; then
		add "godwit cleanup" wall "$took"
	fi
	left=$(tables)
	[ "$left" = t ] || note "$method" "tables left after cleanup: $left"
	left=$(slots)
	[ -z "$left" ] || note "$method" "replication slots left after cleanup: $left"
}

run_once() {
	local t0 t1 s1 s2 s3 b fn0='' fn1
	# 1. The server's own bulk copy into an empty twin with the same indexes.
	fresh_table
	[ -n "${size_before:-}" ] || size_before=$(size_of t)
	[ -n "${expect_sum:-}" ] || expect_sum=$(checksum_of t)
	sql "$bulk_twin"
	t0=$(now); sql "INSERT INTO t_copy SELECT * FROM t"; t1=$(now)
	add bulk wall "$(secs "$t0" "$t1")"
	add bulk size "$(size_of t_copy)"
	check_result bulk t_copy

	# 2. The engine's blocking ALTER.
	fresh_table
	if [ "$engine" = postgres ]; then
		fn0=$(sql "SELECT pg_relation_filenode('t')")
	fi
	t0=$(now); sql "$native_alter"; t1=$(now)
	add native wall "$(secs "$t0" "$t1")"
	add native size "$(size_of t)"
	if [ "$engine" = postgres ]; then
		fn1=$(sql "SELECT pg_relation_filenode('t')")
		if [ "$fn0" != "$fn1" ]; then
			note native "rewrote the table and its indexes (new relfilenode), ACCESS EXCLUSIVE throughout"
		else
			note native "catalog change only, no rewrite"
		fi
	else
		note native "table copy; reads allowed, writes blocked throughout"
	fi
	check_result native t

	# 3. godwit, one command: up = expand + backfill + contract.
	fresh_table
	migration
	: >"$W/run.log"
	printf '\n### %s run, godwit up\n' "$engine" >>"$LOG"
	if gw_timed "godwit up" init && gw_timed "godwit up" up; then
		add "godwit up" wall "$took"
		b=$(blocked_ms "$W/run.log")
		[ -z "$b" ] || add "godwit up" blocked "$b"
		add "godwit up" size "$(size_of t)"
		check_result "godwit up" t
		gw_cleanup "godwit up"
	fi

	# 4. godwit phase by phase, each its own command.
	fresh_table
	migration
	: >"$W/run.log"
	printf '\n### %s run, godwit phase by phase\n' "$engine" >>"$LOG"
	gw_timed "godwit expand" init || return 0
	gw_timed "godwit expand" expand || return 0
	s1=$took
	add "godwit expand" wall "$s1"
	gw_timed "godwit backfill (copy+verify)" backfill || return 0
	s2=$took
	add "godwit backfill (copy+verify)" wall "$s2"
	# The split as godwit logs it (0.1 s resolution).
	b=$(copy_s "$W/part.log")
	[ -z "$b" ] || add "· copy (godwit's log)" wall "$b"
	b=$(verify_s "$W/part.log")
	[ -z "$b" ] || add "· verify (godwit's log)" wall "$b"
	: >"$W/run.log"
	gw_timed "godwit contract" contract || return 0
	s3=$took
	add "godwit contract" wall "$s3"
	b=$(blocked_ms "$W/run.log")
	[ -z "$b" ] || add "godwit contract" blocked "$b"
	add "godwit expand+backfill+contract" wall "$(awk -v a="$s1" -v b="$s2" -v c="$s3" 'BEGIN { print a + b + c }')"
	[ -z "$b" ] || add "godwit expand+backfill+contract" blocked "$b"
	add "godwit expand+backfill+contract" size "$(size_of t)"
	check_result "godwit expand+backfill+contract" t
	gw_cleanup "godwit expand+backfill+contract"
}

# Median of a method's field over the runs ("" if never measured).
med() { local m=$1 f=$2; read -r -a xs <<<"${V[$m|$f]:-}"; median "${xs[@]}"; }
# "min–max" of a method's field over the runs, when there are several; the
# third argument forces the precision ("%.0f" for milliseconds).
spread() {
	local m=$1 f=$2 fmt=${3:-}
	read -r -a xs <<<"${V[$m|$f]:-}"
	[ ${#xs[@]} -gt 1 ] || return 0
	printf '%s\n' "${xs[@]}" | sort -g | awk -v f="$fmt" 'NR == 1 { lo = $1 } { hi = $1 }
		END { if (f == "") f = lo < 0.1 ? "%.3f" : "%.2f"; printf(f "–" f, lo, hi) }'
}

report() {
	local bulk native m w b sz label
	bulk=$(med bulk wall)
	native=$(med native wall)
	printf '## rebuild: %s, %d rows\n\n' "$engine" "$ROWS"
	printf '%s; %s runs per measurement, median shown; %s; %s CPUs, load average %s at the start, %s at the end.\n' \
		"$version" "$REPEAT" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$load0" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	printf 'Command: `%sGW_BENCH_REPEAT=%s bash bench/rebuild.sh %s %s`\n\n' \
		"${CAPTURE:+GW_BENCH_CAPTURE=$CAPTURE }" "$REPEAT" "$ROWS" "$engine"
	[ -z "$CAPTURE" ] || printf 'godwit capture: %s.\n\n' "$CAPTURE"
	awk -v s="$size_before" 'BEGIN { printf "Table t before: %.1f MB (data + indexes).\n\n", s / 1048576 }'
	echo "| engine | rows | method | wall s | wall s min–max | rows/s | × bulk copy | × native ALTER | blocked ms at cut-over | size after MB | note |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for m in bulk native "godwit up" "godwit expand" "godwit backfill (copy+verify)" \
		"· copy (godwit's log)" "· verify (godwit's log)" "godwit contract" "godwit expand+backfill+contract" "godwit cleanup"; do
		w=$(med "$m" wall)
		b=$(med "$m" blocked)
		sz=$(med "$m" size)
		[ -n "$w" ] || [ -n "${NOTE[$m]:-}" ] || continue
		case $m in
		bulk) label="bulk copy (INSERT … SELECT into an empty twin)" ;;
		native) label=$native_label ;;
		*) label=$m ;;
		esac
		awk -v e="$engine" -v n="$ROWS" -v m="$label" -v w="$w" -v bu="$bulk" -v na="$native" \
			-v sp="$(spread "$m" wall)" -v bsp="$(spread "$m" blocked %.0f)" \
			-v b="$b" -v sz="$sz" -v note="${NOTE[$m]:-}" -v g="$m" 'BEGIN {
			per = (g == "bulk" || g == "native" || g == "godwit up" ||
			       g ~ /backfill|copy|verify/ || g ~ /\+/)
			ws = (w == "") ? "–" : sprintf(w < 0.1 ? "%.3f" : "%.2f", w)
			rs = (w == "" || !per || w == 0) ? "–" : sprintf("%.0f", n / w)
			rb = (w == "" || !per || bu == "" || bu == 0) ? "–" : sprintf("%.2f", w / bu)
			rn = (w == "" || !per || na == "" || na == 0) ? "–" : sprintf("%.2f", w / na)
			bs = (b != "") ? sprintf("%.0f", b) : \
			     ((g == "godwit up" || g ~ /contract/) && w != "" ? "not logged" : "")
			ss = (sz == "") ? "" : sprintf("%.1f", sz / 1048576)
			if (bsp != "") bs = bs " (" bsp ")"
			printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				e, n, m, ws, sp, rs, rb, rn, bs, ss, note }'
	done
	echo
	echo "Every method ends with both indexes built, and its time includes building them."
	echo "godwit times are wall seconds of each command (connection, runner lock and state"
	echo "store included); \"blocked ms\" is what godwit logs. godwit cleanup drops the old"
	echo "table kept after contract and is not part of the rebuild."
	if [ "$engine" = mysql ]; then
		echo "The binlog is on (ROW format): the bulk copy and godwit's copy are logged row by"
		echo "row, the ALTER as one statement."
	fi
}

for engine in $ENGINES; do
	setup_engine "$engine"
	LOG=$OUT/rebuild-$engine-$ROWS.log
	: >"$LOG"
	unset size_before expect_sum
	fresh_db
	version=$(server_version)
	load0=$(cut -d' ' -f1 /proc/loadavg)
	V=()
	NOTE=()
	for r in $(seq 1 "$REPEAT"); do
		printf 'rebuild.sh: %s, %d rows: run %d of %d\n' "$engine" "$ROWS" "$r" "$REPEAT" >&2
		run_once
	done
	report | tee "$OUT/rebuild-$engine-$ROWS.md"
	echo
	drop_db
done
printf 'rebuild.sh: results in %s (godwit output in rebuild-ENGINE-ROWS.log)\n' "$OUT" >&2
exit $failed
