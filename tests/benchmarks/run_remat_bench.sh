#!/bin/sh
# Runs the optimal rematerialization benchmark: wall time of the dynamic program on chains of 32
# to 256 stages at 100 to 1,000 memory slots, the rematerialization + offloading heuristic on the
# same chains, and its gap to the best offload set on chains of 6 to 12 stages. Not a test: figures depend on the machine.
# usage: tests/benchmarks/run_remat_bench.sh [BUILD_DIR]   (default: build)
set -e
bin=${1:-build}/bin/frugal_remat_bench
[ -x "$bin" ] || { echo "missing $bin: build the frugal_remat_bench target first" >&2; exit 1; }
"$bin" 32 64 128 256
