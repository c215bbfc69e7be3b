#!/bin/sh
# Regenerates one sweep figure of results/: runs FIGURE_DIR/sweep.json into FIGURE_DIR/out (one
# process per point, JOBS at a time), then FIGURE_DIR/plot.py on it with Debian's
# python3-matplotlib (hence /usr/bin/python3), which writes the figure's PDF and PNG into
# FIGURE_DIR. The figures' run.sh call it.
# usage: scripts/sweep_figure.sh FIGURE_DIR [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
set -e
here=$(cd "$1" && pwd)
build=${2:-build}
jobs=${3:-$(nproc)}
"$build/bin/frugalsim" sweep "$here/sweep.json" -o "$here/out" -j "$jobs" -q
/usr/bin/python3 "$here/plot.py" "$here/out"
