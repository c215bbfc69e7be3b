#!/bin/sh
# Regenerates the scaling figure: the sweep (3 Megatron layouts x 1 to 16 DGX A100 nodes = 15
# single-iteration studies, one process each) into out/, then plot.py (Debian's
# python3-matplotlib, hence /usr/bin/python3), which writes scaling.png/.pdf here.
# usage: results/scaling/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
exec "$(dirname "$0")/../../scripts/sweep_figure.sh" "$(dirname "$0")" "$@"
