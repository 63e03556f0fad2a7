# Shared helpers for the shell integration tests. Source it, then call
# it_init ENGINE NAME: it skips (exit 77) when the engine's DSN variable is
# unset, fails when the server is unreachable, and creates a fresh database
# gw_it_NAME with DATABASE_URL pointing at it.
set -u

IT_PASS=0
IT_FAIL=0
GODWIT=${GODWIT:-godwit}
SRC=${GW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

it_init() {
	ENGINE=$1
	local var dsn re='^([a-z+]+)://([^:@/]+):([^@/]*)@([^:/]+):([0-9]+)/(.*)$'
	case "$ENGINE" in
	mysql) var=GW_TEST_MYSQL_DSN ;;
	postgres) var=GW_TEST_PG_DSN ;;
	*) echo "unknown engine '$ENGINE'" >&2; exit 2 ;;
	esac
	dsn=${!var:-}
	if [ -z "$dsn" ]; then
		echo "skipped: $var not set"
		exit 77
	fi
	[[ $dsn =~ $re ]] || { echo "cannot parse $var" >&2; exit 1; }
	DB_SCHEME=${BASH_REMATCH[1]}
	DB_USER=${BASH_REMATCH[2]}
	DB_PASS=${BASH_REMATCH[3]}
	DB_HOST=${BASH_REMATCH[4]}
	DB_PORT=${BASH_REMATCH[5]}
	DB_NAME=gw_it_$2
	# the same script run with replication capture gets a database of its own
	[ "${GW_CAPTURE:-triggers}" = triggers ] || DB_NAME=${DB_NAME}_$GW_CAPTURE
	T=$(mktemp -d)
	trap 'rm -rf "$T"' EXIT
	admin "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || { echo "server unreachable" >&2; exit 1; }
	admin "CREATE DATABASE $DB_NAME" >/dev/null || exit 1
	export DATABASE_URL="$DB_SCHEME://$DB_USER:$DB_PASS@$DB_HOST:$DB_PORT/$DB_NAME"
	unset GODWIT_DATABASE_URL
}

# SQL against the server's default database (create/drop databases).
admin() {
	if [ "$ENGINE" = mysql ]; then
		MYSQL_PWD=$DB_PASS mariadb --no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -B -e "$1"
	else
		PGPASSWORD=$DB_PASS psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres \
			-v ON_ERROR_STOP=1 -At -c "$1"
	fi
}

# SQL against the test database; rows tab-separated, no headers.
q() {
	if [ "$ENGINE" = mysql ]; then
		MYSQL_PWD=$DB_PASS mariadb --no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -B \
			"$DB_NAME" -e "$1"
	else
		# The role is named godwit like the state store's schema: keep tables in public.
		PGOPTIONS='-c search_path=public' PGPASSWORD=$DB_PASS psql -X -q -h "$DB_HOST" \
			-p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -v ON_ERROR_STOP=1 -At -F $'\t' -c "$1"
	fi
}

# Whole database (schema, data, state store) as text, for before/after comparisons.
dump() {
	if [ "$ENGINE" = mysql ]; then
		MYSQL_PWD=$DB_PASS mariadb-dump --no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" \
			--skip-comments --skip-dump-date --order-by-primary "$DB_NAME"
	else
		PGPASSWORD=$DB_PASS pg_dump -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -O -x "$DB_NAME" |
			grep -v '^\\\(un\)\?restrict '
	fi
}

# Columns of a table as "name type nullable" lines, through information_schema.
columns() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT column_name, column_type, is_nullable FROM information_schema.columns
		   WHERE table_schema = DATABASE() AND table_name = '$1' ORDER BY ordinal_position"
	else
		q "SELECT column_name, format_type(atttypid, atttypmod), CASE WHEN attnotnull THEN 'NO' ELSE 'YES' END
		   FROM information_schema.columns c JOIN pg_attribute a
		     ON a.attrelid = ('public.' || quote_ident('$1'))::regclass AND a.attname = c.column_name
		   WHERE c.table_schema = 'public' AND c.table_name = '$1' ORDER BY ordinal_position"
	fi
}

# Base tables of the test database, one per line, sorted (godwit's own excluded).
tables() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()
		   AND table_name NOT LIKE 'godwit\\_%' ORDER BY table_name"
	else
		q "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
	fi
}

indexes() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE()
		   AND table_name = '$1' AND index_name <> 'PRIMARY' ORDER BY index_name"
	else
		q "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = '$1'
		   AND indexname NOT LIKE '%_pkey' ORDER BY indexname"
	fi
}

pass() { IT_PASS=$((IT_PASS + 1)); }
fail() {
	IT_FAIL=$((IT_FAIL + 1))
	echo "FAIL: $*" >&2
}

# gw EXPECTED_RC ARGS...: run godwit, keep its output in $OUT, check the exit
# status and that the password never appears in what it printed.
gw() {
	local want=$1 rc
	shift
	OUT=$("$GODWIT" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "godwit $* exited $rc, expected $want; output:"$'\n'"$OUT"
	else
		pass
	fi
	if [ -n "$DB_PASS" ] && [[ $OUT == *"$DB_PASS"* ]]; then
		fail "godwit $* printed the password"
	fi
}

# expect_out TEXT: the last godwit output contains TEXT.
expect_out() {
	if [[ $OUT == *"$1"* ]]; then
		pass
	else
		fail "expected output to contain '$1'; got:"$'\n'"$OUT"
	fi
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass
	else
		fail "$1: expected"$'\n'"$3"$'\n'"got"$'\n'"$2"
	fi
}

it_done() {
	echo "$IT_PASS passed, $IT_FAIL failed"
	admin "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || true
	[ "$IT_FAIL" = 0 ]
}

# rebuild_migration ID PARENT TABLE MYSQL_ALTER PG_ALTER [CHUNK_MS]: a
# rebuild_table migration file in $M (PARENT may be empty), captured as
# GW_CAPTURE says (triggers by default, or replication).
rebuild_migration() {
	local alter=$4 parents=
	[ "$ENGINE" = postgres ] && alter=$5
	[ -n "$2" ] && parents="\"$2\""
	cat >"$M/$1.json" <<EOF
{"id": "$1", "parents": [$parents], "message": "rebuild $3",
 "operations": [{"rebuild_table": {"table": "$3", "alter": "$alter"}}],
 "options": {"chunk_time_ms": ${6:-50}, "capture": "${GW_CAPTURE:-triggers}"}}
EOF
}

# Leftovers of godwit in the test database: tables (shadow and old copies),
# indexes, columns, triggers, functions and constraints named _gw_..., and
# any trigger or routine at all (the test tables have none of their own).
leftovers() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()
		     AND table_name LIKE '\\_gw\\_%'
		   UNION ALL SELECT column_name FROM information_schema.columns
		     WHERE table_schema = DATABASE() AND column_name LIKE '\\_gw\\_%'
		   UNION ALL SELECT index_name FROM information_schema.statistics
		     WHERE table_schema = DATABASE() AND index_name LIKE '\\_gw\\_%'
		   UNION ALL SELECT trigger_name FROM information_schema.triggers
		     WHERE trigger_schema = DATABASE()
		   UNION ALL SELECT routine_name FROM information_schema.routines
		     WHERE routine_schema = DATABASE()"
	else
		q "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		     WHERE n.nspname = 'public' AND relname LIKE '\\_gw\\_%'
		   UNION ALL SELECT attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		     JOIN pg_namespace n ON n.oid = c.relnamespace
		     WHERE n.nspname = 'public' AND attname LIKE '\\_gw\\_%' AND NOT attisdropped
		   UNION ALL SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
		   UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE '\\_gw\\_%'
		   UNION ALL SELECT conname FROM pg_constraint WHERE conname LIKE '\\_gw\\_%'
		   UNION ALL SELECT pubname FROM pg_publication WHERE pubname LIKE '\\_gw\\_%'
		   UNION ALL SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'godwit\\_%'
		     AND database = current_database()"
	fi
}
