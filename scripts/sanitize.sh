#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build (clang) of the simulator, its unit, config
# and integration tests and the fuzz targets, then those tests (the real backend, MPI and CUDA,
# is left out: its tests need mpirun, which the sanitizers' runtime does not suit). Any
# sanitizer report aborts the test that triggered it.
# Usage: scripts/sanitize.sh [ctest args]      build everything, run the tests
#        scripts/sanitize.sh --build TARGET...  build these targets only (scripts/fuzz.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev
build="${FRUGAL_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
jobs="${FRUGAL_JOBS:-$(nproc)}"
launcher=$(command -v ccache || true)
# fuzzer-no-link: coverage instrumentation for the fuzz targets linked from the same libraries.
flags="-O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
flags="$flags -fsanitize=fuzzer-no-link"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
  -DFRUGAL_BUILD_REAL_BACKEND=OFF -DFRUGAL_BUILD_FUZZERS=ON >/dev/null
if [ "${1:-}" = "--build" ]; then
  shift
  cmake --build "$build" -j "$jobs" --target "$@"
  exit 0
fi
cmake --build "$build" -j "$jobs"
# Leaks are not checked: SimGrid keeps its engine until exit by design.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
ctest --output-on-failure -j "$jobs" -L 'unit|config|integration|validation' "$@"
