#!/bin/sh
# Regenerates the checkpoint-interval figure: the sweep (4 MTBFs x 12 intervals x 4 seeds = 192
# thirty-day campaigns, one process each) into out/, then plot.py (Debian's python3-matplotlib,
# hence /usr/bin/python3), which writes checkpoint_interval.png/.pdf here and out/peaks.csv.
# usage: results/checkpoint_interval/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
jobs=${2:-$(nproc)}
"$build/bin/frugalsim" sweep "$here/sweep.json" -o "$here/out" -j "$jobs" -q
/usr/bin/python3 "$here/plot.py" "$here/out"
