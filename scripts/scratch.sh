#!/usr/bin/env bash
# Scratch MariaDB and PostgreSQL servers for the tests, the demo and the bench:
# own data directories under $GW_SCRATCH_DIR, loopback ports, MariaDB with the
# binlog in ROW format and FULL row image, PostgreSQL with wal_level=logical
# (run as the postgres user when invoked as root). Idempotent.
# On demand, for the replica-lag throttling tests: a MariaDB replica (server-id
# 2, seeded by a GTID dump of the primary) and a PostgreSQL streaming standby
# (pg_basebackup), both re-created from the primary each time they start.
#
#   scratch.sh start [mysql|postgres]            start (initialising on first use)
#   scratch.sh stop  [mysql|postgres]            stop what is running, replicas too
#   scratch.sh start-replicas [mysql|postgres]   start replicas of running primaries
#   scratch.sh stop-replicas  [mysql|postgres]   stop and delete the replicas
#   scratch.sh env                               export lines for the test DSNs
#                                                (replica DSNs only when running)
#   scratch.sh status
set -euo pipefail

D=${GW_SCRATCH_DIR:-/tmp/godwit-scratch}
MY_PORT=${GW_MYSQL_PORT:-33061}
PG_PORT=${GW_PG_PORT:-54329}
MY_REPLICA_PORT=${GW_MYSQL_REPLICA_PORT:-$((MY_PORT + 1))}
PG_STANDBY_PORT=${GW_PG_STANDBY_PORT:-$((PG_PORT + 1))}
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

my_running() { # [socket]
	local sock=${1:-$D/mysql.sock}
	[ -S "$sock" ] && mariadb-admin --no-defaults -uroot --socket="$sock" \
		--connect-timeout=2 ping >/dev/null 2>&1
}

wait_for() { # command...: poll it for up to 30 s
	for _ in $(seq 1 120); do
		"$@" && return 0
		sleep 0.25
	done
	return 1
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

pg_running() { # [data directory]
	local dir=${1:-$D/pg}
	[ -f "$dir/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1
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

# The replica's godwit user comes with the dump of the mysql schema: its ALL
# PRIVILEGES include SLAVE MONITOR (SHOW SLAVE STATUS) and REPLICATION SLAVE
# ADMIN (STOP/START SLAVE SQL_THREAD), which the lag tests use.
start_mysql_replica() {
	local sock=$D/mysql-replica.sock
	my_running || die "MariaDB is not running: scratch.sh start mysql"
	[ "$(my_client -Nse 'SELECT @@log_bin AND @@server_id <> 2')" = 1 ] ||
		die "the primary needs --log-bin and a server-id other than 2: restart it"
	if ! my_running "$sock"; then
		command -v mariadbd >/dev/null || PATH=$PATH:/usr/sbin
		local user_opt=()
		[ "$(id -u)" = 0 ] && user_opt=(--user=root)
		log "seeding a MariaDB replica in $D/mysql-replica"
		rm -rf "$D/mysql-replica"
		mkdir -p "$D/mysql-replica"
		mariadb-install-db --no-defaults --datadir="$D/mysql-replica" "${user_opt[@]}" \
			--auth-root-authentication-method=socket --skip-test-db \
			>"$D/mysql-replica-init.log" 2>&1 ||
			{ cat "$D/mysql-replica-init.log" >&2; die "mariadb-install-db failed"; }
		log "starting the MariaDB replica on 127.0.0.1:$MY_REPLICA_PORT"
		setsid mariadbd --no-defaults --datadir="$D/mysql-replica" "${user_opt[@]}" \
			--port="$MY_REPLICA_PORT" --bind-address=127.0.0.1 --socket="$sock" \
			--pid-file="$D/mysql-replica.pid" --log-error="$D/mysql-replica.err" \
			--server-id=2 --read-only --skip-slave-start --relay-log="$D/mysql-replica/relay" \
			--innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
			--skip-name-resolve --character-set-server=utf8mb4 \
			--collation-server=utf8mb4_general_ci </dev/null >/dev/null 2>&1 &
		wait_for my_running "$sock" ||
			{ tail -n 30 "$D/mysql-replica.err" >&2 || true; die "the MariaDB replica did not start"; }
		my_client <<SQL
CREATE USER IF NOT EXISTS 'gw_repl'@'127.0.0.1' IDENTIFIED BY '$PASS';
GRANT REPLICATION SLAVE ON *.* TO 'gw_repl'@'127.0.0.1';
SQL
		# One InnoDB snapshot and its GTID (the dump ends with SET GLOBAL
		# gtid_slave_pos). Tests creating and dropping databases meanwhile
		# would make it inconsistent: a second session holds BACKUP STAGE
		# BLOCK_DDL while it runs (DML goes on), into a file to hold it briefly.
		coproc DDL_LOCK { my_client -N -n --init-command='SET lock_wait_timeout = 30'; }
		echo 'BACKUP STAGE START; BACKUP STAGE BLOCK_DDL; SELECT 1;' >&"${DDL_LOCK[1]}"
		read -r _ <&"${DDL_LOCK[0]}" || die "could not block DDL on the primary"
		mariadb-dump --no-defaults -uroot --socket="$D/mysql.sock" --all-databases \
			--single-transaction --master-data=1 --gtid --routines --events \
			>"$D/mysql-replica.sql" || die "dumping the primary failed"
		printf 'BACKUP STAGE END;\nquit\n' >&"${DDL_LOCK[1]}"
		my_client --socket="$sock" <"$D/mysql-replica.sql" || die "seeding the MariaDB replica failed"
		rm -f "$D/mysql-replica.sql"
		my_client --socket="$sock" <<SQL
FLUSH PRIVILEGES;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PORT, MASTER_USER='gw_repl',
  MASTER_PASSWORD='$PASS', MASTER_USE_GTID=slave_pos;
SQL
	fi
	# Also restarts a SQL thread a test left stopped; returns once caught up.
	my_client --socket="$sock" -e 'START SLAVE'
	local pos
	pos=$(my_client -Nse 'SELECT @@gtid_binlog_pos')
	wait_for my_replicating &&
		[ "$(my_client --socket="$sock" -Nse "SELECT MASTER_GTID_WAIT('$pos', 30)")" = 0 ] ||
		{ my_client --socket="$sock" -e 'SHOW SLAVE STATUS\G' >&2; die "the MariaDB replica is not replicating"; }
}

my_replicating() {
	[ "$(my_client --socket="$D/mysql-replica.sock" -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
		grep -c -E '^ *Slave_(IO|SQL)_Running: Yes$')" = 2 ]
}

stop_mysql_replica() {
	if my_running "$D/mysql-replica.sock"; then
		log "stopping the MariaDB replica"
		mariadb-admin --no-defaults -uroot --socket="$D/mysql-replica.sock" shutdown || true
	fi
	rm -rf "$D/mysql-replica"
}

# A physical standby without a replication slot (nothing retained on the
# primary once it is gone); the godwit role, a superuser, comes with the copy
# and can call pg_wal_replay_pause() and pg_wal_replay_resume().
start_pg_standby() {
	local dir=$D/pg-standby sock=$D/pg-standby-sock
	pg_running || die "PostgreSQL is not running: scratch.sh start postgres"
	if ! pg_running "$dir"; then
		log "cloning a PostgreSQL standby into $dir"
		rm -rf "$dir"
		mkdir -p "$dir" "$sock"
		chmod 700 "$dir"
		[ "$(id -u)" = 0 ] && chown postgres: "$dir" "$sock"
		as_pg env PGPASSWORD="$PASS" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" \
			-U "$USER_NAME" -D "$dir" -R -X stream -c fast >"$sock/basebackup.log" 2>&1 ||
			{ cat "$sock/basebackup.log" >&2; die "pg_basebackup failed"; }
		cat >>"$dir/postgresql.conf" <<CONF
port = $PG_STANDBY_PORT
unix_socket_directories = '$sock'
hot_standby = on
cluster_name = 'gw_standby'
shared_buffers = 64MB
CONF
		log "starting the PostgreSQL standby on 127.0.0.1:$PG_STANDBY_PORT"
		as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$sock/server.log" -w -t 60 start >/dev/null ||
			{ tail -n 30 "$sock/server.log" >&2 || true; die "the PostgreSQL standby did not start"; }
	fi
	# Also resumes a replay a test left paused.
	pg_standby_sql -c 'SELECT pg_wal_replay_resume()' >/dev/null
	wait_for pg_streaming || die "the PostgreSQL standby is not streaming"
}

pg_standby_sql() {
	as_pg "$PGBIN/psql" -h "$D/pg-standby-sock" -p "$PG_STANDBY_PORT" -U postgres -d postgres \
		-qAt -v ON_ERROR_STOP=1 "$@"
}

pg_streaming() {
	[ "$(pg_standby_sql -c "SELECT pg_is_in_recovery() AND status = 'streaming'
		FROM pg_stat_wal_receiver" 2>/dev/null)" = t ]
}

stop_pg_standby() {
	if pg_running "$D/pg-standby"; then
		log "stopping the PostgreSQL standby"
		as_pg "$PGBIN/pg_ctl" -D "$D/pg-standby" -m fast -w stop >/dev/null || true
	fi
	rm -rf "$D/pg-standby"
}

stop_mysql() {
	stop_mysql_replica
	if my_running; then
		log "stopping MariaDB"
		mariadb-admin --no-defaults -uroot --socket="$D/mysql.sock" shutdown || true
	fi
}

stop_postgres() {
	stop_pg_standby
	if pg_running; then
		log "stopping PostgreSQL"
		as_pg "$PGBIN/pg_ctl" -D "$D/pg" -m fast -w stop >/dev/null || true
	fi
}

print_env() {
	echo "export GW_TEST_MYSQL_DSN='mysql://$USER_NAME:$PASS@127.0.0.1:$MY_PORT/$DB'"
	echo "export GW_TEST_PG_DSN='postgresql://$USER_NAME:$PASS@127.0.0.1:$PG_PORT/$DB'"
	my_running "$D/mysql-replica.sock" &&
		echo "export GW_TEST_MYSQL_REPLICA_DSN='mysql://$USER_NAME:$PASS@127.0.0.1:$MY_REPLICA_PORT/$DB'"
	pg_running "$D/pg-standby" &&
		echo "export GW_TEST_PG_STANDBY_DSN='postgresql://$USER_NAME:$PASS@127.0.0.1:$PG_STANDBY_PORT/$DB'"
	echo "export GW_TEST_PASSWORD='$PASS'"
	echo "export GW_SCRATCH_DIR='$D'"
}

cmd=${1:-}
which=${2:-all}
case "$which" in
mysql | postgres | all) ;;
*) die "unknown server '$which'" ;;
esac
both() { # mysql-step postgres-step: run those $which asks for
	[ "$which" = postgres ] || "$1"
	[ "$which" = mysql ] || "$2"
}
case "$cmd" in
start) mkdir -p "$D"; both start_mysql start_postgres ;;
stop) both stop_mysql stop_postgres ;;
start-replicas) both start_mysql_replica start_pg_standby ;;
stop-replicas) both stop_mysql_replica stop_pg_standby ;;
env) print_env ;;
status)
	my_running && echo "mysql: running on 127.0.0.1:$MY_PORT" || echo "mysql: stopped"
	pg_running && echo "postgres: running on 127.0.0.1:$PG_PORT" || echo "postgres: stopped"
	my_running "$D/mysql-replica.sock" && echo "mysql-replica: running on 127.0.0.1:$MY_REPLICA_PORT" ||
		echo "mysql-replica: stopped"
	pg_running "$D/pg-standby" && echo "postgres-standby: running on 127.0.0.1:$PG_STANDBY_PORT" ||
		echo "postgres-standby: stopped"
	;;
*)
	echo "usage: $0 start|stop|start-replicas|stop-replicas [mysql|postgres] | env | status" >&2
	exit 2
	;;
esac
