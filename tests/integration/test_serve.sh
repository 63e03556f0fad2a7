#!/bin/bash
# godwit serve on a real server, during a live backfill: GET /status and
# /metrics; POST /pause without, with a wrong and with the token (the copy
# stops), /resume (it goes on), /throttle (status shows the limit); bad
# JSON, an oversized body, an unknown revision or field, a wrong method;
# the store gone (503) and back; a unix socket (mode 0600, a live one
# refused, a stale one replaced, removed on SIGTERM); no token on a
# non-loopback address refused. The migration ends with its data intact.
. "$(dirname "$0")/lib.sh"
it_init "$1" serve
ROWS=${GW_SERVE_ROWS:-200000}
M=$T/m
mkdir -p "$M"
export GODWIT_MIGRATIONS=$M
unset GODWIT_HTTP_TOKEN
command -v curl >/dev/null || { echo "curl is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

if [ "$ENGINE" = mysql ]; then
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, price DOUBLE, note VARCHAR(20));
	   INSERT INTO items SELECT seq, seq * 0.25, 'n' FROM seq_1_to_$ROWS"
else
	q "CREATE TABLE items (id BIGINT PRIMARY KEY, price DOUBLE PRECISION, note VARCHAR(20));
	   INSERT INTO items SELECT g, g * 0.25, 'n' FROM generate_series(1, $ROWS) g; ANALYZE items"
fi
SUM=$(q "SELECT CAST(sum(price) AS DECIMAL(20,2)) FROM items")
# The file's rate limit keeps the backfill going long enough to act on it.
cat >"$M/0001_retype.json" <<EOF
{"id": "0001_retype", "parents": [], "message": "retype price",
 "operations": [{"alter_column": {"table": "items", "column": "price", "type": "DECIMAL(12,2)",
   "up": "CAST(price AS DECIMAL(12,2))", "down": "price"}}],
 "options": {"chunk_time_ms": 50, "max_rate_rows": 20000}}
EOF
gw 0 init
gw 0 expand 0001_retype

# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 after SECONDS.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# serve LOG ARGS...: start godwit serve in the background ($SERVE its pid).
serve() {
	local log=$1
	shift
	"$GODWIT" --verbose-log serve "$@" >"$log" 2>&1 &
	SERVE=$!
	PIDS+=("$SERVE")
}

# http METHOD PATH [BODY [TOKEN]]: a request to $BASE (through $SOCK when
# set); the status in $CODE, the reply in $REPLY, the headers in $HDRS.
http() {
	local args=(-s -o "$T/reply" -D "$T/hdrs" -w '%{http_code}' -X "$1" --max-time 10)
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	[ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
	[ -n "${SOCK:-}" ] && args+=(--unix-socket "$SOCK")
	CODE=$(curl "${args[@]}" "$BASE$2")
	REPLY=$(cat "$T/reply" 2>/dev/null)
	HDRS=$(tr -d '\r' <"$T/hdrs" 2>/dev/null)
}

# expect_http WHAT CODE [TEXT]: the last reply had status CODE and contains TEXT.
expect_http() {
	if [ "$CODE" = "$2" ] && [[ $REPLY == *"${3:-}"* ]]; then
		pass
	else
		fail "$1: expected $2${3:+ with '$3'}, got $CODE: $REPLY"
	fi
}

# pyjson EXPR: Python expression over the JSON on stdin (j); None prints nothing.
pyjson() {
	python3 -c 'import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print("" if v is None else v)' "$1"
}

# backfill FIELD: a field of 0001_retype's backfill in GET /status.
backfill() {
	http GET /status
	[ "$CODE" = 200 ] || return 1
	pyjson "[m for m in j if m['id'] == '0001_retype'][0]['phases']['backfill'].get('$1')" \
		<<<"$REPLY"
}
rows_done() { backfill rows_done; }
# refused EXPECTED_RC ARGS...: godwit serve ARGS must exit at once with EXPECTED_RC (output in $OUT).
refused() {
	local want=$1 rc
	shift
	OUT=$(timeout 10 "$GODWIT" serve "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then pass; else fail "godwit serve $* exited $rc, expected $want: $OUT"; fi
}
state_is() { [ "$(backfill state)" = "$1" ]; }
rows_above() { [ "$(rows_done)" -gt "$1" ] 2>/dev/null; }

echo "my-secret-token-$$" >"$T/token"
chmod 600 "$T/token"
TOKEN=$(cat "$T/token")

# --- 1. TCP on loopback, port 0: the real port is in the log ---
serve "$T/serve.log" --listen 127.0.0.1:0 --token-file "$T/token"
TCP=$SERVE
if wait_for 10 grep -qs "serving on http://127.0.0.1:" "$T/serve.log"; then
	pass
else
	fail "serve did not start: $(cat "$T/serve.log")"
fi
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$T/serve.log" | head -1)
SOCK=

http GET /status
expect_http "GET /status" 200 '"id":"0001_retype"'
expect_eq "backfill pending in /status" "$(backfill state)" pending
[[ $HDRS == *"Content-Type: application/json"* ]] && pass || fail "status content type: $HDRS"
http GET /
expect_http "GET / (status page)" 200 "fetch('status'"

"$GODWIT" backfill 0001_retype >"$T/fill.log" 2>&1 &
FILL=$!
PIDS+=("$FILL")
wait_for 15 rows_above 0 && pass || fail "backfill did not start: $(cat "$T/fill.log")"

# --- 2. pause: the token is required ---
http POST /pause '{"revision": "0001_retype"}'
expect_http "pause without token" 401 "missing bearer token"
[[ $HDRS == *"WWW-Authenticate: Bearer"* ]] && pass || fail "401 without WWW-Authenticate: $HDRS"
http POST /pause '{"revision": "0001_retype"}' wrong-token
expect_http "pause with a wrong token" 401 "wrong token"
http POST /pause '{"revision": "0001_retype", "phase": "backfill"}' "$TOKEN"
expect_http "pause with the token" 200 '"ok":true'
wait_for 5 state_is paused && pass || fail "backfill not paused: $(backfill state)"
n1=$(rows_done)
sleep 1.5
expect_eq "no progress while paused" "$(rows_done)" "$n1"
expect_eq "control in /status" "$(backfill control)" paused

# --- 3. throttle while paused, then resume: it goes on at that rate ---
http POST /throttle '{"revision": "0001_retype:backfill", "rate": 2000, "max_lag_s": 1.5}' "$TOKEN"
expect_http "throttle" 200 '"rate":2000'
gw 0 status --json
# operator LIMIT: that operator limit of 0001_retype's backfill in godwit status --json
operator() {
	local ph="[m for m in j if m['id'] == '0001_retype'][0]['phases']['backfill']"
	pyjson "$ph['operator_limits']['$1']" <<<"$OUT"
}
expect_eq "operator rate in status --json" "$(operator rate)" 2000
expect_eq "operator max_lag_ms in status --json" "$(operator max_lag_ms)" 1500
http POST /resume '{"revision": "0001_retype"}' "$TOKEN"
expect_http "resume" 200 '"control":null'
wait_for 5 rows_above "$n1" && pass || fail "no progress after resume (rows_done $(rows_done))"
wait_for 5 state_is running && pass || fail "backfill not running after resume: $(backfill state)"

# --- 4. metrics ---
http GET /metrics
expect_http "metrics" 200 "godwit_rows_done{migration=\"0001_retype\",phase=\"backfill\"} "
expect_http "metrics TYPE line" 200 "# TYPE godwit_rows_done gauge"
expect_http "metrics state" 200 \
	'godwit_phase_state{migration="0001_retype",phase="backfill",state="running"} 1'
[[ $HDRS == *"Content-Type: text/plain; version=0.0.4"* ]] && pass || fail "metrics type: $HDRS"

# --- 5. bad requests ---
http POST /pause 'x' "$TOKEN"
expect_http "bad JSON" 400 "request body is not valid JSON: '[' or '{' expected near 'x' (line 1, column 1)"
head -c 102400 /dev/zero | tr '\0' ' ' >"$T/big"
http POST /pause @"$T/big" "$TOKEN"
expect_http "100 KiB body" 413
http POST /pause '{"revision": "9999_nope"}' "$TOKEN"
expect_http "unknown revision" 404 "no revision matches '9999_nope'"
http POST /pause '{"revision": "0001_retype", "phase": "backfil"}' "$TOKEN"
expect_http "unknown phase" 400 "field 'phase' must name a phase"
http POST /throttle '{"revision": "0001_retype", "rate": 10, "speed": 1}' "$TOKEN"
expect_http "unknown field" 400 "unknown field 'speed'"
http POST /throttle '{"revision": "0001_retype", "rate": -1}' "$TOKEN"
expect_http "negative rate" 400 "field 'rate' must be a whole number"
http POST /throttle '{"revision": "0001_retype", "rate": "fast"}' "$TOKEN"
expect_http "rate of the wrong type" 400 "field 'rate' must be a whole number"
http POST /pause '[1]' "$TOKEN"
expect_http "not an object" 400 "must be a JSON object"
http DELETE /status
expect_http "DELETE" 405
[[ $HDRS == *"Allow: GET"* ]] && pass || fail "405 without Allow: GET: $HDRS"
http GET /pause
expect_http "GET /pause" 405
[[ $HDRS == *"Allow: POST"* ]] && pass || fail "405 without Allow: POST: $HDRS"
http GET /nope
expect_http "unknown endpoint" 404 "no endpoint '/nope'"
grep -q "GET /status from 127.0.0.1: 200" "$T/serve.log" && pass ||
	fail "requests not logged at debug level: $(tail -5 "$T/serve.log")"

# --- 6. lift the limits; the migration ends with its data intact ---
http POST /throttle '{"revision": "0001_retype", "reset": true}' "$TOKEN"
expect_http "throttle reset" 200 '"reset":true'
if wait $FILL; then pass; else fail "backfill: $(cat "$T/fill.log")"; fi
gw 0 contract 0001_retype
expect_eq "rows" "$(q "SELECT count(*) FROM items")" "$ROWS"
expect_eq "sum of prices" "$(q "SELECT CAST(sum(price) AS DECIMAL(20,2)) FROM items")" "$SUM"
expect_eq "rows differing" "$(q "SELECT count(*) FROM items WHERE price <> id * 0.25")" 0
[[ $(columns items | grep '^price') == *"12,2"* ]] && pass || fail "price type: $(columns items)"
expect_eq "no godwit objects left" "$(leftovers)" ""
expect_eq "applied in /status" "$(http GET /status; pyjson "j[0]['applied']" <<<"$REPLY")" True

# --- 7. the store gone: 503, then back on the next request ---
if [ "$ENGINE" = mysql ]; then
	q "DROP TABLE godwit_control, godwit_events, godwit_phases, godwit_migrations, godwit_runner"
else
	q "SET client_min_messages = warning; DROP SCHEMA godwit CASCADE"
fi
http GET /status
expect_http "status without the store" 503
http GET /status
expect_http "status without the store, reconnected" 503 "godwit init"
gw 0 init
http GET /status
expect_http "status with the store again" 200 '"id":"0001_retype"'

kill -TERM $TCP
if wait $TCP; then pass; else fail "serve exited $? on SIGTERM: $(cat "$T/serve.log")"; fi

# --- 8. unix socket, no token ---
SOCK=$T/gw.sock
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] && pass || fail "no stale socket made"
serve "$T/unix.log" --listen "unix:$SOCK"
UNIX=$SERVE
wait_for 10 grep -qs "serving on unix:$SOCK" "$T/unix.log" && pass ||
	fail "unix serve did not start: $(cat "$T/unix.log")"
grep -q "removed the stale socket" "$T/unix.log" && pass || fail "stale socket: $(cat "$T/unix.log")"
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 600
BASE=http://localhost
http GET /status
expect_http "GET /status on a unix socket" 200 '"id":"0001_retype"'
http POST /pause '{"revision": "0001_retype"}' "$TOKEN"
expect_http "POST without a configured token" 403 "GODWIT_HTTP_TOKEN"
refused 1 --listen "unix:$SOCK"
expect_out "another server listens on it"
kill -TERM $UNIX
if wait $UNIX; then pass; else fail "unix serve exited $? on SIGTERM: $(cat "$T/unix.log")"; fi
[ ! -e "$SOCK" ] && pass || fail "socket left behind"
SOCK=

# --- 9. refused configurations ---
refused 2 --listen 0.0.0.0:0
expect_out "without a token"
refused 2 --listen nonsense
expect_out "bad listen address"
refused 2 --bogus
expect_out "unknown option"
refused 1 --token-file "$T/nonexistent"
expect_out "could not read token file"
it_done
