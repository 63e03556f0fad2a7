#!/usr/bin/env bash
# The test command: install what is missing, build with warnings as errors,
# start scratch MariaDB and PostgreSQL servers and their replicas, run every
# unit and integration test, stop the servers it started.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
if [ "${1:-}" = "--sanitize" ]; then
	export GW_BUILD_DIR=build-asan
	args=(-DGW_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=Debug)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
B=${GW_BUILD_DIR:-build}

bash scripts/bootstrap.sh
bash scripts/build.sh "${args[@]}"

# Stop afterwards what this run starts: the servers, or only the replicas.
status=$(bash scripts/scratch.sh status)
if grep -q -E '^(mysql|postgres): stopped' <<<"$status"; then
	trap 'bash scripts/scratch.sh stop' EXIT
elif grep -q stopped <<<"$status"; then
	trap 'bash scripts/scratch.sh stop-replicas' EXIT
fi
bash scripts/scratch.sh start
bash scripts/scratch.sh start-replicas
eval "$(bash scripts/scratch.sh env)"
ctest --test-dir "$B" --output-on-failure -j2 --timeout 600
