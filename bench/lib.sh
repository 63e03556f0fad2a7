# Shared by bench/rebuild.sh and bench/capture.sh (sourced, not run): the
# sysbench-style table t of $ROWS rows and the engine-specific SQL around it,
# in database $BENCH_DB (default gw_bench), plus small helpers. Needs D (the
# scratch directory) and the GW_TEST_* variables of scripts/scratch.sh env.

BENCH_DB=${BENCH_DB:-gw_bench}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# Median of the numbers given as arguments ("" if none).
median() {
	[ $# -gt 0 ] || { echo ""; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Sum of every "writes were blocked for N ms" in a godwit log ("" if none).
blocked_ms() {
	grep -o 'writes were blocked for [0-9.]* ms' "$1" | awk '{ s += $5; n++ }
		END { if (n) print s }' || true
}
# The last "copied 'T' (N s)" / "verified 'T' (N s)" of a godwit log, in
# seconds (0.1 s resolution; "" if none).
copy_s() { sed -n "s/.*: copied '.*' (\([0-9.]*\) s)\$/\1/p" "$1" | tail -n 1; }
verify_s() { sed -n "s/.*: verified '.*' (\([0-9.]*\) s)\$/\1/p" "$1" | tail -n 1; }

# Sets sql, server, drop_db, fresh_db, make_t, size_of, checksum_of,
# count_of, type_of_c, indexes_of, tables, slots, drop_slots, server_version
# and the engine's statements
# and expected results for engine $1. The text columns are deterministic md5
# text, different on every row and identical on both engines; k is a
# multiplicative hash of the id into 0..ROWS. The secondary index is built
# after the load, as sysbench's prepare does; k and pad have defaults, as in
# sysbench, so that a writer may insert (id, c) only. MariaDB loads with the
# binlog off for the session: the load is setup, not measured.
setup_engine() {
	engine=$1
	if [ "$engine" = mysql ]; then
		sql() { mariadb --no-defaults -uroot --socket="$D/mysql.sock" -N -B "$BENCH_DB" -e "$1"; }
		server() { mariadb --no-defaults -uroot --socket="$D/mysql.sock" -e "$1"; }
		drop_db() { server "DROP DATABASE IF EXISTS $BENCH_DB"; }
		fresh_db() { server "DROP DATABASE IF EXISTS $BENCH_DB; CREATE DATABASE $BENCH_DB"; }
		make_t() {
			sql "SET SESSION sql_log_bin = 0;
			     CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL DEFAULT 0,
			     c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL DEFAULT '') ENGINE=InnoDB;
			     INSERT INTO t SELECT seq, (seq * 2654435761) % ($ROWS + 1),
			       LEFT(CONCAT(MD5(CONCAT('c', seq)), MD5(CONCAT('d', seq)),
			                   MD5(CONCAT('e', seq)), MD5(CONCAT('f', seq))), 120),
			       LEFT(CONCAT(MD5(CONCAT('p', seq)), MD5(CONCAT('q', seq))), 60)
			     FROM seq_1_to_$ROWS;
			     CREATE INDEX k_1 ON t (k)"
			sql "ANALYZE TABLE t" >/dev/null
		}
		size_of() {
			sql "ANALYZE TABLE $1" >/dev/null
			sql "SELECT data_length + index_length FROM information_schema.tables
			     WHERE table_schema = '$BENCH_DB' AND table_name = '$1'"
		}
		checksum_of() { sql "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, k, c, pad))) FROM $1"; }
		count_of() { sql "SELECT COUNT(*) FROM $1"; }
		type_of_c() {
			sql "SELECT column_type FROM information_schema.columns WHERE table_schema = '$BENCH_DB'
			     AND table_name = '$1' AND column_name = 'c'"
		}
		indexes_of() {
			sql "SELECT GROUP_CONCAT(DISTINCT index_name ORDER BY index_name) FROM
			     information_schema.statistics WHERE table_schema = '$BENCH_DB' AND table_name = '$1'"
		}
		tables() {
			sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables
			     WHERE table_schema = '$BENCH_DB' AND table_name NOT LIKE 'godwit\\_%'"
		}
		bulk_twin="CREATE TABLE t_copy LIKE t"
		native_alter="ALTER TABLE t MODIFY c VARCHAR(200) NOT NULL, ALGORITHM=COPY"
		native_label="native ALTER (ALGORITHM=COPY)"
		gw_alter="MODIFY c VARCHAR(200) NOT NULL"
		want_type="varchar(200)"
		want_indexes="k_1,PRIMARY" # GROUP_CONCAT order: case-insensitive
		server_version() { sql "SELECT CONCAT('MariaDB ', VERSION())"; }
		slots() { :; } # the binlog needs no server-side object
		drop_slots() { :; }
		url=${GW_TEST_MYSQL_DSN%/*}/$BENCH_DB
	else
		sql() {
			PGPASSWORD=$GW_TEST_PASSWORD PGOPTIONS='-c search_path=public -c client_min_messages=warning' \
				psql -X -q -At -v ON_ERROR_STOP=1 "${GW_TEST_PG_DSN%/*}/$BENCH_DB" -c "$1"
		}
		server() {
			PGPASSWORD=$GW_TEST_PASSWORD PGOPTIONS='-c client_min_messages=warning' \
				psql -X -q -v ON_ERROR_STOP=1 "$GW_TEST_PG_DSN" "$@"
		}
		# Logical replication slots of the database (a slot left behind keeps
		# WAL and blocks DROP DATABASE): listed, and dropped when inactive.
		slots() {
			server -At -c "SELECT string_agg(slot_name || CASE WHEN active THEN ' (active)'
			     ELSE '' END, ',' ORDER BY slot_name) FROM pg_replication_slots
			     WHERE database = '$BENCH_DB'"
		}
		drop_slots() {
			server -At -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			     WHERE database = '$BENCH_DB' AND NOT active" >/dev/null
		}
		drop_db() { drop_slots; server -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"; }
		fresh_db() { drop_db; server -c "CREATE DATABASE $BENCH_DB"; }
		make_t() {
			sql "CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL DEFAULT 0,
			     c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL DEFAULT '');
			     INSERT INTO t SELECT g, (g * 2654435761) % ($ROWS + 1),
			       left(md5('c' || g) || md5('d' || g) || md5('e' || g) || md5('f' || g), 120),
			       left(md5('p' || g) || md5('q' || g), 60)
			     FROM generate_series(1, $ROWS) g;
			     CREATE INDEX k_1 ON t (k)"
			# Hint bits and the visibility map set now, so no later
			# measurement pays for the first full read.
			sql "VACUUM (FREEZE, ANALYZE) t"
		}
		size_of() { sql "SELECT pg_total_relation_size('$1')"; }
		checksum_of() {
			sql "SELECT count(*) || ' ' || sum(hashtext(concat_ws('|', id, k, c, pad))::bigint) FROM $1"
		}
		count_of() { sql "SELECT count(*) FROM $1"; }
		type_of_c() {
			sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
			     WHERE attrelid = '$1'::regclass AND attname = 'c'"
		}
		indexes_of() {
			sql "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text)
			     FROM pg_index WHERE indrelid = '$1'::regclass"
		}
		tables() {
			sql "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
			     WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
		}
		bulk_twin="CREATE TABLE t_copy (LIKE t INCLUDING ALL)"
		native_alter="ALTER TABLE t ALTER COLUMN c TYPE varchar(200)"
		native_label="native ALTER COLUMN TYPE"
		gw_alter="ALTER COLUMN c TYPE varchar(200)"
		want_type="character varying(200)"
		want_indexes="k_1,t_pkey"
		server_version() { sql "SELECT 'PostgreSQL ' || current_setting('server_version')"; }
		url=${GW_TEST_PG_DSN%/*}/$BENCH_DB
	fi
}
