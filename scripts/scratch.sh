#!/usr/bin/env bash
# Scratch MariaDB and PostgreSQL servers for the tests, the demo and the bench:
# own data directories under $GW_SCRATCH_DIR, loopback ports, MariaDB with the
# binlog in ROW format and FULL row image, PostgreSQL with wal_level=logical
# (run as the postgres user when invoked as root). Idempotent.
#
#   scratch.sh start [mysql|postgres]   start (initialising on first use)
#   scratch.sh stop  [mysql|postgres]   stop what is running
#   scratch.sh env                      print export lines for the test DSNs
#   scratch.sh status
set -euo pipefail

D=${GW_SCRATCH_DIR:-/tmp/godwit-scratch}
MY_PORT=${GW_MYSQL_PORT:-33061}
PG_PORT=${GW_PG_PORT:-54329}
USER_NAME=godwit
# A throw-away password for a loopback-only scratch server; tests check it
# never appears in godwit's output.
PASS=${GW_SCRATCH_PASSWORD:-gw-Scratch-pw-7}
DB=godwit_test
PGBIN=${GW_PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

log() { printf 'scratch: %s\n' "$*" >&2; }
die() { printf 'scratch: error: %s\n' "$*" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

my_client() {
	mariadb --no-defaults -uroot --socket="$D/mysql.sock" "$@"
}

my_running() {
	[ -S "$D/mysql.sock" ] && mariadb-admin --no-defaults -uroot --socket="$D/mysql.sock" \
		--connect-timeout=2 ping >/dev/null 2>&1
}

start_mysql() {
	command -v mariadbd >/dev/null || PATH=$PATH:/usr/sbin
	command -v mariadbd >/dev/null || die "mariadbd not found: run scripts/bootstrap.sh"
	if my_running; then
		return 0
	fi
	local user_opt=()
	[ "$(id -u)" = 0 ] && user_opt=(--user=root)
	if [ ! -d "$D/mysql/mysql" ]; then
		log "initialising MariaDB in $D/mysql"
		rm -rf "$D/mysql"
		mkdir -p "$D/mysql"
		mariadb-install-db --no-defaults --datadir="$D/mysql" "${user_opt[@]}" \
			--auth-root-authentication-method=socket --skip-test-db \
			>"$D/mysql-init.log" 2>&1 || { cat "$D/mysql-init.log" >&2; die "mariadb-install-db failed"; }
	fi
	log "starting MariaDB on 127.0.0.1:$MY_PORT"
	setsid mariadbd --no-defaults --datadir="$D/mysql" "${user_opt[@]}" \
		--port="$MY_PORT" --bind-address=127.0.0.1 --socket="$D/mysql.sock" \
		--pid-file="$D/mysql.pid" --log-error="$D/mysql.err" \
		--server-id=1 --log-bin="$D/mysql/binlog" --binlog-format=ROW \
		--binlog-row-image=FULL --expire-logs-days=1 \
		--innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 \
		--sync-binlog=0 --skip-name-resolve --max-connections=500 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 1 120); do
		my_running && break
		sleep 0.25
	done
	my_running || { tail -n 30 "$D/mysql.err" >&2 || true; die "MariaDB did not start"; }
	my_client <<SQL
CREATE USER IF NOT EXISTS '$USER_NAME'@'127.0.0.1' IDENTIFIED BY '$PASS';
CREATE USER IF NOT EXISTS '$USER_NAME'@'localhost' IDENTIFIED BY '$PASS';
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS $DB;
SQL
}

pg_running() {
	[ -f "$D/pg/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$D/pg" status >/dev/null 2>&1
}

start_postgres() {
	[ -x "$PGBIN/postgres" ] || die "PostgreSQL server binaries not found: run scripts/bootstrap.sh"
	mkdir -p "$D"
	chmod 755 "$D"
	if pg_running; then
		return 0
	fi
	if [ ! -f "$D/pg/PG_VERSION" ]; then
		log "initialising PostgreSQL in $D/pg"
		rm -rf "$D/pg"
		mkdir -p "$D/pg" "$D/pgsock"
		[ "$(id -u)" = 0 ] && chown postgres: "$D/pg" "$D/pgsock"
		as_pg "$PGBIN/initdb" -D "$D/pg" -U postgres --auth-local=trust \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$D/pg-init.log" 2>&1 ||
			as_pg "$PGBIN/initdb" -D "$D/pg" -U postgres --auth-local=trust \
				--auth-host=scram-sha-256 -E UTF8 >"$D/pg-init.log" 2>&1 ||
			{ cat "$D/pg-init.log" >&2; die "initdb failed"; }
		cat >>"$D/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$D/pgsock'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
CONF
		echo "host replication all 127.0.0.1/32 scram-sha-256" >>"$D/pg/pg_hba.conf"
	fi
	log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
	as_pg "$PGBIN/pg_ctl" -D "$D/pg" -l "$D/pgsock/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 30 "$D/pgsock/server.log" >&2 || true; die "PostgreSQL did not start"; }
	as_pg "$PGBIN/psql" -h "$D/pgsock" -p "$PG_PORT" -U postgres -d postgres -qAt \
		-v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$USER_NAME') THEN
    CREATE ROLE $USER_NAME LOGIN SUPERUSER REPLICATION PASSWORD '$PASS';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $DB OWNER $USER_NAME'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB')\gexec
SQL
}

stop_mysql() {
	if my_running; then
		log "stopping MariaDB"
		mariadb-admin --no-defaults -uroot --socket="$D/mysql.sock" shutdown || true
	fi
}

stop_postgres() {
	if pg_running; then
		log "stopping PostgreSQL"
		as_pg "$PGBIN/pg_ctl" -D "$D/pg" -m fast -w stop >/dev/null || true
	fi
}

print_env() {
	echo "export GW_TEST_MYSQL_DSN='mysql://$USER_NAME:$PASS@127.0.0.1:$MY_PORT/$DB'"
	echo "export GW_TEST_PG_DSN='postgresql://$USER_NAME:$PASS@127.0.0.1:$PG_PORT/$DB'"
	echo "export GW_TEST_PASSWORD='$PASS'"
	echo "export GW_SCRATCH_DIR='$D'"
}

cmd=${1:-}
which=${2:-all}
case "$cmd" in
start)
	mkdir -p "$D"
	case "$which" in
	mysql) start_mysql ;;
	postgres) start_postgres ;;
	all) start_mysql; start_postgres ;;
	*) die "unknown server '$which'" ;;
	esac
	;;
stop)
	case "$which" in
	mysql) stop_mysql ;;
	postgres) stop_postgres ;;
	all) stop_mysql; stop_postgres ;;
	*) die "unknown server '$which'" ;;
	esac
	;;
env) print_env ;;
status)
	my_running && echo "mysql: running on 127.0.0.1:$MY_PORT" || echo "mysql: stopped"
	pg_running && echo "postgres: running on 127.0.0.1:$PG_PORT" || echo "postgres: stopped"
	;;
*)
	echo "usage: $0 start|stop [mysql|postgres] | env | status" >&2
	exit 2
	;;
esac
