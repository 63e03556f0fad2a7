#!/usr/bin/env bash
# The bench suite: per engine, table and row count, every method of changing
# the table (the server's own bulk copy, its native blocking ALTER,
# pt-online-schema-change or pg_repack, and godwit's in-place and shadow
# migrations) run under the same fixed-rate foreground load (bench/load/
# gw_load), each on a freshly generated table, with a baseline window before
# and an after window behind. Writes one directory per run (load log,
# latency series, progress, output, plot), results.json and summary.md.
# See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
ARGS="$*"

usage() {
	cat <<'EOF'
usage: bench/run.sh [--rows "N ..."] [--engines "mysql postgres"] [--tables "sbtest orders"]
                    [--methods "..."] [--repeat R] [--rate R] [--conns C] [--mix MIX]
                    [--baseline S] [--after S] [--out DIR] [--no-verify] [--strict] [--smoke]
methods: bulk_copy native_alter pt_osc pg_repack inplace_rename inplace_retype
         rebuild_triggers rebuild_replication rebuild_triggers_unthrottled
         rebuild_replication_unthrottled (pt_osc runs on mysql only, pg_repack on postgres only)
--smoke: 20000 rows, 1 s windows, 100 statements/s, --strict (a check or a godwit
         foreground error fails the run)
EOF
}

ROWS_LIST=1000000
ENGINES="mysql postgres"
TABLES="sbtest orders"
ALL_METHODS="bulk_copy native_alter pt_osc pg_repack inplace_rename inplace_retype rebuild_triggers rebuild_replication rebuild_triggers_unthrottled rebuild_replication_unthrottled"
METHODS=$ALL_METHODS
REPEAT=1 RATE=200 CONNS=4 MIX="select=50,update=30,insert=10,delete=10"
BASELINE=10 AFTER=5 WARMUP=1 VERIFY=1 STRICT=0
OUT=${GW_BENCH_OUT:-/tmp/godwit-bench}
BUILD=${GW_BUILD_DIR:-build}
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
	case $1 in
	--rows) need "$@"; ROWS_LIST=$2; shift ;;
	--engines) need "$@"; ENGINES=$2; shift ;;
	--tables) need "$@"; TABLES=$2; shift ;;
	--methods) need "$@"; METHODS=$2; shift ;;
	--repeat) need "$@"; REPEAT=$2; shift ;;
	--rate) need "$@"; RATE=$2; shift ;;
	--conns) need "$@"; CONNS=$2; shift ;;
	--mix) need "$@"; MIX=$2; shift ;;
	--baseline) need "$@"; BASELINE=$2; shift ;;
	--after) need "$@"; AFTER=$2; shift ;;
	--out) need "$@"; OUT=$2; shift ;;
	--no-verify) VERIFY=0 ;;
	--strict) STRICT=1 ;;
	--smoke) ROWS_LIST=20000 BASELINE=1 AFTER=1 WARMUP=0.5 RATE=100 STRICT=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
	shift
done
for n in $ROWS_LIST; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "--rows: '$n' is not a positive integer"; done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat: '$REPEAT' is not a positive integer"
[[ $RATE =~ ^[1-9][0-9]*$ ]] || die "--rate: '$RATE' is not a positive number of statements/s"
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "--conns: '$CONNS' is not a positive integer"
[[ $BASELINE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--baseline: '$BASELINE' is not seconds"
[[ $AFTER =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--after: '$AFTER' is not seconds"
for e in $ENGINES; do [[ $e =~ ^(mysql|postgres)$ ]] || die "--engines: unknown engine '$e' (mysql, postgres)"; done
for t in $TABLES; do [[ $t =~ ^(sbtest|orders)$ ]] || die "--tables: unknown table '$t' (sbtest, orders)"; done
for m in $METHODS; do [[ " $ALL_METHODS " == *" $m "* ]] || die "--methods: unknown method '$m'"; done
G=${GODWIT:-$SRC/$BUILD/godwit}
LOAD=${GW_LOAD:-$SRC/$BUILD/bench/gw_load}
[ -x "$G" ] && [ -x "$LOAD" ] || die "no $G or $LOAD: build first (cmake -S . -B $BUILD && cmake --build $BUILD)"
for tool in jq gnuplot /usr/bin/time; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/bootstrap.sh"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

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
load_pid=
cleanup_exit() {
	if [ -n "$load_pid" ]; then touch "$W/stop"; wait "$load_pid" || true; fi
	rm -rf "$W"
	for e in "${started[@]}"; do bash scripts/scratch.sh stop "$e" || true; done
}
trap cleanup_exit EXIT
export GODWIT_MIGRATIONS=$W/migrations
mkdir -p "$GODWIT_MIGRATIONS"
unset GODWIT_DATABASE_URL DATABASE_URL

. bench/lib.sh

failed=0
runs=()    # the run.json of every run of this invocation
skipped=() # "engine table rows method: why" of the methods whose tool is missing
# The compared tools (GW_BENCH_PT_OSC, GW_BENCH_PG_REPACK: another install).
PT_OSC=${GW_BENCH_PT_OSC:-pt-online-schema-change}
PG_REPACK=${GW_BENCH_PG_REPACK:-pg_repack}
REV=0001_bench

# The method's migration file for godwit ($1: the method).
migration() {
	local op opts='"capture": "triggers"'
	case $1 in
	inplace_rename) op="{\"rename_column\": {\"table\": \"$TABLE\", \"from\": \"$rename_from\", \"to\": \"$rename_to\"}}" ;;
	inplace_retype) op="{\"alter_column\": {\"table\": \"$TABLE\", \"column\": \"$retype_column\", \"type\": \"$retype_type\", \"up\": \"$retype_up\", \"down\": \"$retype_down\"}}" ;;
	rebuild_*) op="{\"rebuild_table\": {\"table\": \"$TABLE\", \"alter\": \"$gw_alter\"}}" ;;
	esac
	case $1 in rebuild_replication*) opts='"capture": "replication"' ;; esac
	# Unthrottled: no chunk-time target, so chunks grow to the copier's cap.
	case $1 in *_unthrottled) opts="$opts, \"chunk_time_ms\": 3600000" ;; esac
	rm -f "$GODWIT_MIGRATIONS"/*.json
	printf '{"id": "%s", "parents": [], "message": "bench %s", "operations": [%s], "options": {%s}}\n' \
		"$REV" "$1" "$op" "$opts" >"$GODWIT_MIGRATIONS/$REV.json"
}

# Runs "$@" with its output lines stamped ($EPOCHREALTIME) into $R/out.ts,
# and its peak RSS (KiB, GNU time) into $R/rss; returns its exit status.
stamped() {
	local l
	{
		/usr/bin/time -f '%M' -o "$R/rss.now" "$@" 2>&1
		echo "# rc $?"
	} | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >>"$R/out.ts"
	tail -n 1 "$R/rss.now" >>"$R/rss" 2>/dev/null || true
	return "$(sed -n 's/^[^ ]* # rc \([0-9]*\)$/\1/p' "$R/out.ts" | tail -n 1)"
}
gw() { stamped "$G" --database-url "$url" "$@"; }

# Progress of the running method, every 0.5 s, as "EPOCH PERCENT" lines in
# $R/progress.tsv: godwit's status, or MariaDB's progress of an ALTER.
sampler() {
	local p
	while [ ! -e "$W/sampler.stop" ]; do
		case $method in
		inplace_* | rebuild_*)
			p=$("$G" --database-url "$url" status --json 2>/dev/null |
				jq -r '.[0].phases.backfill | select(.rows_total > 0) | .percent' 2>/dev/null || true) ;;
		native_alter)
			p=$(sql "SELECT MAX(progress) FROM information_schema.processlist
			         WHERE info LIKE 'ALTER TABLE%' AND command = 'Query'" 2>/dev/null || true)
			[ "$p" != NULL ] || p= ;;
		*) p= ;;
		esac
		[ -z "$p" ] || printf '%s %s\n' "$EPOCHREALTIME" "$p" >>"$R/progress.tsv"
		sleep 0.5
	done
}

# When the method printed the first (or, with "last", the last) line
# matching an extended regular expression ("" if none).
at() { awk -v re="$1" -v last="${2:-}" '$0 ~ re { t = $1; if (!last) { print t; exit } } END { if (last && t) print t }' "$R/out.ts"; }

check() { # check WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	note "CHECK: $1 is '$2', not '$3'"
	failed=1
}
note() { notes="${notes:+$notes; }$1"; }

# One method, one run: a fresh table, the load, baseline, the method, after,
# checks, report and plot into run.json and plot.png of $R.
run_method() {
	local rep=$1 t0 tb0 tm0 tm1 ta1 rc=0 lrc=0 windows=() sampler_pid tbf tct blocked
	R=$RUNDIR/$method-r$rep
	rm -rf "$R"
	mkdir -p "$R"
	notes=
	printf 'bench: %s %s %d rows, run %d of %d: %s\n' "$engine" "$TABLE" "$ROWS" "$rep" "$REPEAT" "$method" >&2
	fresh_db >/dev/null
	t0=$(now)
	make_table
	load_s=$(secs "$t0" "$(now)")
	[ -n "${size0:-}" ] || size0=$(size_of "$TABLE")
	case $method in
	inplace_* | rebuild_*) migration "$method"; gw init >/dev/null || { note "godwit init failed"; failed=1; return 0; } ;;
	pg_repack) sql "CREATE EXTENSION IF NOT EXISTS pg_repack" ;;
	esac
	: >"$R/out.ts"
	rm -f "$W/stop" "$W/sampler.stop"
	"$LOAD" run --url "$url" --table "$TABLE" --profile "$TABLE" --rows "$ROWS" --rate "$RATE" \
		--conns "$CONNS" --mix "$MIX" --stop-file "$W/stop" --seed "$rep" --interval 100 --out "$R/load.jsonl" \
		>"$R/load.out" 2>&1 &
	load_pid=$!
	sleep "$WARMUP" # connections open, caches warm: not measured
	tb0=$(now)
	sleep "$BASELINE"
	sampler &
	sampler_pid=$!
	tm0=$(now)
	case $method in
	bulk_copy)
		sql "$bulk_twin"
		stamped "${sql_argv[@]}" "INSERT INTO ${TABLE}_copy SELECT * FROM $TABLE" || rc=$? ;;
	native_alter) stamped "${sql_argv[@]}" "$native_alter" || rc=$? ;;
	pt_osc)
		stamped "$PT_OSC" --alter "$gw_alter" "D=$BENCH_DB,t=$TABLE,S=$D/mysql.sock,u=root" \
			--execute --recursion-method=none --progress time,1 || rc=$? ;;
	pg_repack)
		stamped env PGPASSWORD="$GW_TEST_PASSWORD" "$PG_REPACK" -h "$pg_host" -p "$pg_port" \
			-U "$pg_user" -d "$BENCH_DB" -t "$TABLE" || rc=$? ;;
	*) gw up || rc=$? ;;
	esac
	tm1=$(now)
	touch "$W/sampler.stop"
	wait "$sampler_pid" || true
	sleep "$AFTER"
	ta1=$(now)
	touch "$W/stop"
	wait "$load_pid" || lrc=$?
	load_pid=
	[ $rc = 0 ] || { note "FAILED: exit $rc: $(grep -m1 -iE 'error|fail' "$R/out.ts" | cut -d' ' -f2- | cut -c1-200)"; failed=1; }
	[ $lrc -le 1 ] || { note "FAILED: gw_load exit $lrc: $(head -c 200 "$R/load.out")"; failed=1; }
	# pt-osc prints its copy progress; godwit's comes from its status.
	if [ "$method" = pt_osc ]; then
		sed -n 's/^\([0-9.]*\) Copying `[^`]*`\.`[^`]*`: *\([0-9]*\)% .*/\1 \2/p' "$R/out.ts" >>"$R/progress.tsv"
	fi
	# Phase boundaries, as the method's output marks them.
	events=("start $tm0")
	case $method in
	inplace_* | rebuild_*)
		events+=("backfill $(at ':backfill: ')" "verify $(at ':backfill: verifying ')"
			"contract $(at ':contract: ')" "cut-over $(at 'writes were blocked for' last)") ;;
	pt_osc)
		events+=("copy $(at 'Copying approximately')" "cut-over $(at 'Swapping tables')") ;;
	esac
	events+=("end $tm1")
	windows=(--window "baseline=$tb0,$tm0" --window "during=$tm0,$tm1" --window "after=$tm1,$ta1")
	tbf=$(at ':backfill: ') tct=$(at ':contract: ')
	[ -z "$tbf" ] || [ -z "$tct" ] || windows+=(--window "backfill=$tbf,$tct")
	[ -z "$tct" ] || windows+=(--window "contract=$tct,$tm1")
	"$LOAD" report --in "$R/load.jsonl" "${windows[@]}" --series "$R/latency.tsv" --t0 "$tm0" >"$R/load.json" ||
		{ note "FAILED: gw_load report"; failed=1; echo '{}' >"$R/load.json"; }
	check_result
	plot_run
	# the load ran, and the plot was drawn
	check "foreground statements" "$(jq '(.total.n // 0) > 0' "$R/load.json")" true
	check "plot.png written" "$([ -s "$R/plot.png" ] && echo yes)" yes
	sed 's/^[^ ]* //' "$R/out.ts" >"$R/out.log"
	blocked=$(grep -o 'writes were blocked for [0-9.]* ms' "$R/out.log" | awk '{ s += $5; n++ } END { if (n) print s }' || true)
	[ "$method" != native_alter ] || blocked=$(awk -v a="$tm0" -v b="$tm1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
	jq -n --arg engine "$engine" --arg server "$server" --arg table "$TABLE" --arg method "$method" --argjson rows "$ROWS" \
		--argjson rep "$rep" --argjson wall "$(secs "$tm0" "$tm1")" --argjson load_s "$load_s" \
		--argjson size "${size0:-null}" --argjson blocked "${blocked:-null}" \
		--argjson rss "$(sort -n "$R/rss" 2>/dev/null | tail -n 1 | grep . || echo null)" \
		--argjson events "$(printf '%s\n' "${events[@]}" | awk -v t0="$tm0" 'NF == 2 { printf "%s{\"%s\": %.3f}", (n++ ? "," : "["), $1, $2 - t0 } END { print (n ? "]" : "[]") }')" \
		--arg notes "$notes" --arg dir "$R" --slurpfile load "$R/load.json" \
		'{engine: $engine, server: $server, table: $table, method: $method, rows: $rows, run: $rep, wall_s: $wall,
		  load_s: $load_s, table_bytes: $size, blocked_ms: $blocked, client_peak_rss_kib: $rss,
		  events: ($events | add // {}), foreground: $load[0], notes: $notes, dir: $dir}' >"$R/run.json"
	runs+=("$R/run.json")
	printf 'bench: %s %s: %s s%s\n' "$engine" "$method" "$(secs "$tm0" "$tm1")" "${notes:+ ($notes)}" >&2
}

# What the method must have left: the new types (or names), the indexes;
# after godwit verify and cleanup, no table of godwit's and no slot.
check_result() {
	local spec col want specs
	IFS='|' read -r -a specs <<<"$changed"
	case $method in
	bulk_copy) check "rows of ${TABLE}_copy > 0" "$([ "$(count_of "${TABLE}_copy")" -gt 0 ] && echo yes)" yes; return ;;
	pg_repack) ;;
	inplace_rename)
		check "type of $rename_to" "$([ -n "$(type_of "$TABLE" "$rename_to")" ] && echo present)" present
		check "type of $rename_from" "$(type_of "$TABLE" "$rename_from")" "" ;;
	inplace_retype) check "type of $retype_column" "$(type_of "$TABLE" "$retype_column")" \
		"$(for spec in "${specs[@]}"; do [ "${spec%%:*}" != "$retype_column" ] || echo "${spec#*:}"; done)" ;;
	*)
		for spec in "${specs[@]}"; do
			col=${spec%%:*} want=${spec#*:}
			check "type of $col" "$(type_of "$TABLE" "$col")" "$want"
		done ;;
	esac
	check "indexes of $TABLE" "$(indexes_of "$TABLE")" "$want_indexes"
	case $method in
	rebuild_*)
		if [ $VERIFY = 1 ]; then gw verify "$REV" >/dev/null || { note "FAILED: godwit verify"; failed=1; }; fi
		gw cleanup "$REV" >/dev/null || { note "FAILED: godwit cleanup"; failed=1; } ;;
	esac
	check "tables after the run" "$(tables)" "$TABLE"
	check "replication slots after the run" "$(slots)" ""
	if [ $STRICT = 1 ]; then
		case $method in inplace_* | rebuild_*)
			local n
			n=$(jq '.total.errors_total // 0' "$R/load.json" 2>/dev/null || echo 0)
			check "foreground errors during godwit's run" "$n" 0 ;;
		esac
	fi
}

# plot.png: copy progress and foreground statements/s above, latency (p50
# and max per 100 ms) below, seconds from the method's start, phase boundaries marked.
plot_run() {
	local ev name t marks=""
	for ev in "${events[@]}"; do
		read -r name t <<<"$ev"
		[ -n "$t" ] || continue
		marks+=$(awk -v n="$name" -v t="$t" -v t0="$tm0" 'BEGIN {
			x = t - t0; printf "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc rgb \"#666666\"\n", x, x
			printf "set label \"%s\" at %.3f, graph 0.98 rotate by 90 right font \",8\" tc rgb \"#444444\"\n", n, x + 0.05 }')$'\n'
	done
	{
		cat <<EOF
set terminal pngcairo size 1200,800 font ",10" noenhanced
set output "$R/plot.png"
set multiplot layout 2,1 title "$engine, $TABLE, $ROWS rows: $method (foreground $RATE statements/s over $CONNS connections)"
set grid
set key top left
set xlabel "seconds from the start of the method"
$marks
set ylabel "copy progress %"
set yrange [0:105]
set y2label "foreground statements/s"
set y2tics
set y2range [0:$((RATE * 3 / 2))]
set ytics nomirror
EOF
		if [ -s "$R/progress.tsv" ]; then
			printf 'plot "%s" using ($1-%s):2 with lines lw 2 title "progress", "%s" using 1:2 axes x1y2 with steps title "statements/s"\n' \
				"$R/progress.tsv" "$tm0" "$R/latency.tsv"
		else
			printf 'plot "%s" using 1:2 axes x1y2 with steps title "statements/s (no progress reported)"\n' "$R/latency.tsv"
		fi
		cat <<EOF
unset y2label
unset y2tics
set ytics mirror
set ylabel "latency ms (log)"
set logscale y
set yrange [*:*]
plot "$R/latency.tsv" using 1:3 with steps title "p50", "" using 1:6 with steps title "max"
unset multiplot
EOF
	} >"$R/plot.gp"
	gnuplot "$R/plot.gp" 2>"$R/plot.err" || { note "plot failed: $(head -c 200 "$R/plot.err")"; }
}

# overview.png of $RUNDIR: the foreground's worst latency per 100 ms of
# every method's first run, on one time axis from each method's start.
plot_overview() {
	local m f plots=()
	for m in $METHODS; do
		f=$RUNDIR/$m-r1/latency.tsv
		[ ! -s "$f" ] || plots+=("\"$f\" using 1:6 with steps title \"$m\"")
	done
	[ ${#plots[@]} -gt 0 ] || return 0
	{
		cat <<EOF
set terminal pngcairo size 1200,600 font ",10" noenhanced
set output "$RUNDIR/overview.png"
set title "$engine, $TABLE, $ROWS rows: foreground max latency per 100 ms ($RATE statements/s over $CONNS connections)"
set grid
set key outside right
set logscale y
set xlabel "seconds from the start of the method"
set ylabel "latency ms (log)"
EOF
		(IFS=,; printf 'plot %s\n' "${plots[*]}")
	} >"$RUNDIR/overview.gp"
	gnuplot "$RUNDIR/overview.gp" 2>"$RUNDIR/overview.err" ||
		printf 'bench: overview plot failed: %s\n' "$(head -c 200 "$RUNDIR/overview.err")" >&2
}

for ROWS in $ROWS_LIST; do
	for engine in $ENGINES; do
		for TABLE in $TABLES; do
			setup_engine "$engine"
			fresh_db >/dev/null
			server=$(server_version)
			RUNDIR=$OUT/$engine-$TABLE-$ROWS
			mkdir -p "$RUNDIR"
			size0=
			for rep in $(seq 1 "$REPEAT"); do
				for method in $METHODS; do
					case $engine/$method in mysql/pg_repack | postgres/pt_osc) continue ;; esac
					tool=
					case $method in pt_osc) tool=$PT_OSC ;; pg_repack) tool=$PG_REPACK ;; esac
					if [ -n "$tool" ] && ! command -v "$tool" >/dev/null; then
						[ "$rep" != 1 ] || skipped+=("$engine $TABLE $ROWS $method: $tool is not installed")
						printf 'bench: %s %s: skipped, %s is not installed\n' "$engine" "$method" "$tool" >&2
						continue
					fi
					run_method "$rep"
				done
			done
			plot_overview
			drop_db >/dev/null
		done
	done
done

# Every run's record, then the medians per engine, table, rows and method.
{ [ ${#runs[@]} = 0 ] || cat "${runs[@]}"; } | jq -s \
	--arg command "bench/run.sh${ARGS:+ $ARGS}" --arg date "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" \
	--arg cpus "$(nproc)" --arg rate "$RATE" --arg conns "$CONNS" --arg mix "$MIX" \
	--arg baseline "$BASELINE" --arg after "$AFTER" \
	--arg skipped "$( [ ${#skipped[@]} = 0 ] || printf '%s\n' "${skipped[@]}")" \
	-f bench/summary.jq >"$OUT/results.json"
bash bench/report.sh "$OUT/results.json" | tee "$OUT/summary.md"
printf 'bench: results in %s (results.json, summary.md, one directory per run with plot.png)\n' "$OUT" >&2
exit $failed
