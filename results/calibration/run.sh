#!/bin/sh
# Regenerates the calibration figures: one attempt of scripts/calibration_loop.sh (the real CPU
# device on 2 MPI ranks through scripts/mpirun.sh: benchmarks, a measured run of study.json's
# program, the fit, the simulated-vs-measured reports; about 10 s) into out/attempt-1/, then
# scripts/plot_validation.py on its calibrated and nominal reports, which writes
# validation_cpu.png/.pdf and validation_cpu_uncalibrated.png/.pdf here. The figures are
# measurements of this machine: they move with what else it runs (README.md).
# usage: results/calibration/run.sh [BUILD_DIR] [JOBS]   (defaults: build; JOBS is not used: 2 ranks)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
"$root/scripts/calibration_loop.sh" "$build" "$here/out" - 1
/usr/bin/python3 "$root/scripts/plot_validation.py" "$here/out/attempt-1/report.calibrated.json" \
  "$here/validation_cpu.png"
/usr/bin/python3 "$root/scripts/plot_validation.py" "$here/out/attempt-1/report.uncalibrated.json" \
  "$here/validation_cpu_uncalibrated.png"
