#!/bin/sh
# The calibration loop's wall-clock accuracy on this machine: RUNS full loops of
# scripts/calibration_loop.sh (bench, run, calibrate, validate on 2 CPU ranks), each attempt's
# figures and their spread (min / median / max) of the measured iteration and of the uncalibrated
# and calibrated prediction errors. Asserts nothing: the figures depend on the machine's load.
# Usage: tests/benchmarks/run_calibration_bench.sh [BUILD_DIR] [RUNS] [OUT_DIR]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$root/build}"
runs="${2:-5}"
out="${3:-$build/calibration_bench}"
exec "$root/scripts/calibration_loop.sh" "$build" "$out" - "$runs"
