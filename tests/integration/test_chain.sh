#!/usr/bin/env bash
# A chain of six migrations on a real server: up step by step with the
# schema checked after each, down to base, up again, phase targets,
# rollback of one phase, stamp, branches and a merge.
. "$(dirname "$0")/lib.sh"
it_init "$1" chain

export GODWIT_MIGRATIONS=$T/m
mkdir -p "$T/m"
cp "$SRC"/examples/migrations/*.json "$T/m/"
if [ "$ENGINE" = mysql ]; then
	DOUBLE=double DECIMAL="decimal(12,2)" BIGINT="bigint(20)" VC255="varchar(255)"
else
	DOUBLE="double precision" DECIMAL="numeric(12,2)" BIGINT=bigint VC255="character varying(255)"
fi

gw 2 up
expect_out "run 'godwit init'"
gw 0 init
gw 0 init

# Forward one revision at a time, checking the schema after each.
gw 0 up +1
expect_eq "tables after 0001" "$(tables)" "accounts"
gw 0 up +1
expect_eq "users after 0002" "$(columns users | cut -f1,2 | tr '\t' ' ')" \
"id $BIGINT
account_id $BIGINT
email $VC255
balance $DOUBLE
created_at $( [ "$ENGINE" = mysql ] && echo timestamp || echo 'timestamp without time zone')"
expect_eq "indexes after 0002" "$(indexes users)" "idx_users_email"
q "INSERT INTO users (email, balance) VALUES ('a@example.com', 1.5), ('b@example.com', NULL)"
gw 0 up +1
expect_eq "status after 0003" "$(columns users | grep '^status' | cut -f3)" "NO"
expect_eq "status filled" "$(q "SELECT email, status FROM users ORDER BY email")" \
"a@example.com	active
b@example.com	active"
gw 0 up 0004_retype
expect_eq "balance after 0004" "$(columns users | grep '^balance' | cut -f2)" "$DECIMAL"
expect_eq "balance data after 0004" "$(q "SELECT balance FROM users WHERE balance IS NOT NULL")" "1.50"
gw 0 up
expect_eq "tables at head" "$(tables)" "customer_accounts
users"
expect_eq "indexes at head" "$(indexes users)" "idx_users_account
idx_users_email"
expect_eq "email renamed" "$(columns users | cut -f1 | grep email)" "email_address"
gw 0 current
expect_eq "current at head" "$OUT" "0006_accounts_index (head)"
gw 0 history
expect_eq "history lines" "$(echo "$OUT" | wc -l)" "6"
expect_out "<base> -> 0001_accounts, accounts"
gw 0 history --verbose
expect_out "phases: expand=completed backfill=completed contract=completed"
gw 0 up
expect_out "nothing to do"

# Down step by step; data survives the reverse of each change.
gw 0 down -1
expect_eq "tables after down -1" "$(tables)" "accounts
users"
expect_eq "indexes after down -1" "$(indexes users)" "idx_users_email"
gw 0 down 0003
expect_eq "email back" "$(columns users | cut -f1 | grep email)" "email"
expect_eq "balance type back" "$(columns users | grep '^balance' | cut -f2)" "$DOUBLE"
expect_eq "balance data back" "$(q "SELECT balance FROM users WHERE balance IS NOT NULL")" "1.5"
gw 0 current
expect_eq "current after down 0003" "$OUT" "0003_user_status"
gw 0 down base
expect_eq "tables at base" "$(tables)" ""
gw 0 current
expect_eq "current at base" "$OUT" ""
expect_eq "state rows at base" \
	"$(q "SELECT count(*) FROM $( [ "$ENGINE" = mysql ] && echo godwit_phases || echo godwit.phases)")" "0"

# Up again from base, then phase targets.
gw 0 up
expect_eq "tables at head again" "$(tables)" "customer_accounts
users"
gw 0 down 0004
gw 0 up 0005:expand
gw 0 current
expect_eq "partial current" "$OUT" \
	"0004_retype_balance
0005_rename_email (expand=completed backfill=pending contract=pending)" 
gw 0 start
expect_out "0005_rename_email:backfill: completed"
gw 0 current
expect_out "backfill=completed contract=pending"
gw 0 complete 0005
gw 0 status
expect_out "0005_rename_email                expand=completed backfill=completed contract=completed"
gw 0 up

# Roll back one phase; a phase cannot be rolled back under a later one.
gw 2 rollback 0006:expand
expect_out "a later phase of '0006_accounts_index' is still applied"
gw 0 rollback 0006:contract
expect_eq "rename undone" "$(tables)" "accounts
users"
gw 0 status --json
expect_out '"state": "rolled_back"'
gw 0 up
expect_eq "rename redone" "$(tables)" "customer_accounts
users"
gw 2 rollback 0005
expect_out "'0006_accounts_index' depends on it"

# Stamp records without running.
gw 0 down base
gw 0 stamp 0002
gw 0 current
expect_eq "current after stamp" "$OUT" "0002_users"
expect_eq "stamp ran nothing" "$(tables)" ""
gw 0 stamp base
gw 0 current
expect_eq "current after stamp base" "$OUT" ""
gw 0 up

# Branches and a merge.
cat >"$T/m/0007_left.json" <<'JSON'
{"id": "0007_left", "parents": ["0006_accounts_index"], "message": "left",
 "operations": [{"create_table": {"table": "left_t", "columns": [{"name": "id", "type": "INT", "primary_key": true}]}}]}
JSON
cat >"$T/m/0007_right.json" <<'JSON'
{"id": "0007_right", "parents": ["0006_accounts_index"], "message": "right",
 "operations": [{"create_table": {"table": "right_t", "columns": [{"name": "id", "type": "INT", "primary_key": true}]}}]}
JSON
gw 0 heads
expect_eq "two heads" "$OUT" "0007_left (head), left
0007_right (head), right"
gw 0 branches
expect_out "0006_accounts_index (branchpoint)"
gw 2 up
expect_out "multiple heads"
gw 0 up heads
expect_eq "both branches applied" "$(tables | tr '\n' ' ')" "customer_accounts left_t right_t users "
gw 0 merge heads -m "join left and right" --id 0008_merge
gw 0 heads
expect_eq "one head after merge" "$OUT" "0008_merge (head), join left and right"
gw 0 up
gw 0 current
expect_eq "current is the merge" "$OUT" "0008_merge (head) (mergepoint)"
gw 0 down 0007_left
expect_eq "right branch rolled back" "$(tables | tr '\n' ' ')" "customer_accounts left_t users "
gw 0 up
gw 0 new "add a note column"
expect_out "0009_add_a_note_column.json"
expect_eq "new file parent" "$(grep -c '"0008_merge"' "$T/m/0009_add_a_note_column.json")" "1"
gw 0 up
gw 0 current
expect_eq "empty migration applied" "$OUT" "0009_add_a_note_column (head)"

it_done
