#!/usr/bin/env bash
# Installs what is missing, builds FrugalSim (Release) and runs every test with ctest.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Ring]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
build="${FRUGAL_BUILD_DIR:-$root/build}"
jobs="${FRUGAL_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" "$@"
