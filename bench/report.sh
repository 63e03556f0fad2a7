#!/usr/bin/env bash
# The markdown summary of a bench/run.sh results.json: bench/report.sh FILE
set -euo pipefail
[ $# = 1 ] && [ -r "$1" ] || { echo "usage: bench/report.sh RESULTS.json" >&2; exit 2; }
jq -r '
def n($d): if . == null then "–" else ((. * pow(10; $d) | round) / pow(10; $d) | tostring) end;
def rank: . as $m | ["bulk_copy", "native_alter", "pt_osc", "pg_repack", "inplace_rename", "inplace_retype",
	"rebuild_triggers", "rebuild_replication", "rebuild_triggers_unthrottled",
	"rebuild_replication_unthrottled"] | index([$m]) // 99;
def lat: [.p50, .p95, .p99, .max] | map(n(1)) | join(" / ");
def title: {bulk_copy: "bulk copy (INSERT … SELECT)", native_alter: "native ALTER (blocking)",
	pt_osc: "pt-online-schema-change", pg_repack: "pg_repack (rebuild only)",
	inplace_rename: "godwit in place: rename", inplace_retype: "godwit in place: retype",
	rebuild_triggers: "godwit rebuild, triggers", rebuild_replication: "godwit rebuild, replication",
	rebuild_triggers_unthrottled: "godwit rebuild, triggers, unthrottled",
	rebuild_replication_unthrottled: "godwit rebuild, replication, unthrottled"}[.] // .;
"# godwit bench: \(.date)",
"",
"Command: `\(.command)`; \(.cpus) CPUs. Foreground: \(.foreground.rate) statements/s over \(.foreground.connections) connections, open loop (gw_load), mix \(.foreground.mix); baseline \(.foreground.baseline_s) s before each method, after window \(.foreground.after_s) s.",
(if (.skipped | length) > 0 then "\nSkipped (never faked): " + (.skipped | join("; ")) + "." else empty end),
"",
"## Tables",
"",
"| engine | server | table | rows | size on disk MiB | generated in s |",
"|---|---|---|---:|---:|---:|",
(.results | group_by([.engine, .table, .rows])[] | .[0]
	| "| \(.engine) | \(.server // "") | \(.table) | \(.rows) | \(if .table_bytes then (.table_bytes / 1048576) else null end | n(1)) | \(.load_s | n(1)) |"),
"",
"## Methods",
"",
"Wall time of the method alone (medians over runs); ratios are wall ÷ wall of the bulk copy and of the native ALTER in the same run; latencies in ms as p50 / p95 / p99 / max of the foreground statements whose intended start fell in the window; blocked: the write block at cut-over godwit logged (native ALTER: all of it).",
"",
"| engine | table | rows | method | runs | wall s | rows/s | ÷ bulk copy | ÷ native ALTER | baseline | during | backfill | after | errors | blocked ms | writes max during ms | client peak RSS MiB | note |",
"|---|---|---:|---|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---|",
(.results | sort_by(.engine, .table, .rows, (.method | rank))[]
	| "| \(.engine) | \(.table) | \(.rows) | \(.method | title) | \(.runs) | \(.wall_s | n(2)) | \(.rows_per_s | n(0)) | \(.wall_vs_bulk_copy | n(2)) | \(.wall_vs_native_alter | n(2)) | \(.foreground.baseline | lat) | \(.foreground.during | lat) | \(if .foreground.backfill.n then (.foreground.backfill | lat) else "" end) | \(.foreground.after | lat) | \(.errors)\(if (.error_kinds | length) > 0 then " (" + (.error_kinds | to_entries | map("\(.key) \(.value)") | join(", ")) + ")" else "" end) | \(.blocked_ms | n(0)) | \(.foreground.during.writes_max | n(1)) | \(if .client_peak_rss_kib then .client_peak_rss_kib / 1024 else null end | n(1)) | \(.notes) |"),
"",
"## Targets",
"",
"Issue 7, per rebuild: wall ≤ 1.2 × the native ALTER and below pt-online-schema-change / pg_repack; foreground p99 during the backfill ≤ 2 × the baseline p99; no foreground error; writes blocked at cut-over < 100 ms.",
"",
"| engine | table | rows | method | wall s (copy + verify) | ÷ native ALTER | ÷ pt-osc / pg_repack | backfill p99 ÷ baseline p99 | errors | blocked ms |",
"|---|---|---:|---|---|---:|---:|---:|---:|---:|",
(.results as $all | $all | sort_by(.engine, .table, .rows, (.method | rank))[] | select(.method | startswith("rebuild_")) | . as $r
	| ($all | map(select(.engine == $r.engine and .table == $r.table and .rows == $r.rows
		and (.method == "pt_osc" or .method == "pg_repack"))) | .[0].wall_s) as $tool
	| "| \(.engine) | \(.table) | \(.rows) | \(.method | title) | \(.wall_s | n(1)) (\(.copy_s | n(1)) + \(.verify_s | n(1))) | \(.wall_vs_native_alter | n(2)) | \(if $tool and .wall_s then .wall_s / $tool else null end | n(2)) | \(if .foreground.backfill.p99 and .foreground.baseline.p99 then .foreground.backfill.p99 / .foreground.baseline.p99 else null end | n(2)) | \(.errors) | \(.blocked_ms | n(0)) |"),
"",
"## Peak memory by table size",
"",
"| engine | table | method | rows: client peak RSS MiB | largest ÷ smallest |",
"|---|---|---|---|---:|",
(.results | group_by([.engine, .table, .method])[] | select(length > 1) | sort_by(.rows)
	| map(select(.client_peak_rss_kib)) | select(length > 1)
	| "| \(.[0].engine) | \(.[0].table) | \(.[0].method | title) | \(map("\(.rows): \(.client_peak_rss_kib / 1024 | n(1))") | join(", ")) | \((map(.client_peak_rss_kib) | max) / (map(.client_peak_rss_kib) | min) | n(2)) |"),
"",
"## Plots",
"",
"Per engine, table and rows, the foreground latency of every method on one axis:",
"",
(.results | group_by([.engine, .table, .rows])[] | .[0]
	| "- \(.engine) \(.table) \(.rows): \(.plots[0] | sub("/[^/]*/plot.png$"; "/overview.png"))"),
"",
"Per run, copy progress and foreground latency with the phase boundaries and the cut-over:",
"",
(.results | sort_by(.engine, .table, .rows, (.method | rank))[] | "- \(.engine) \(.table) \(.rows) \(.method): \(.plots | join(", "))")
' "$1"
