#!/usr/bin/env bash
# The demo: install what is missing, build, start scratch MariaDB and
# PostgreSQL servers, apply the example chain (examples/migrations) to a
# fresh database on each engine with rows written in between, then show
# current, history and status, and roll one migration back and forth.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/build.sh
bash scripts/scratch.sh start
eval "$(bash scripts/scratch.sh env)"
G=$PWD/${GW_BUILD_DIR:-build}/godwit
export GODWIT_MIGRATIONS=$PWD/examples/migrations
D=$GW_SCRATCH_DIR

for engine in mysql postgres; do
	echo
	echo "=== $engine ==="
	if [ "$engine" = mysql ]; then
		base=$GW_TEST_MYSQL_DSN
		sql() { mariadb --no-defaults -uroot --socket="$D/mysql.sock" godwit_demo -e "$1"; }
		mariadb --no-defaults -uroot --socket="$D/mysql.sock" \
			-e "DROP DATABASE IF EXISTS godwit_demo; CREATE DATABASE godwit_demo"
	else
		base=$GW_TEST_PG_DSN
		sql() { PGPASSWORD=$GW_TEST_PASSWORD psql -X -q "${GW_TEST_PG_DSN%/*}/godwit_demo" -c "$1"; }
		PGPASSWORD=$GW_TEST_PASSWORD psql -X -q "$GW_TEST_PG_DSN" \
			-c "DROP DATABASE IF EXISTS godwit_demo" -c "CREATE DATABASE godwit_demo" 2>/dev/null
	fi
	export DATABASE_URL="${base%/*}/godwit_demo"
	set -x
	"$G" init
	"$G" up 0002_users
	{ set +x; } 2>/dev/null
	sql "INSERT INTO users (email, balance) VALUES ('ada@example.com', 10.25), ('bob@example.com', NULL)"
	set -x
	"$G" plan
	"$G" start
	"$G" status
	"$G" complete
	"$G" current
	"$G" history --verbose
	"$G" down -1
	"$G" up
	{ set +x; } 2>/dev/null
	sql "SELECT id, email_address, balance, status FROM users ORDER BY id"
done
