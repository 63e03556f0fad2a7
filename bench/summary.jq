# jq -s: the run.json records of one bench/run.sh invocation in, its
# results.json out: the runs, and per engine, table, row count and method
# the medians over the runs, with the ratios to the bulk copy and to the
# native ALTER of the same engine, table and row count.
def median: map(select(. != null)) | sort
	| if length == 0 then null
	  elif length % 2 == 1 then .[length / 2 | floor]
	  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def window($w): .foreground.windows[$w] // {};
def pick($w; $f): map(window($w)[$f]) | median;

. as $runs
| ($runs | group_by([.engine, .table, .rows, .method]) | map(. as $rs |
	{engine: .[0].engine, server: .[0].server, table: .[0].table, rows: .[0].rows, method: .[0].method,
	 runs: length,
	 wall_s: (map(.wall_s) | median),
	 wall_s_runs: map(.wall_s),
	 table_bytes: (map(.table_bytes) | median),
	 load_s: (map(.load_s) | median),
	 blocked_ms: (map(.blocked_ms) | median),
	 # godwit's backfill: the copy (to the verify) and the verify (to the contract)
	 copy_s: (map(.events | if .backfill and .verify then .verify - .backfill else null end) | median),
	 verify_s: (map(.events | if .verify and .contract then .contract - .verify else null end) | median),
	 client_peak_rss_kib: (map(.client_peak_rss_kib) | max),
	 foreground: ([ "baseline", "during", "backfill", "contract", "after" ] | map(. as $w
		| {key: $w, value: ($rs | {
			seconds: pick($w; "seconds"), n: pick($w; "n"),
			p50: pick($w; "p50"), p95: pick($w; "p95"), p99: pick($w; "p99"), max: pick($w; "max"),
			writes_p99: map(window($w).writes.p99) | median,
			writes_max: map(window($w).writes.max) | median,
			errors: (map(window($w).errors_total // 0) | add)})})
		| from_entries),
	 errors: (map(.foreground.total.errors_total // 0) | add),
	 error_kinds: (map(.foreground.total.errors // {}) | reduce .[] as $e ({};
		reduce ($e | to_entries[]) as $k (.; .[$k.key] += $k.value))),
	 due_not_started: (map(.foreground.due_not_started // 0) | add),
	 notes: (map(.notes | select(. != "")) | unique | join("; ")),
	 plots: map(.dir + "/plot.png")}
)) as $groups
| def base($g; $m): ($groups | map(select(.engine == $g.engine and .table == $g.table
	and .rows == $g.rows and .method == $m)) | .[0].wall_s);
{command: $command, date: $date, cpus: ($cpus | tonumber),
 foreground: {rate: ($rate | tonumber), connections: ($conns | tonumber), mix: $mix,
	      baseline_s: ($baseline | tonumber), after_s: ($after | tonumber)},
 skipped: ($skipped | split("\n") | map(select(. != ""))),
 results: ($groups | map(. + {
	rows_per_s: (if .wall_s and .wall_s > 0 then .rows / .wall_s else null end),
	wall_vs_bulk_copy: (base(.; "bulk_copy") as $b | if $b and .wall_s then .wall_s / $b else null end),
	wall_vs_native_alter: (base(.; "native_alter") as $b | if $b and .wall_s then .wall_s / $b else null end)})),
 runs: $runs}
