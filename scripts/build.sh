#!/usr/bin/env bash
# Configure and build into ${GW_BUILD_DIR:-build}. Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${GW_BUILD_DIR:-build}
cmake -S . -B "$B" -DGW_WERROR=ON "$@" >/dev/null
cmake --build "$B" -j"$(nproc)"
