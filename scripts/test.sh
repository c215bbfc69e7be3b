#!/usr/bin/env bash
# Installs what is missing, builds FrugalSim (Release) and runs every test with ctest.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Ring]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
build="${FRUGAL_BUILD_DIR:-$root/build}"
jobs="${FRUGAL_JOBS:-$(nproc)}"
# ccache, where installed, makes rebuilds after a checkout or in a second tree cheap.
launcher=$(command -v ccache || true)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" "$@"
