#!/bin/sh
# Regenerates the validation figure: scripts/validate_published.py simulates the 51 published
# runs and the 5 per-layer cases of published_cases.json (JOBS at a time) into out/ and, with
# --plot, runs plot.py, which writes published.png/.pdf here.
# usage: results/validation/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
jobs=${2:-$(nproc)}
/usr/bin/python3 "$here/../../scripts/validate_published.py" --bin "$build/bin/frugalsim" --jobs "$jobs" \
  --out "$here/out" --plot
