#!/usr/bin/env bash
# The demo: install what is missing, build, start scratch MariaDB and
# PostgreSQL servers, and on each make a table of 1M rows (GW_DEMO_ROWS),
# then retype a column online while a writer keeps changing it: expand,
# a chunked backfill with its progress line, a pause and a resume from a
# second process, contract; finally check that every row survived.
# Usage: demo.sh [mysql|postgres]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${GW_DEMO_ROWS:-1000000}
ENGINES=${1:-mysql postgres}
bash scripts/bootstrap.sh
bash scripts/build.sh
bash scripts/scratch.sh start
eval "$(bash scripts/scratch.sh env)"
B=$PWD/${GW_BUILD_DIR:-build}
G=$B/godwit
D=$GW_SCRATCH_DIR
W=$(mktemp -d)
trap 'touch "$W/stop"; rm -rf "$W"' EXIT
export GODWIT_MIGRATIONS=$W/migrations
mkdir -p "$GODWIT_MIGRATIONS"
cat >"$GODWIT_MIGRATIONS/0001_retype_balance.json" <<'EOF'
{"id": "0001_retype_balance", "parents": [],
 "message": "retype accounts.balance from a float to DECIMAL(12,2), online",
 "operations": [{"alter_column": {"table": "accounts", "column": "balance",
   "type": "DECIMAL(12,2)", "up": "CAST(balance AS DECIMAL(12,2))", "down": "balance"}}]}
EOF

step() { printf '\n\033[1m>>> %s\033[0m\n' "$*"; }

for engine in $ENGINES; do
	step "$engine: a fresh database with $ROWS accounts"
	if [ "$engine" = mysql ]; then
		base=$GW_TEST_MYSQL_DSN
		sql() { mariadb --no-defaults -uroot --socket="$D/mysql.sock" -N godwit_demo -e "$1"; }
		mariadb --no-defaults -uroot --socket="$D/mysql.sock" \
			-e "DROP DATABASE IF EXISTS godwit_demo; CREATE DATABASE godwit_demo"
		sql "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL DEFAULT '',
		     balance DOUBLE, KEY idx_accounts_balance (balance));
		     INSERT INTO accounts SELECT seq, concat('user', seq, '@example.com'), seq * 0.25
		     FROM seq_1_to_$ROWS"
	else
		base=$GW_TEST_PG_DSN
		sql() { PGPASSWORD=$GW_TEST_PASSWORD PGOPTIONS='-c search_path=public' \
			psql -X -q -At "${GW_TEST_PG_DSN%/*}/godwit_demo" -c "$1"; }
		PGPASSWORD=$GW_TEST_PASSWORD psql -X -q "$GW_TEST_PG_DSN" \
			-c "DROP DATABASE IF EXISTS godwit_demo" -c "CREATE DATABASE godwit_demo" 2>/dev/null
		sql "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL DEFAULT '',
		     balance DOUBLE PRECISION); CREATE INDEX idx_accounts_balance ON accounts (balance);
		     INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g * 0.25
		     FROM generate_series(1, $ROWS) g; ANALYZE accounts"
	fi
	export DATABASE_URL="${base%/*}/godwit_demo"
	"$G" init

	step "the application keeps writing accounts.balance (200 writes/s) during the whole migration"
	rm -f "$W/stop"
	"$B/tests/gw_writer" run --url "$DATABASE_URL" --table accounts --column balance \
		--partition 0/2 --rows "$ROWS" --rate 200 --stop-file "$W/stop" --seconds 3600 \
		--state "$W/writer.state" >"$W/writer.out" 2>&1 &
	writer=$!

	step "godwit plan, then expand: the new column and the triggers that keep both in sync"
	"$G" plan
	"$G" expand

	step "godwit backfill, in chunks; paused from another process after 3 s, resumed 4 s later"
	"$G" backfill &
	fill=$!
	sleep 3
	"$G" pause 0001_retype_balance
	sleep 2
	"$G" status
	sleep 2
	"$G" resume 0001_retype_balance
	wait $fill

	step "godwit contract: the new column takes the old one's name, index and place"
	"$G" contract
	touch "$W/stop"
	wait $writer || true
	cat "$W/writer.out"

	step "every row survived"
	"$B/tests/gw_writer" verify --url "$DATABASE_URL" --table accounts --column balance \
		--state "$W/writer.state"
	echo "rows the writer never touched that changed: $(sql "SELECT count(*) FROM accounts
	      WHERE id <= $ROWS AND id % 2 = 1 AND balance <> id * 0.25")"
	echo "untouched rows present: $(sql "SELECT count(*) FROM accounts WHERE id <= $ROWS AND id % 2 = 1") of $(((ROWS + 1) / 2))"
	"$G" status
	"$G" history --verbose
done
