#!/bin/bash
# Shadow-table rebuilds (rebuild_table) over a table holding a column of
# every common type, on a real server: 3000 generated rows with NULLs in
# every column, the extreme values of each type, multi-byte and 4-byte
# UTF-8, latin1 accents, empty strings, zero bytes, fractional seconds and
# (PostgreSQL) timestamps around the DST changes read in a non-UTC time
# zone, plus an all-NULL row and rows at both ends of the BIGINT key.
# (a) A rebuild that keeps every type must give the table back identical
# row for row and column for column. (b) A widening rebuild (int to bigint,
# longer varchar, wider decimal, float to double, latin1 to utf8mb4;
# PostgreSQL timestamp to timestamptz...) under a writer of single-row
# statements over typed columns, NULLs included, with rows moved through
# the capture both ways: every column of the old table converted to its
# new type must equal the new table's, godwit verify agrees without
# copying anything again, and cleanup leaves no _gw_ object behind. In
# between, one value of each type is changed behind godwit's back, column by
# column: verify's checksum must notice each.
# The capture is what GW_CAPTURE says: triggers both ways, or with
# "replication" the binlog or the logical slot up to the swap (the
# reverse direction after it is still triggers).
. "$(dirname "$0")/lib.sh"
it_init "$1" rebuild_types
N=3000
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M
WRITER_PID=
trap 'touch "$T/stop.w" 2>/dev/null; [ -n "$WRITER_PID" ] && kill $WRITER_PID 2>/dev/null; rm -rf "$T"' EXIT

if [ "$ENGINE" = mysql ]; then
	COLS=(c_tiny c_small c_int c_big c_dec c_float c_double c_char c_vchar c_latin c_text c_bin
	      c_vbin c_blob c_date c_dt c_ts c_time c_year c_enum c_set c_json c_bool c_bit)
	# Compared by their bytes (HEX): collations would call 'a' and 'A ' equal.
	HEXCOLS=" c_char c_vchar c_latin c_text c_bin c_vbin c_blob c_enum c_set c_json "
	# Every session of the test's own SQL: utf8mb4 literals, timestamps read in UTC.
	PRE="SET NAMES utf8mb4; SET time_zone = '+00:00'; "
	# The writer's application sessions are in another zone.
	WPRE="SET NAMES utf8mb4; SET time_zone = '+05:30'; "
else
	COLS=(c_small c_int c_big c_num c_real c_double c_char c_vchar c_text c_bytea c_date c_ts
	      c_tstz c_time c_interval c_bool c_json c_jsonb c_uuid c_mood c_arr)
	HEXCOLS=
	# The database's time zone has DST: godwit's sessions, the writer's and
	# the test's own convert and print in it (said again for clarity).
	PRE="SET TimeZone TO 'Europe/Berlin'; "
	WPRE=$PRE
	# An application session in another zone, for the two probes of (b).
	OTHER_TZ="SET TimeZone TO 'UTC'; "
	admin "ALTER DATABASE $DB_NAME SET timezone TO 'Europe/Berlin'" >/dev/null ||
		fail "setting the database's time zone"
fi
COLLIST=$(IFS=,; echo "${COLS[*]}")

# --- the table ---
if [ "$ENGINE" = mysql ]; then
	read -r -d '' LOAD <<'EOF'
CREATE TABLE tm (id BIGINT PRIMARY KEY, c_tiny TINYINT, c_small SMALLINT UNSIGNED, c_int INT,
  c_big BIGINT UNSIGNED, c_dec DECIMAL(12,4), c_float FLOAT, c_double DOUBLE,
  c_char CHAR(10) CHARACTER SET utf8mb4, c_vchar VARCHAR(50) CHARACTER SET utf8mb4,
  c_latin VARCHAR(50) CHARACTER SET latin1, c_text TEXT CHARACTER SET utf8mb4,
  c_bin BINARY(8), c_vbin VARBINARY(16), c_blob BLOB, c_date DATE, c_dt DATETIME(6),
  c_ts TIMESTAMP(3) NULL, c_time TIME(3), c_year YEAR, c_enum ENUM('a','b','c'),
  c_set SET('x','y'), c_json JSON, c_bool BOOLEAN, c_bit BIT(5))
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO tm SELECT g,
 CASE g % 7 WHEN 0 THEN NULL WHEN 1 THEN -128 WHEN 2 THEN 127 WHEN 3 THEN 0 ELSE g % 256 - 128 END,
 CASE g % 11 WHEN 0 THEN NULL WHEN 1 THEN 0 WHEN 2 THEN 65535 ELSE g * 37 % 65536 END,
 CASE g % 13 WHEN 0 THEN NULL WHEN 1 THEN -2147483648 WHEN 2 THEN 2147483647
   ELSE g * 2654435761 % 4294967296 - 2147483648 END,
 CASE g % 17 WHEN 0 THEN NULL WHEN 1 THEN 0 WHEN 2 THEN 18446744073709551615
   ELSE g * 6700417 * 1000003 END,
 CASE g % 19 WHEN 0 THEN NULL WHEN 1 THEN -99999999.9999 WHEN 2 THEN 99999999.9999 WHEN 3 THEN 0
   WHEN 4 THEN -0.0001 ELSE (g - 1500) * 123.4567 END,
 CASE g % 23 WHEN 0 THEN NULL WHEN 1 THEN -3.40282e38 WHEN 2 THEN 1.17549e-38 WHEN 3 THEN 0.1
   WHEN 4 THEN -1e-30 ELSE g / 7 END,
 CASE g % 29 WHEN 0 THEN NULL WHEN 1 THEN -1.7976931348623157e308 WHEN 2 THEN 2.2250738585072014e-308
   WHEN 3 THEN 0.1 ELSE g * PI() / 3 END,
 CASE g % 31 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN '😀🎉' WHEN 3 THEN 'éàü'
   WHEN 4 THEN 'abcdefghij' ELSE CONCAT('c', g) END,
 CASE g % 37 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'x😀y𝄞' WHEN 3 THEN REPEAT('é', 50)
   WHEN 4 THEN ' lead and trail ' ELSE CONCAT('v-', g, '-ü') END,
 CASE g % 41 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'àéîõü çñ ÿ ß' WHEN 3 THEN REPEAT('Ø', 50)
   WHEN 4 THEN 'trailing  ' ELSE CONCAT('l', g, 'é') END,
 CASE g % 43 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN '🐘 😀 multi\nline\ttab \'q\' \\ back'
   WHEN 3 THEN REPEAT('ab', 3000) ELSE CONCAT('text ', g, ' ', MD5(g)) END,
 CASE g % 47 WHEN 0 THEN NULL WHEN 1 THEN x'0000000000000000' WHEN 2 THEN x'FFFFFFFFFFFFFFFF'
   WHEN 3 THEN x'00' ELSE UNHEX(LPAD(HEX(g), 16, '0')) END,
 CASE g % 53 WHEN 0 THEN NULL WHEN 1 THEN x'' WHEN 2 THEN x'00' WHEN 3 THEN x'00FF00FF00'
   ELSE UNHEX(MD5(g)) END,
 CASE g % 59 WHEN 0 THEN NULL WHEN 1 THEN x'' WHEN 2 THEN x'000000' ELSE UNHEX(SHA2(g, 256)) END,
 CASE g % 61 WHEN 0 THEN NULL WHEN 1 THEN '1000-01-01' WHEN 2 THEN '9999-12-31'
   ELSE DATE('2000-01-01') + INTERVAL g DAY END,
 CASE g % 67 WHEN 0 THEN NULL WHEN 1 THEN '1000-01-01 00:00:00.000000'
   WHEN 2 THEN '9999-12-31 23:59:59.999999' WHEN 3 THEN '2024-03-31 02:30:00.5'
   ELSE TIMESTAMP('2020-01-01') + INTERVAL g * 3671 SECOND + INTERVAL g * 137 MICROSECOND END,
 CASE g % 71 WHEN 0 THEN NULL WHEN 1 THEN '1970-01-01 00:00:01.000'
   WHEN 2 THEN '2038-01-19 03:14:07.999'
   ELSE TIMESTAMP('2021-03-28 00:00:00') + INTERVAL g * 61 SECOND + INTERVAL g % 1000 * 1000 MICROSECOND END,
 CASE g % 73 WHEN 0 THEN NULL WHEN 1 THEN '-838:59:59.000' WHEN 2 THEN '838:59:59.000'
   WHEN 3 THEN '00:00:00' ELSE SEC_TO_TIME(g * 37.125 - 50000) END,
 CASE g % 79 WHEN 0 THEN NULL WHEN 1 THEN 1901 WHEN 2 THEN 2155 WHEN 3 THEN 0 ELSE 1901 + g % 255 END,
 CASE g % 83 WHEN 0 THEN NULL ELSE ELT(1 + g % 3, 'a', 'b', 'c') END,
 CASE g % 89 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'x,y' ELSE ELT(1 + g % 3, 'x', 'y', 'x,y') END,
 CASE g % 97 WHEN 0 THEN NULL WHEN 1 THEN '{}' WHEN 2 THEN '[]'
   WHEN 3 THEN '{"e": "😀", "n": -1.5e300, "u": "\\u00e9"}' WHEN 4 THEN 'null'
   ELSE JSON_OBJECT('id', g, 's', CONCAT('ü', g), 'a', JSON_ARRAY(g, g / 3)) END,
 CASE g % 101 WHEN 0 THEN NULL WHEN 1 THEN 0 WHEN 2 THEN 1 WHEN 3 THEN -128 ELSE g % 2 END,
 CASE g % 103 WHEN 0 THEN NULL WHEN 1 THEN 0 WHEN 2 THEN 31 ELSE g % 32 END
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_3000) s;
EOF
else
	read -r -d '' LOAD <<'EOF'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE tm (id bigint PRIMARY KEY, c_small smallint, c_int integer, c_big bigint,
  c_num numeric(12,4), c_real real, c_double double precision, c_char char(10),
  c_vchar varchar(50), c_text text, c_bytea bytea, c_date date, c_ts timestamp(6),
  c_tstz timestamptz(3), c_time time(3), c_interval interval, c_bool boolean, c_json json,
  c_jsonb jsonb, c_uuid uuid, c_mood mood, c_arr int[]);
INSERT INTO tm SELECT g,
 CASE g % 7 WHEN 0 THEN NULL WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE g * 37 % 65536 - 32768 END,
 CASE g % 11 WHEN 0 THEN NULL WHEN 1 THEN -2147483648 WHEN 2 THEN 2147483647
   ELSE (g::bigint * 2654435761 % 4294967296 - 2147483648)::int END,
 CASE g % 13 WHEN 0 THEN NULL WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807
   ELSE g * 3000000000007 * (1 - 2 * (g % 2)) END,
 CASE g % 17 WHEN 0 THEN NULL WHEN 1 THEN -99999999.9999 WHEN 2 THEN 99999999.9999 WHEN 3 THEN 0
   WHEN 4 THEN -0.0001 ELSE (g - 1500) * 123.4567 END,
 CASE g % 19 WHEN 0 THEN NULL WHEN 1 THEN '-3.4028235e38'::real WHEN 2 THEN '1.17549435e-38'::real
   WHEN 3 THEN 'NaN'::real WHEN 4 THEN '-Infinity'::real WHEN 5 THEN '-0'::real
   WHEN 6 THEN 0.1::real ELSE (g / 7.0)::real END,
 CASE g % 23 WHEN 0 THEN NULL WHEN 1 THEN '-1.7976931348623157e308'::float8
   WHEN 2 THEN '2.2250738585072014e-308'::float8 WHEN 3 THEN 'Infinity'::float8
   WHEN 4 THEN 'NaN'::float8 WHEN 5 THEN '5e-324'::float8 WHEN 6 THEN 0.1::float8
   ELSE g * pi() / 3 END,
 CASE g % 29 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN '😀🎉' WHEN 3 THEN 'éàü  '
   WHEN 4 THEN 'abcdefghij' ELSE 'c' || g END,
 CASE g % 31 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'x😀y𝄞' WHEN 3 THEN repeat('é', 50)
   WHEN 4 THEN ' lead and trail ' ELSE 'v-' || g || '-ü' END,
 CASE g % 37 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'🐘 😀 multi\nline\ttab "q" \\ back'
   WHEN 3 THEN repeat('ab', 3000) ELSE 'text ' || g || ' ' || md5(g::text) END,
 CASE g % 41 WHEN 0 THEN NULL WHEN 1 THEN '\x'::bytea WHEN 2 THEN '\x00'::bytea
   WHEN 3 THEN '\x000000ff'::bytea ELSE decode(md5(g::text), 'hex') END,
 CASE g % 43 WHEN 0 THEN NULL WHEN 1 THEN '-infinity'::date WHEN 2 THEN 'infinity'::date
   WHEN 3 THEN '0044-03-15 BC'::date WHEN 4 THEN '5874897-12-31'::date
   ELSE date '2000-01-01' + g END,
 CASE g % 47 WHEN 0 THEN NULL WHEN 1 THEN '4713-01-02 00:00:00 BC'::timestamp
   WHEN 2 THEN '294276-12-30 23:59:59.999999'::timestamp WHEN 3 THEN 'infinity'::timestamp
   WHEN 4 THEN '2024-03-31 02:30:00.123456'::timestamp WHEN 5 THEN '2024-10-27 02:30:00.5'::timestamp
   ELSE timestamp '2024-03-30 00:00:00' + g * interval '61.000123 seconds' END,
 CASE g % 53 WHEN 0 THEN NULL WHEN 1 THEN 'infinity'::timestamptz WHEN 2 THEN '-infinity'::timestamptz
   WHEN 3 THEN '2024-03-31 02:30:00.123'::timestamptz WHEN 4 THEN '2024-10-27 02:30:00.456'::timestamptz
   WHEN 5 THEN '2024-10-27 02:30:00.456+01'::timestamptz WHEN 6 THEN '1970-01-01 00:00:00+00'::timestamptz
   ELSE timestamptz '2024-10-26 22:00:00+00' + g * interval '7.001 seconds' END,
 CASE g % 59 WHEN 0 THEN NULL WHEN 1 THEN '00:00'::time WHEN 2 THEN '24:00:00'::time
   WHEN 3 THEN '23:59:59.999'::time ELSE time '00:00' + g * interval '28.777 seconds' END,
 CASE g % 61 WHEN 0 THEN NULL WHEN 1 THEN '-178000000 years'::interval
   WHEN 2 THEN '178000000 years'::interval WHEN 3 THEN '1 mon -2 days 03:04:05.678901'::interval
   WHEN 4 THEN '0'::interval ELSE g * interval '1 day 1.5 sec' - interval '30 days' END,
 CASE g % 67 WHEN 0 THEN NULL WHEN 1 THEN true WHEN 2 THEN false ELSE g % 2 = 0 END,
 CASE g % 71 WHEN 0 THEN NULL WHEN 1 THEN '{}'::json WHEN 2 THEN '[]'::json
   WHEN 3 THEN '{"b":1,  "a": [1,2 ], "a":3}'::json WHEN 4 THEN 'null'::json
   ELSE json_build_object('id', g, 's', 'ü' || g) END,
 CASE g % 73 WHEN 0 THEN NULL WHEN 1 THEN '{}'::jsonb WHEN 2 THEN '[]'::jsonb
   WHEN 3 THEN '{"e": "😀", "n": -1.5e300, "big": 123456789012345678901234567890, "u": "\u00e9"}'::jsonb
   WHEN 4 THEN 'null'::jsonb ELSE jsonb_build_object('id', g, 'a', jsonb_build_array(g, g / 3.0)) END,
 CASE g % 79 WHEN 0 THEN NULL WHEN 1 THEN '00000000-0000-0000-0000-000000000000'::uuid
   WHEN 2 THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid ELSE md5(g::text)::uuid END,
 CASE g % 83 WHEN 0 THEN NULL ELSE (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3] END,
 CASE g % 89 WHEN 0 THEN NULL WHEN 1 THEN '{}'::int[] WHEN 2 THEN '{NULL}'::int[]
   WHEN 3 THEN '{-2147483648,2147483647}'::int[] WHEN 4 THEN '{{1,2},{3,4}}'::int[]
   ELSE ARRAY[g, -g, NULL] END
FROM generate_series(1, 3000) g;
EOF
fi
q "$PRE$LOAD" || fail "loading tm"
# The all-NULL row, and the rows of id 1 (minima) and 2 (maxima) again at both ends of the key.
q "INSERT INTO tm (id) VALUES ($((N + 1)));
   INSERT INTO tm (id, $COLLIST) SELECT -9223372036854775808, $COLLIST FROM tm WHERE id = 1;
   INSERT INTO tm (id, $COLLIST) SELECT 9223372036854775807, $COLLIST FROM tm WHERE id = 2"
[ "$ENGINE" = postgres ] && q "ANALYZE tm"
expect_eq "rows loaded" "$(q "SELECT count(*) FROM tm")" $((N + 3))
for c in "${COLS[@]}"; do
	n=$(q "SELECT count(*) FROM tm WHERE $c IS NULL")
	if [ "${n:-0}" -ge 2 ]; then pass; else fail "column $c has $n NULLs, expected NULLs in it"; fi
done

# --- helpers ---
table_list() { tables | LC_ALL=C sort | tr '\n' ' '; }

# Type of a column as information_schema spells it (MariaDB: with its character set).
coltype() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT concat(column_type, coalesce(concat(' ', character_set_name), ''))
		   FROM information_schema.columns WHERE table_schema = DATABASE()
		   AND table_name = '$1' AND column_name = '$2'"
	else
		columns "$1" | awk -F'\t' -v col="$2" '$1 == col { print $2 }'
	fi
}

# canon COL EXPR: EXPR, a value of column COL, as canonical text. MariaDB:
# strings and bytes in hex, FLOAT widened so that no digit is lost;
# PostgreSQL: its text form.
canon() {
	if [ "$ENGINE" = postgres ]; then
		echo "($2)::text"
		return
	fi
	case "$HEXCOLS" in
	*" $1 "*) echo "HEX($2)" ;;
	*) case $1 in
	   c_float) echo "CAST($2 AS DOUBLE)" ;;
	   c_bit) echo "$2 + 0" ;;
	   *) echo "$2" ;;
	   esac ;;
	esac
}

# rows_of TABLE FILE: every row of TABLE as canonical text, sorted by id
# (PostgreSQL: the row's own text form, read in a DST time zone).
rows_of() {
	if [ "$ENGINE" = mysql ]; then
		local sel=id c
		for c in "${COLS[@]}"; do sel+=", $(canon "$c" "$c")"; done
		q "$PRE SELECT $sel FROM $1 ORDER BY id" >"$2"
	else
		q "$PRE SELECT t::text FROM $1 t ORDER BY id" >"$2"
	fi
}
same_files() {
	if cmp -s "$2" "$3"; then
		pass
	else
		fail "$1: $(wc -l <"$2") rows against $(wc -l <"$3"); first differences:"$'\n'"$(diff "$2" "$3" |
			grep '^[<>]' | cut -c1-400 | head -6)"
	fi
}

# differs COL OLD_EXPR NEW_EXPR: SQL true when the two values differ, NULLs
# included (MariaDB: strings by their bytes; PostgreSQL: by their text).
differs() {
	if [ "$ENGINE" = mysql ]; then
		case "$HEXCOLS" in
		*" $1 "*) echo "NOT (HEX($2) <=> HEX($3))" ;;
		*) echo "NOT ($2 <=> $3)" ;;
		esac
	else
		echo "($2)::text IS DISTINCT FROM ($3)::text"
	fi
}

# compare_cols WHAT OLD NEW [COL=EXPR...]: OLD and NEW hold the same keys,
# and for each column, no row whose value in NEW differs from its value in
# OLD (through EXPR over alias o, the conversion to the new type, if given).
# One check per column, so that a failure names the type.
compare_cols() {
	local what=$1 old=$2 new=$3 kv c o sel='' counts i
	local -A conv=()
	shift 3
	for kv in "$@"; do conv[${kv%%=*}]=${kv#*=}; done
	expect_eq "$what: keys" "$(q "SELECT id FROM $old ORDER BY id" | md5sum)" \
		"$(q "SELECT id FROM $new ORDER BY id" | md5sum)"
	for c in "${COLS[@]}"; do
		o=${conv[$c]:-o.$c}
		sel+="${sel:+, }COALESCE(SUM(CASE WHEN $(differs "$c" "$o" "n.$c") THEN 1 ELSE 0 END), 0)"
	done
	counts=$(q "$PRE SELECT $sel FROM $old o JOIN $new n ON n.id = o.id")
	local -a cnt
	IFS=$'\t' read -r -a cnt <<<"$counts"
	if [ "${#cnt[@]}" != "${#COLS[@]}" ]; then
		fail "$what: comparison query failed: $counts"
		return
	fi
	for i in "${!COLS[@]}"; do
		c=${COLS[$i]}
		o=${conv[$c]:-o.$c}
		if [ "${cnt[$i]}" = 0 ]; then
			pass
		else
			fail "$what: column $c ($(coltype "$old" "$c") -> $(coltype "$new" "$c")) differs in" \
				"${cnt[$i]} rows; first (id, old converted, new):"$'\n'"$(q "$PRE SELECT o.id,
				$(canon "$c" "$o"), $(canon "$c" "n.$c") FROM $old o JOIN $new n ON n.id = o.id
				WHERE $(differs "$c" "$o" "n.$c") ORDER BY o.id LIMIT 3" | cut -c1-300)"
		fi
	done
}

# The capture of tm in place: its triggers, and (replication) the stream's
# state table, publication and slot (of this database; the slot's name
# ends in a hash).
capture_objects() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE()
		   UNION ALL SELECT table_name FROM information_schema.tables
		     WHERE table_schema = DATABASE() AND table_name LIKE '\\_gw\\_%\\_rpl'"
	else
		q "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
		   UNION ALL SELECT tablename FROM pg_tables
		     WHERE schemaname = 'public' AND tablename LIKE '\\_gw\\_%\\_rpl'
		   UNION ALL SELECT pubname FROM pg_publication
		   UNION ALL SELECT regexp_replace(slot_name, '_[0-9a-f]{12}$', '_<hash>')
		     FROM pg_replication_slots WHERE database = current_database()"
	fi | LC_ALL=C sort | tr '\n' ' '
}
if [ "$ENGINE" = mysql ]; then
	FWD_TRIGGERS="_gw_tm_fwd_del _gw_tm_fwd_ins _gw_tm_fwd_upd "
	REV_TRIGGERS="_gw_tm_rev_del _gw_tm_rev_ins _gw_tm_rev_upd "
	STREAM="_gw_tm_rpl "
else
	FWD_TRIGGERS="_gw_tm_fwd "
	REV_TRIGGERS="_gw_tm_rev "
	STREAM="_gw_tm_pub _gw_tm_rpl godwit_tm_<hash> "
fi
if [ "${GW_CAPTURE:-triggers}" = replication ]; then
	FWD_CAPTURE=$STREAM
else
	FWD_CAPTURE=$FWD_TRIGGERS
fi

# verify_ok REV: godwit verify exits 0 and found nothing to copy again.
verify_ok() {
	gw 0 verify "$1"
	if [[ $OUT == *differ* ]]; then
		fail "godwit verify $1 found rows that differ:"$'\n'"$OUT"
	else
		pass
	fi
}

# --- the writer: single-row statements over typed columns, NULLs included ---
# nul VALUE: NULL one time in four, else VALUE.
nul() { if [ $((RANDOM % 4)) = 0 ]; then echo NULL; else echo "$1"; fi; }
one_of() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
int32() { echo $(( ((RANDOM << 17) | (RANDOM << 2) | (RANDOM & 3)) - 2147483648 )); }
frac() { printf '%d.%s' $((RANDOM % 20000 - 10000)) "$(one_of 25 5 125 0 75)"; }
# writer_values: "column<TAB>value" lines for one row; values fit both the old
# and the new definition, and floats are exact in single precision so that a
# value written after the swap survives the way back.
writer_values() {
	local us=$((RANDOM % 100000)) dt
	dt=$(printf '2024-%s %02d:%02d:%02d.%06d' "$(one_of 03-31 10-27 01-15)" $((RANDOM % 24)) \
		$((RANDOM % 60)) $((RANDOM % 60)) $us)
	if [ "$ENGINE" = mysql ]; then
		printf '%s\t%s\n' \
			c_tiny "$(nul $((RANDOM % 256 - 128)))" \
			c_small "$(nul $((RANDOM * 2 % 65536)))" \
			c_int "$(nul "$(int32)")" \
			c_big "$(nul "$(one_of 18446744073709551615 0 $((RANDOM * RANDOM * RANDOM)))")" \
			c_dec "$(nul "$(frac)")" \
			c_float "$(nul "$(frac)")" \
			c_double "$(nul "$(one_of "$RANDOM.$RANDOM"e$((RANDOM % 600 - 300)) -0.1 "$(frac)")")" \
			c_char "$(nul "$(one_of "''" "'w$RANDOM'" "'😀 $RANDOM 🎉'" "'é ü ß'")")" \
			c_vchar "$(nul "$(one_of "''" "'w$RANDOM ü'" "'😀 $RANDOM 𝄞 🎉'")")" \
			c_latin "$(nul "$(one_of "''" "'à$RANDOM'" "'ÿØ ß ç'")")" \
			c_text "$(nul "$(one_of "''" "'t\\ttab $RANDOM'" "'🐘 $RANDOM'")")" \
			c_bin "$(nul "$(one_of "x'00'" "UNHEX('00$(printf %04x $RANDOM)')")")" \
			c_vbin "$(nul "$(one_of "x''" "x'0000'" "UNHEX(MD5($RANDOM))")")" \
			c_blob "$(nul "$(one_of "x''" "x'00ff00'" "UNHEX(SHA2($RANDOM, 256))")")" \
			c_date "$(nul "'${dt:0:10}'")" \
			c_dt "$(nul "'$dt'")" \
			c_ts "$(nul "'${dt:0:23}'")" \
			c_time "$(nul "'$(one_of - '')$((RANDOM % 838)):$((RANDOM % 60)):01.$((RANDOM % 1000))'")" \
			c_year "$(nul $((1901 + RANDOM % 255)))" \
			c_enum "$(nul "$(one_of "'a'" "'b'" "'c'")")" \
			c_set "$(nul "$(one_of "''" "'x'" "'y'" "'x,y'")")" \
			c_json "$(nul "JSON_OBJECT('w', $RANDOM, 'e', '😀', 'f', $(frac))")" \
			c_bool "$(nul $((RANDOM % 2)))" \
			c_bit "$(nul $((RANDOM % 32)))"
	else
		printf '%s\t%s\n' \
			c_small "$(nul $((RANDOM * 2 - 32768)))" \
			c_int "$(nul "$(int32)")" \
			c_big "$(nul "$(one_of -9223372036854775808 9223372036854775807 \
				$((RANDOM * RANDOM * RANDOM * RANDOM - 123456789)))")" \
			c_num "$(nul "$(frac)")" \
			c_real "$(nul "$(one_of "$(frac)" "'-Infinity'" "'NaN'")")" \
			c_double "$(nul "$(one_of "$RANDOM.$RANDOM"e$((RANDOM % 600 - 300)) "'NaN'" -0.1)")" \
			c_char "$(nul "$(one_of "''" "'w$RANDOM'" "'😀 $RANDOM 🎉'" "'é ü ß'")")" \
			c_vchar "$(nul "$(one_of "''" "'w$RANDOM ü'" "'😀 $RANDOM 𝄞 🎉'")")" \
			c_text "$(nul "$(one_of "''" "E't\\ttab $RANDOM'" "'🐘 $RANDOM'")")" \
			c_bytea "$(nul "$(one_of "'\\x'" "'\\x00'" "decode(md5('$RANDOM'), 'hex')")")" \
			c_date "$(nul "'${dt:0:10}'")" \
			c_ts "$(nul "'$dt'")" \
			c_tstz "$(nul "'$dt'")" \
			c_time "$(nul "'$((RANDOM % 24)):$((RANDOM % 60)):01.$((RANDOM % 1000))'")" \
			c_interval "$(nul "'$((RANDOM - 16384)) days $((RANDOM % 100)):00:0$((RANDOM % 10)).5'")" \
			c_bool "$(nul "$(one_of true false)")" \
			c_json "$(nul "json_build_object('w', $RANDOM, 'e', '😀')")" \
			c_jsonb "$(nul "jsonb_build_object('w', $RANDOM, 'f', $(frac))")" \
			c_uuid "$(nul "md5('$RANDOM')::uuid")" \
			c_mood "$(nul "$(one_of "'sad'" "'ok'" "'happy'")")" \
			c_arr "$(nul "$(one_of "'{}'" "ARRAY[$RANDOM, NULL, -1]")")"
	fi
}
# writer_stmt K: the K-th statement. Rows 1000-3000 and its own are the writer's.
writer_stmt() {
	local k=$1 r=$((RANDOM % 10)) id=$((1000 + RANDOM % 2001)) cols='' vals='' set='' c v
	while IFS=$'\t' read -r c v; do
		cols+="${cols:+, }$c"
		vals+="${vals:+, }$v"
		set+="${set:+, }$c = $v"
	done < <(writer_values)
	if [ $r -lt 5 ]; then
		echo "UPDATE tm SET $set WHERE id = $id"
	elif [ $r -lt 8 ]; then
		echo "INSERT INTO tm (id, $cols) VALUES ($((100000 + k)), $vals)"
	elif [ $r = 8 ]; then
		echo "DELETE FROM tm WHERE id = $(one_of $id $((100000 + k - 1)))"
	else
		set=
		for c in "${COLS[@]}"; do set+="${set:+, }$c = NULL"; done
		echo "UPDATE tm SET $set WHERE id = $id"
	fi
}
writer_loop() {
	local k=0 sql
	while [ ! -e "$T/stop.w" ]; do
		sql=$(writer_stmt $k)
		if ! q "$WPRE$sql" >/dev/null 2>>"$T/writer.err"; then
			echo "  in: ${sql:0:300}" >>"$T/writer.err"
		fi
		k=$((k + 1))
		sleep 0.1
	done
	echo $k >"$T/writer.n"
}
start_writer() {
	rm -f "$T/stop.w" "$T/writer.err" "$T/writer.n"
	touch "$T/writer.err"
	writer_loop &
	WRITER_PID=$!
}
stop_writer() {
	touch "$T/stop.w"
	wait "$WRITER_PID"
	WRITER_PID=
	echo "writer: $(cat "$T/writer.n" 2>/dev/null) statements"
	if [ -s "$T/writer.err" ]; then
		fail "writer statements failed:"$'\n'"$(head -c 1500 "$T/writer.err")"
	else
		pass
	fi
}

gw 0 init
BASE_COLS=$(columns tm)

# --- (a) a rebuild that keeps every type: tm comes back identical ---
rows_of tm "$T/before.rows"
rebuild_migration 0001_same "" tm "ENGINE=InnoDB" "ALTER COLUMN c_text SET DEFAULT ''" 20
gw 0 up 0001_same
expect_eq "(a) tables after contract" "$(table_list)" "_gw_tm_old tm "
expect_eq "(a) columns after contract" "$(columns tm)" "$BASE_COLS"
rows_of tm "$T/new.rows"
rows_of _gw_tm_old "$T/old.rows"
same_files "(a) rows after contract = rows before" "$T/before.rows" "$T/new.rows"
same_files "(a) old table after contract = rows before" "$T/before.rows" "$T/old.rows"
compare_cols "(a) old vs new" _gw_tm_old tm
verify_ok 0001_same

# The checksum notices the smallest change of each type: one value of row 5
# (no NULL there) changed in the old table behind godwit's back, column by
# column; verify must find the chunk different.
if [ "$ENGINE" = mysql ]; then
	TAMPER=("c_tiny=c_tiny + 1" "c_small=c_small + 1" "c_int=c_int + 1" "c_big=c_big + 1"
		"c_dec=c_dec + 0.0001" "c_float=c_float + 1e-7" "c_double=c_double + 1e-15"
		"c_char=UPPER(c_char)" "c_vchar=CONCAT(c_vchar, ' ')" "c_latin=UPPER(c_latin)"
		"c_text=CONCAT(c_text, ' ')" "c_bin=x'0000000000000006'" "c_vbin=CONCAT(LEFT(c_vbin, 15), x'00')"
		"c_blob=CONCAT(c_blob, x'00')" "c_date=c_date + INTERVAL 1 DAY"
		"c_dt=c_dt + INTERVAL 1 MICROSECOND" "c_ts=c_ts + INTERVAL 1000 MICROSECOND"
		"c_time=ADDTIME(c_time, '00:00:00.001')" "c_year=c_year + 1" "c_enum='a'" "c_set='x'"
		"c_json=JSON_SET(c_json, '\$.id', 6)" "c_bool=1 - c_bool" "c_bit=c_bit ^ 1")
else
	TAMPER=("c_small=c_small + 1" "c_int=c_int + 1" "c_big=c_big + 1" "c_num=c_num + 0.0001"
		"c_real='0'" "c_double='1e-323'" "c_char=upper(c_char)" "c_vchar=c_vchar || ' '"
		"c_text=c_text || ' '" "c_bytea=c_bytea || '\\x00'::bytea" "c_date=c_date + 1"
		"c_ts=c_ts + interval '1 microsecond'" "c_tstz=c_tstz + interval '1 millisecond'"
		"c_time=c_time + interval '1 millisecond'"
		"c_interval=c_interval + interval '1 day' - interval '24 hours'"
		"c_bool=NOT c_bool" "c_json=replace(c_json::text, ' : ', ':')::json"
		"c_jsonb=jsonb_set(c_jsonb, '{id}', '6')" "c_uuid='00000000-0000-0000-0000-000000000005'"
		"c_mood='ok'" "c_arr='[0:2]={5,-5,NULL}'")
fi
for kv in "${TAMPER[@]}"; do
	c=${kv%%=*}
	q "$PRE UPDATE _gw_tm_old SET $c = ${kv#*=} WHERE id = 5" || fail "tampering $c"
	expect_eq "(a) $c changed behind godwit's back" "$(q "$PRE SELECT count(*) FROM _gw_tm_old o
		JOIN tm n ON n.id = o.id WHERE $(differs "$c" "o.$c" "n.$c")")" 1
	# After cut-over verify reports (exit 1) and repairs nothing: the new table is the truth.
	gw 1 verify 0001_same
	if [[ $OUT == *differ* ]]; then
		pass
	else
		fail "(a) verify did not notice a changed $c ($(coltype tm "$c")):" \
			"$(q "$PRE SELECT $(canon "$c" "$c") FROM _gw_tm_old WHERE id = 5") in _gw_tm_old," \
			"$(q "$PRE SELECT $(canon "$c" "$c") FROM tm WHERE id = 5") in tm; output:"$'\n'"$OUT"
	fi
	# put it back, so that the next columns are checked on their own
	if [ "$ENGINE" = mysql ]; then
		q "$PRE UPDATE _gw_tm_old o JOIN tm n ON n.id = o.id SET o.$c = n.$c WHERE o.id = 5"
	else
		q "UPDATE _gw_tm_old o SET $c = n.$c FROM tm n WHERE n.id = o.id AND o.id = 5"
	fi
done
compare_cols "(a) old vs new after the changes were put back" _gw_tm_old tm
verify_ok 0001_same
gw 0 cleanup 0001_same
expect_eq "(a) no godwit objects after cleanup" "$(leftovers)" ""
expect_eq "(a) tables after cleanup" "$(table_list)" "tm "
expect_eq "(a) columns after cleanup" "$(columns tm)" "$BASE_COLS"
rows_of tm "$T/after.rows"
same_files "(a) rows after cleanup = rows before" "$T/before.rows" "$T/after.rows"

# --- (b) widening rebuild under a writer ---
if [ "$ENGINE" = mysql ]; then
	rebuild_migration 0002_widen 0001_same tm "MODIFY c_int BIGINT, MODIFY c_vchar VARCHAR(100) CHARACTER SET utf8mb4, MODIFY c_dec DECIMAL(14,4), MODIFY c_float DOUBLE, MODIFY c_dt DATETIME(6), MODIFY c_latin VARCHAR(50) CHARACTER SET utf8mb4" "" 20
	WIDE=(c_int c_vchar c_dec c_float c_dt c_latin)
	WIDE_TYPES="bigint(20)|varchar(100) utf8mb4|decimal(14,4)|double|datetime(6)|varchar(50) utf8mb4"
	CONV=("c_int=CAST(o.c_int AS SIGNED)" "c_dec=CAST(o.c_dec AS DECIMAL(14,4))"
	      "c_float=CAST(o.c_float AS DOUBLE)" "c_latin=CONVERT(o.c_latin USING utf8mb4)")
else
	rebuild_migration 0002_widen 0001_same tm "" "ALTER COLUMN c_int TYPE bigint, ALTER COLUMN c_vchar TYPE text, ALTER COLUMN c_num TYPE numeric(14,4), ALTER COLUMN c_real TYPE double precision, ALTER COLUMN c_ts TYPE timestamptz(6)" 20
	WIDE=(c_int c_vchar c_num c_real c_ts)
	WIDE_TYPES="bigint|text|numeric(14,4)|double precision|timestamp(6) with time zone"
	# The conversions as godwit's own sessions make them (in the database's time zone).
	CONV=("c_int=CAST(o.c_int AS bigint)" "c_vchar=CAST(o.c_vchar AS text)"
	      "c_num=CAST(o.c_num AS numeric(14,4))" "c_real=CAST(o.c_real AS double precision)"
	      "c_ts=CAST(o.c_ts AS timestamptz(6))")
fi
wide_types() {
	local c out=
	for c in "${WIDE[@]}"; do out+="${out:+|}$(coltype "$1" "$c")"; done
	echo "$out"
}
OLD_TYPES=$(wide_types tm)

start_writer
sleep 1
gw 0 expand 0002_widen
expect_eq "(b) shadow's types after expand" "$(wide_types _gw_tm_new)" "$WIDE_TYPES"
expect_eq "(b) capture after expand (${GW_CAPTURE:-triggers})" "$(capture_objects)" "$FWD_CAPTURE"
sleep 1
gw 0 backfill 0002_widen
# The capture keeps the shadow in sync: its verification finds nothing to copy again.
if [[ $OUT == *differ* ]]; then
	fail "(b) backfill's verification found rows that differ:"$'\n'"$(grep -a differ <<<"$OUT" | head -5)"
else
	pass
fi
if [ "${GW_CAPTURE:-triggers}" = replication ]; then
	# ... from the stream, applied between the chunks: the writer's changes came through it.
	n=$(sed -n 's/.*replication capture: \([0-9]*\) changes applied.*/\1/p' <<<"$OUT" |
		awk '{ n += $1 } END { print n + 0 }')
	if [ "${n:-0}" -gt 0 ]; then
		pass
	else
		fail "(b) backfill applied no change from the replication stream:"$'\n'"$OUT"
	fi
fi
sleep 0.5
# Whole rows through the capture (triggers, or the stream), every type and
# its extremes included: rows 1-100 move to another key before the swap
# (forward).
q "$WPRE UPDATE tm SET id = id + 500000 WHERE id BETWEEN 1 AND 100" || fail "moving rows 1-100"
if [ "$ENGINE" = postgres ]; then
	# A timestamp written after the backfill verified the copy, by an
	# application session in another time zone than the database's: the
	# shadow must get what godwit's copy gives, as any other row.
	q "$OTHER_TZ UPDATE tm SET c_ts = '2024-10-27 02:30:00.5' WHERE id = 300" || fail "tz probe 300"
fi
sleep 0.5
gw 0 contract 0002_widen
expect_eq "(b) new types after contract" "$(wide_types tm)" "$WIDE_TYPES"
expect_eq "(b) old types kept after contract" "$(wide_types _gw_tm_old)" "$OLD_TYPES"
# After the swap the capture is by triggers in both modes; the stream is released.
expect_eq "(b) capture after contract" "$(capture_objects)" "$REV_TRIGGERS"
sleep 0.5
# ... and back, then rows 101-200 away, through the reverse triggers.
q "$WPRE UPDATE tm SET id = id - 500000 WHERE id BETWEEN 500001 AND 500100;
   UPDATE tm SET id = id + 500000 WHERE id BETWEEN 101 AND 200" || fail "moving rows back"
if [ "$ENGINE" = postgres ]; then
	# ... and one written to the new table, through the reverse capture.
	q "$OTHER_TZ UPDATE tm SET c_ts = '2024-03-31 02:30:00.25' WHERE id = 301" || fail "tz probe 301"
fi
sleep 1
stop_writer
expect_eq "(b) tables after contract" "$(table_list)" "_gw_tm_old tm "
compare_cols "(b) old converted vs new" _gw_tm_old tm "${CONV[@]}"
if [ "$ENGINE" = postgres ]; then
	# Not a check: after the swap godwit verify casts the new table's values
	# to the old types; where that is no inverse of the forward conversion
	# (a local time in the DST gap) it differs from rows that are in sync.
	for kv in c_int=integer c_vchar='varchar(50)' c_num='numeric(12,4)' c_real=real \
		c_ts='timestamp(6)'; do
		c=${kv%%=*}
		ids=$(q "SELECT o.id FROM _gw_tm_old o JOIN tm n ON n.id = o.id
			 WHERE CAST(n.$c AS ${kv#*=})::text IS DISTINCT FROM o.$c::text ORDER BY o.id")
		[ -z "$ids" ] || echo "note: $c of tm cast back to ${kv#*=} differs from _gw_tm_old in" \
			"$(wc -l <<<"$ids") rows: $(head -8 <<<"$ids" | tr '\n' ' ')"
	done
fi
rows_of _gw_tm_old "$T/old.rows"
verify_ok 0002_widen
# With no writer left, verify has nothing to change in the old table.
rows_of _gw_tm_old "$T/old.after"
same_files "(b) old table left as it was by verify" "$T/old.rows" "$T/old.after"

# Not a check: a value the new definition takes and the old one cannot
# hold, written after the swap, meets the reverse capture.
if [ "$ENGINE" = mysql ]; then
	probe="INSERT INTO tm (id, c_latin) VALUES (900001, '😀')"
else
	probe="INSERT INTO tm (id, c_vchar) VALUES (900001, repeat('x', 60))"
fi
if pout=$(q "$WPRE$probe" 2>&1); then
	echo "note: after the swap, '$probe' succeeded; old table has:" \
		"$(q "SELECT count(*) FROM _gw_tm_old WHERE id = 900001") row(s)"
	q "DELETE FROM tm WHERE id = 900001"
else
	echo "note: after the swap, '$probe' fails in the application: $pout"
fi

gw 0 cleanup 0002_widen
expect_eq "(b) no godwit objects after cleanup" "$(leftovers)" ""
expect_eq "(b) tables after cleanup" "$(table_list)" "tm "
expect_eq "(b) new types after cleanup" "$(wide_types tm)" "$WIDE_TYPES"

# --- (c) values whose conversion depends on their own type ---
# The same rows twice in a table whose rebuild converts them: loaded before
# the backfill (copied), and written again after it with ids + 1000 (through
# the capture). After the swap both copies of each row must be equal, column
# by column. MariaDB: ENUM and SET into numbers (the copy gives the index
# and the bits), an ENUM's invalid value (index 0, which strict mode takes
# in no literal), FLOAT into text (6 digits, not 17), the zero TIMESTAMP
# into a number, BIT and YEAR into numbers. PostgreSQL: backslashes in text,
# bytea, arrays and JSON with the database's standard_conforming_strings
# off, and interval and date into text under its IntervalStyle and DateStyle.
if [ "$ENGINE" = mysql ]; then
	read -r -d '' LOAD <<'EOF'
CREATE TABLE tc (id BIGINT PRIMARY KEY, c_enum_int ENUM('a','b','c'), c_enum_enum ENUM('a','b','c'),
  c_enum_text ENUM('a','b','c'), c_set_int SET('x','y'), c_float_text FLOAT, c_bit_int BIT(5),
  c_ts_int TIMESTAMP(3) NULL, c_year_int YEAR) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
EOF
	CROWS=("'a', 'a', 'a', '', 0.1, 0, 0, 0"
	       "'c', 'c', 'c', 'x', -3.40282e38, 5, 0, 2155"
	       "'zz', 'zz', 'zz', 'x,y', 3.3333333, 31, 0, 1901"
	       "'b', 'b', 'b', 'y', 1.17549e-38, 1, NULL, 2024"
	       "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL")
	# sql_mode '': the invalid ENUM value goes in (as index 0) only so.
	CPRE="SET sql_mode = ''; "
	CALTER="MODIFY c_enum_int INT, MODIFY c_enum_enum ENUM('a','b','c','d'), MODIFY c_enum_text VARCHAR(5), MODIFY c_set_int BIGINT, MODIFY c_float_text TEXT, MODIFY c_bit_int BIGINT, MODIFY c_ts_int BIGINT, MODIFY c_year_int INT"
else
	read -r -d '' LOAD <<'EOF'
CREATE TABLE tc (id bigint PRIMARY KEY, c_text text, c_bytea bytea, c_arr text[], c_json json,
  c_interval interval, c_date date, c_real real)
EOF
	# E'' literals: read alike whatever standard_conforming_strings is.
	CROWS=("E'back\\\\slash \\\\x41 ''q''', E'\\\\x5c785c', ARRAY[E'a\\\\b', 'q\"t', NULL], E'\"\\\\u00e9 \\\\\\\\\"', '-1 days +02:00:00', '2024-02-29', 0.1"
	       "E'\\\\', E'\\\\x', '{}', '{}', '1 day -00:00:01', '0044-03-15 BC', '-Infinity'"
	       "'', NULL, ARRAY[E'\\\\\\\\', ''], '[]', '-1 mon +1 day', 'infinity', '1e-45'"
	       "NULL, NULL, NULL, NULL, NULL, NULL, NULL")
	CPRE=
	CALTER="ALTER COLUMN c_text TYPE varchar(200), ALTER COLUMN c_arr TYPE varchar(50)[], ALTER COLUMN c_json TYPE jsonb, ALTER COLUMN c_interval TYPE text, ALTER COLUMN c_date TYPE text, ALTER COLUMN c_real TYPE text"
	# godwit's sessions read literals, and write dates and intervals as text,
	# otherwise than the stream writes them.
	admin "ALTER DATABASE $DB_NAME SET standard_conforming_strings TO off" >/dev/null &&
		admin "ALTER DATABASE $DB_NAME SET DateStyle TO 'SQL, DMY'" >/dev/null &&
		admin "ALTER DATABASE $DB_NAME SET IntervalStyle TO sql_standard" >/dev/null ||
		fail "(c) setting the database's string, date and interval styles"
fi
q "$LOAD" || fail "(c) creating tc"
CCOLS=$(columns tc | awk -F'\t' '$1 != "id" { printf "%s%s", sep, $1; sep = ", " }')
insert_tc() {
	local i
	for i in "${!CROWS[@]}"; do
		q "$CPRE$WPRE INSERT INTO tc (id, $CCOLS) VALUES ($(($1 + i + 1)), ${CROWS[$i]})" >/dev/null ||
			fail "(c) inserting row $((i + 1)) at $1"
	done
}
insert_tc 0
rebuild_migration 0003_conv 0002_widen tc "$CALTER" "$CALTER" 20
gw 0 expand 0003_conv
gw 0 backfill 0003_conv
insert_tc 1000
gw 0 contract 0003_conv
expect_eq "(c) tables after contract" "$(table_list)" "_gw_tc_old tc tm "
expect_eq "(c) rows copied and captured" \
	"$(q "SELECT count(*) FROM tc a JOIN tc b ON b.id = a.id + 1000")" "${#CROWS[@]}"
for c in ${CCOLS//,/}; do
	if [ "$ENGINE" = mysql ]; then
		d="NOT (HEX(a.$c) <=> HEX(b.$c))"
		show="a.id, HEX(a.$c), HEX(b.$c)"
	else
		d="a.$c::text IS DISTINCT FROM b.$c::text"
		show="a.id, a.$c, b.$c"
	fi
	diffs=$(q "SELECT $show FROM tc a JOIN tc b ON b.id = a.id + 1000 WHERE $d ORDER BY a.id" 2>&1)
	if [ -z "$diffs" ]; then
		pass
	else
		fail "(c) column $c ($(coltype _gw_tc_old "$c") -> $(coltype tc "$c")): copied and" \
			"captured (${GW_CAPTURE:-triggers}) differ (id, copied, captured):"$'\n'"$diffs"
	fi
done
verify_ok 0003_conv
gw 0 cleanup 0003_conv
expect_eq "(c) no godwit objects after cleanup" "$(leftovers)" ""
it_done
