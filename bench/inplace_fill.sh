#!/usr/bin/env bash
# Throughput of an unthrottled in-place backfill (rename_column) on N rows
# (default 1M) per engine, next to the server's own single UPDATE doing the
# same copy in one statement. Usage: bench/inplace_fill.sh [ROWS] [ENGINES]
# Needs the scratch servers (scripts/scratch.sh start) and a build in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
ENGINES=${2:-mysql postgres}
eval "$(bash scripts/scratch.sh env)"
G=$PWD/${GW_BUILD_DIR:-build}/godwit
D=$GW_SCRATCH_DIR
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GODWIT_MIGRATIONS=$W
cat >"$W/0001_rename.json" <<'EOF2'
{"id": "0001_rename", "parents": [], "message": "rename",
 "operations": [{"rename_column": {"table": "t", "from": "c", "to": "c2"}}]}
EOF2
now() { date +%s.%N; }
for engine in $ENGINES; do
	if [ "$engine" = mysql ]; then
		sql() { mariadb --no-defaults -uroot --socket="$D/mysql.sock" -N gw_bench -e "$1"; }
		mariadb --no-defaults -uroot --socket="$D/mysql.sock" \
			-e "DROP DATABASE IF EXISTS gw_bench; CREATE DATABASE gw_bench"
		make="CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL,
		      pad CHAR(60) NOT NULL); INSERT INTO t SELECT seq, seq % 1000, repeat('c', 120),
		      repeat('p', 60) FROM seq_1_to_$ROWS"
		url=${GW_TEST_MYSQL_DSN%/*}/gw_bench
	else
		sql() { PGPASSWORD=$GW_TEST_PASSWORD PGOPTIONS='-c search_path=public' \
			psql -X -q -At "${GW_TEST_PG_DSN%/*}/gw_bench" -c "$1"; }
		PGPASSWORD=$GW_TEST_PASSWORD psql -X -q "$GW_TEST_PG_DSN" \
			-c "DROP DATABASE IF EXISTS gw_bench" -c "CREATE DATABASE gw_bench" 2>/dev/null
		make="CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL,
		      pad CHAR(60) NOT NULL); INSERT INTO t SELECT g, g % 1000, repeat('c', 120),
		      repeat('p', 60) FROM generate_series(1, $ROWS) g; ANALYZE t"
		url=${GW_TEST_PG_DSN%/*}/gw_bench
	fi
	# Baseline: the server's own one-statement copy into a new column.
	sql "$make"
	sql "ALTER TABLE t ADD COLUMN c2 CHAR(120)"
	t0=$(now); sql "UPDATE t SET c2 = c"; t1=$(now)
	base=$(awk "BEGIN {print $t1 - $t0}")
	sql "DROP TABLE t"
	sql "$make"
	export DATABASE_URL=$url
	"$G" -q init
	"$G" -q expand
	t0=$(now); "$G" -q backfill; t1=$(now)
	fill=$(awk "BEGIN {print $t1 - $t0}")
	awk -v e="$engine" -v n="$ROWS" -v f="$fill" -v b="$base" 'BEGIN {
		printf "%s: %d rows; godwit backfill %.1f s = %.0f rows/s; one UPDATE %.1f s = %.0f rows/s; godwit/UPDATE throughput %.2f\n",
			e, n, f, n / f, b, n / b, b / f }'
done
