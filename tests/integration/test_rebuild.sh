#!/bin/bash
# Shadow-table rebuild (rebuild_table) on a real server: a table of 200k rows
# retyped through a shadow copy kept in sync by triggers (or, with
# GW_CAPTURE=replication, by the binlog / a logical slot), under writers that
# update, insert, delete and move primary keys during every phase; the atomic
# swap, its rollback and the full rollback, each checked row for row against
# the other copy; kill -9 of the runner at random points, the cut-over
# included, then resume and cleanup; a duplicate on a new unique index
# refused without a swap; no rollback of a contract once cleaned up.
. "$(dirname "$0")/lib.sh"
it_init "$1" rebuild
ROWS=${GW_REBUILD_ROWS:-200000}
# Statements per second, per writer.
RATE=${GW_REBUILD_RATE:-100}
WRITER=${GW_WRITER:?GW_WRITER must point at the gw_writer binary}
SEED=${GW_SEED:-$$}
RANDOM=$SEED
echo "GW_SEED=$SEED"
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M
if [ "$ENGINE" = mysql ]; then P=godwit_phases; else P=godwit.phases; fi

# Writers own disjoint partitions of eight, each used once in the whole
# script, so every state file stays true to the end: 0-2 write through the
# rebuild, 3-5 through the rollback of its contract, 6 through the kills;
# nobody writes partition 7, which must keep its rows as loaded.
NPARTS=8

# make_sb N: the sysbench-like test table with N rows, c holding seq * 1.5.
make_sb() {
	if [ "$ENGINE" = mysql ]; then
		q "CREATE TABLE sb (id BIGINT PRIMARY KEY, k INT NOT NULL DEFAULT 0,
		   c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY sb_k (k));
		   INSERT INTO sb SELECT seq, seq * 7919 % 100000, seq * 1.5, concat('pad-', seq)
		   FROM seq_1_to_$1"
	else
		q "CREATE TABLE sb (id BIGINT PRIMARY KEY, k INT NOT NULL DEFAULT 0,
		   c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '');
		   CREATE INDEX sb_k ON sb (k);
		   INSERT INTO sb SELECT g, g * 7919 % 100000, (g * 1.5)::text, 'pad-' || g
		   FROM generate_series(1, $1) g; ANALYZE sb"
	fi
}


# Triggers on a table, for "the capture is in place" checks.
trigger_count() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()
		   AND event_object_table = '$1'"
	else
		q "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'public.$1'::regclass"
	fi
}

# Indexes of a table by what they index, not by name (a rebuilt table may
# carry other names until cleanup): "columns unique" lines, sorted.
index_cols() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT group_concat(column_name ORDER BY seq_in_index), 1 - non_unique
		   FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '$1'
		   GROUP BY index_name, non_unique ORDER BY 1"
	else
		q "SELECT regexp_replace(indexdef, '^.* USING ', ''), (indexdef LIKE 'CREATE UNIQUE%')::int
		   FROM pg_indexes WHERE schemaname = 'public' AND tablename = '$1' ORDER BY 1"
	fi
}

# Type of column c of a table, as information_schema spells it.
c_type() { columns "$1" | awk -F'\t' -v col="${2:-c}" '$1 == col { print $2 }'; }
if [ "$ENGINE" = mysql ]; then
	OLD_C='char(120)' NEW_C='varchar(200)'
else
	OLD_C='character(120)' NEW_C='character varying(200)'
fi

# rows_of TABLE FILE: every row as text, sorted by id. CHAR pads: MariaDB
# strips the blanks when it reads one, PostgreSQL's cast to text does.
rows_of() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT id, k, CAST(c AS CHAR), CAST(pad AS CHAR) FROM $1 ORDER BY id" >"$2"
	else
		q "SELECT id, k, c::text, pad::text FROM $1 ORDER BY id" >"$2"
	fi
}
# same_tables WHAT A B: tables A and B hold the same rows.
same_tables() {
	rows_of "$2" "$T/a.rows"
	rows_of "$3" "$T/b.rows"
	if cmp -s "$T/a.rows" "$T/b.rows"; then
		pass
	else
		fail "$1: $2 has $(wc -l <"$T/a.rows") rows, $3 $(wc -l <"$T/b.rows");" \
			"first differences (< $2, > $3):"$'\n'"$(diff "$T/a.rows" "$T/b.rows" | grep '^[<>]' | head -6)"
	fi
}

# Rows of partition 7 still as loaded (nobody writes it); expected: all of them.
intact_count() {
	if [ "$ENGINE" = mysql ]; then
		q "SELECT count(*) FROM sb WHERE id <= $ROWS AND id % $NPARTS = 7
		   AND CAST(c AS CHAR) = CAST(id * 1.5 AS CHAR) AND CAST(pad AS CHAR) = concat('pad-', id)"
	else
		q "SELECT count(*) FROM sb WHERE id <= $ROWS AND id % $NPARTS = 7
		   AND c::text = (id * 1.5)::text AND pad::text = 'pad-' || id"
	fi
}
INTACT=$(( (ROWS - 7) / NPARTS + 1 ))

# writer I: start writer of partition I/8 in the background until $T/stop.I
# exists; a tenth of its statements move a row to a new primary key.
writer() {
	rm -f "$T/stop.$1"
	"$WRITER" run --url "$DATABASE_URL" --table sb --column c --partition "$1/$NPARTS" \
		--rows "$ROWS" --state "$T/state.$1" --stop-file "$T/stop.$1" --seconds 900 \
		--rate "$RATE" --pk-updates 10 --seed "$((SEED + $1))" >"$T/out.$1" 2>&1 &
	eval "PID_$1=$!"
}
# A test that dies halfway leaves no writer behind to hold the database open.
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
stop_writer() {
	local pid
	touch "$T/stop.$1"
	eval "pid=\$PID_$1"
	if wait "$pid"; then pass; else fail "writer $1 failed: $(cat "$T/out.$1")"; fi
}
# verify_writers FIRST LAST: the writers' records hold in sb (no lost write).
verify_writers() {
	local i outv
	for i in $(seq "$1" "$2"); do
		if outv=$("$WRITER" verify --url "$DATABASE_URL" --table sb --column c \
			--state "$T/state.$i" 2>&1); then
			pass
		else
			fail "writer $i verify: $outv"
		fi
	done
}

# gw_settled WANT ARGS: like gw, but waits out the lock of a killed runner
# whose session the server has not noticed gone yet (exit 3, retried).
gw_settled() {
	local want=$1 rc
	shift
	for _ in $(seq 50); do
		OUT=$("$GODWIT" "$@" 2>&1)
		rc=$?
		[ $rc = 3 ] || break
		sleep 0.2
	done
	if [ "$rc" != "$want" ]; then
		fail "godwit $* exited $rc, expected $want; output:"$'\n'"$OUT"
		return 1
	fi
	pass
}

# rand_delay MIN MAX: a random delay between MIN and MAX hundredths of a second, in seconds.
rand_delay() {
	local cs=$((RANDOM % ($2 - $1 + 1) + $1))
	printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

# The test database's tables on one line, in byte order whatever the collation.
table_list() { tables | LC_ALL=C sort | tr '\n' ' '; }

# phase_states: "phase=state ..." of 0001_rebuild, for the kill log.
phase_states() {
	q "SELECT phase, state FROM $P WHERE migration_id = '0001_rebuild' ORDER BY started_at" |
		tr '\t\n' '= '
}

# --- 1. rebuild, swap back and roll back under writers moving rows ---
make_sb "$ROWS"
BASE_COLS=$(columns sb)
BASE_INDEXES=$(indexes sb)
BASE_IDX=$(index_cols sb)
expect_eq "loaded rows intact" "$(intact_count)" "$INTACT"
rebuild_migration 0001_rebuild "" sb "MODIFY c VARCHAR(200) NOT NULL" "ALTER COLUMN c TYPE varchar(200)"
gw 0 init

for i in 0 1 2; do writer $i; done
sleep 1
gw 0 expand 0001_rebuild
sleep 1 # writes that only the triggers carry to the shadow
# the shadow has the new definition, and triggers on sb feed it
expect_eq "shadow's c after expand" "$(c_type _gw_sb_new)" "$NEW_C"
if [ "${GW_CAPTURE:-triggers}" = replication ]; then
	# the stream follows the binlog into its next file (Connector/C misreads rotations)
	[ "$ENGINE" = mysql ] && q "FLUSH BINARY LOGS"
	if [ "$(trigger_count sb)" -eq 0 ]; then pass; else fail "triggers on sb with replication capture"; fi
	if [ "$ENGINE" = postgres ]; then
		n=$(q "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'godwit\_sb\_%' AND database = current_database()")
		if [ "$n" = 1 ]; then pass; else fail "$n replication slots of godwit after expand, expected 1"; fi
	fi
elif [ "$(trigger_count sb)" -gt 0 ]; then pass; else fail "no trigger on sb after expand"; fi
gw 0 backfill 0001_rebuild
# chunks the backfill's checksum found different and copied again (a race the
# copy's row locks should prevent): shown, not failed, as verify repairs them
grep -i 'differ' <<<"$OUT" | head -3 | sed 's/^/backfill: /'
gw 0 contract 0001_rebuild
expect_out "writes were blocked for"
echo "contract: $(grep -o 'writes were blocked for [0-9]* ms' <<<"$OUT")"
sleep 0.5 # a few writes after the swap, through the reverse triggers
for i in 0 1 2; do stop_writer $i; done
# sb is the new table, the old one kept aside and in sync
expect_eq "sb's c after contract" "$(c_type sb)" "$NEW_C"
expect_eq "old table's c after contract" "$(c_type _gw_sb_old)" "$OLD_C"
expect_eq "sb's indexes after contract" "$(index_cols sb)" "$BASE_IDX"
expect_eq "tables after contract" "$(table_list)" "_gw_sb_old sb "
verify_writers 0 2
same_tables "old = new after contract" _gw_sb_old sb
gw 0 verify 0001_rebuild

# Roll the swap back while three other writers keep going.
for i in 3 4 5; do writer $i; done
sleep 1
gw 0 rollback 0001_rebuild:contract
sleep 0.5
for i in 3 4 5; do stop_writer $i; done
expect_eq "sb's c after rollback of contract" "$(c_type sb)" "$OLD_C"
expect_eq "shadow's c after rollback of contract" "$(c_type _gw_sb_new)" "$NEW_C"
expect_eq "tables after rollback of contract" "$(table_list)" "_gw_sb_new sb "
verify_writers 0 5
same_tables "old = new after rollback of contract" sb _gw_sb_new
gw 0 verify 0001_rebuild

# Roll back every phase: sb as it was, with every row written through the rebuild.
gw 0 down base
expect_eq "no godwit objects after rollback" "$(leftovers)" ""
expect_eq "tables after rollback" "$(table_list)" "sb "
expect_eq "sb's columns after rollback" "$(columns sb)" "$BASE_COLS"
expect_eq "sb's indexes after rollback" "$(indexes sb)" "$BASE_INDEXES"
verify_writers 0 5
expect_eq "unwritten rows intact after rollback" "$(intact_count)" "$INTACT"

# --- 2. kill -9 at random points, the cut-over included, then resume ---
# Seven kills of expand + backfill after 0.05-2 s, then contract runs killed
# after 0.02-0.12 s (a contract takes a few tens of ms) until ten kills
# landed, at least three of them with the contract under way (recorded
# running). A run that ended before its kill is rolled back and tried again.
# A writer moves rows all along.
writer 6
KILLS=0
CONTRACT_KILLS=0
# kill_run DELAY ARGS: run godwit ARGS, kill -9 it after DELAY s; sets RC.
kill_run() {
	local delay=$1
	shift
	: >"$T/kill.log" # a run killed before its redirection would show the last one's
	"$GODWIT" "$@" >"$T/kill.log" 2>&1 &
	local pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	RC=$?
	if [ $RC = 137 ]; then
		KILLS=$((KILLS + 1))
		echo "kill $KILLS ($* after ${delay}s): $(phase_states)| $(tail -1 "$T/kill.log" | cut -c1-80)"
	elif [ $RC = 0 ]; then
		echo "godwit $* ended before its kill after ${delay}s: rolled back to try again"
	elif [ $RC != 3 ]; then
		fail "godwit $* exited $RC after a kill: $(cat "$T/kill.log")"
	fi
}
# A run that fails (neither killed, done nor locked out) ends its loop: it
# is a failure already, and the next runs would repeat it.
for _ in $(seq 30); do
	[ $KILLS -ge 7 ] && break
	kill_run "$(rand_delay 5 200)" up 0001_rebuild:backfill
	case $RC in
	137) ;;
	3) sleep 0.2 ;;
	0) gw_settled 0 rollback 0001_rebuild || break ;;
	*) break ;;
	esac
done
gw_settled 0 up 0001_rebuild:backfill
for _ in $(seq 60); do
	[ $KILLS -ge 10 ] && [ $CONTRACT_KILLS -ge 3 ] && break
	kill_run "$(rand_delay 2 12)" contract 0001_rebuild
	case $RC in
	137)
		st=$(q "SELECT state FROM $P WHERE migration_id = '0001_rebuild' AND phase = 'contract'")
		[ "$st" = running ] && CONTRACT_KILLS=$((CONTRACT_KILLS + 1))
		;;
	3) sleep 0.2 ;;
	0) gw_settled 0 rollback 0001_rebuild:contract || break ;;
	*) break ;;
	esac
done
if [ $KILLS -ge 10 ] && [ $CONTRACT_KILLS -ge 3 ]; then
	pass
else
	fail "only $KILLS kills landed, $CONTRACT_KILLS of them in a running contract"
fi
gw_settled 0 up
stop_writer 6
expect_eq "sb's c after kills" "$(c_type sb)" "$NEW_C"
verify_writers 0 6
same_tables "old = new after kills and resume" _gw_sb_old sb
gw 0 verify 0001_rebuild
# verify sees a difference: one row of the old table changed behind the
# triggers' back. After the cut-over it only reports (exit 1): the live
# table keeps its row, the old copy its change until put back by hand.
q "UPDATE _gw_sb_old SET pad = 'changed' WHERE id = 15"
gw 1 verify 0001_rebuild
expect_out "differ"
expect_eq "verify left the live row alone" "$(q "SELECT count(*) FROM sb WHERE id = 15 AND pad = 'pad-15'")" 1
q "UPDATE _gw_sb_old SET pad = 'pad-15' WHERE id = 15"
gw 0 verify 0001_rebuild

# Cleanup drops the old table and the triggers: sb is the new table alone.
gw 0 cleanup 0001_rebuild
expect_eq "no godwit objects after cleanup" "$(leftovers)" ""
expect_eq "tables after cleanup" "$(table_list)" "sb "
expect_eq "sb's c after cleanup" "$(c_type sb)" "$NEW_C"
expect_eq "sb's indexes after cleanup" "$(index_cols sb)" "$BASE_IDX"
expect_eq "sb's index names after cleanup" "$(indexes sb)" "$BASE_INDEXES"
verify_writers 0 6
expect_eq "unwritten rows intact after cleanup" "$(intact_count)" "$INTACT"

# --- 3. after cleanup the contract cannot be rolled back ---
rows_of sb "$T/clean.rows"
CLEAN_COLS=$(columns sb)
OUT=$("$GODWIT" rollback 0001_rebuild:contract 2>&1)
rc=$?
if [ $rc != 0 ] && [ -n "$OUT" ]; then
	pass
else
	fail "rollback of a cleaned-up contract exited $rc; output:"$'\n'"$OUT"
fi
echo "refused rollback after cleanup ($rc): $(head -1 <<<"$OUT")"
rows_of sb "$T/after.rows"
if cmp -s "$T/clean.rows" "$T/after.rows"; then pass; else fail "refused rollback changed rows"; fi
expect_eq "columns after refused rollback" "$(columns sb)" "$CLEAN_COLS"
expect_eq "no godwit objects after refused rollback" "$(leftovers)" ""

# --- 4. a duplicate under a new unique index: refused, no swap ---
if [ "$ENGINE" = mysql ]; then
	q "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL);
	   INSERT INTO users SELECT seq, concat('u', seq, '@example.com') FROM seq_1_to_5000"
else
	q "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL);
	   INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 5000) g"
fi
q "UPDATE users SET email = 'twice@example.com' WHERE id IN (1234, 4321)"
rows_of_users() { q "SELECT id, email FROM users ORDER BY id" >"$1"; }
rows_of_users "$T/users.before"
USERS_COLS=$(columns users)
USERS_INDEXES=$(indexes users)
rebuild_migration 0002_unique 0001_rebuild users "ADD UNIQUE KEY uq_email (email)" \
	"ADD CONSTRAINT uq_email UNIQUE (email)"
gw 1 up
expect_out "twice@example.com"
echo "duplicate refused: $(grep -m1 -i 'error' <<<"$OUT" | cut -c1-200)"
rows_of_users "$T/users.after"
if cmp -s "$T/users.before" "$T/users.after"; then pass; else fail "users rows changed by the failed rebuild"; fi
expect_eq "users' columns after the failed rebuild" "$(columns users)" "$USERS_COLS"
expect_eq "users' indexes after the failed rebuild" "$(indexes users)" "$USERS_INDEXES"
expect_eq "no swap after the failed rebuild" \
	"$(q "SELECT state FROM $P WHERE migration_id = '0002_unique' AND phase = 'contract'")" pending
gw 0 rollback 0002_unique
expect_eq "no godwit objects after rollback of the failed rebuild" "$(leftovers)" ""
expect_eq "tables after rollback of the failed rebuild" "$(table_list)" "sb users "
rows_of_users "$T/users.after"
if cmp -s "$T/users.before" "$T/users.after"; then pass; else fail "users rows changed by the rollback"; fi
expect_eq "users' indexes after rollback" "$(indexes users)" "$USERS_INDEXES"
it_done
