#!/usr/bin/env bash
# The bench command: install what is missing (the compared tools included),
# build (in ${GW_BUILD_DIR:-build}), and run bench/run.sh with the arguments given
# (default: 1M rows, both engines, both tables, every method). It starts the
# scratch servers it needs and stops them after. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh
exec bash bench/run.sh "$@"
