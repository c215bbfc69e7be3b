#!/bin/sh
# Regenerates the energy figure: the sweep (12 Megatron layouts and recomputation choices of
# GPT-3 6.7B on 32 A100 = 12 single-iteration studies, one process each) into out/, then plot.py
# (Debian's python3-matplotlib, hence /usr/bin/python3), which writes energy.png/.pdf here.
# usage: results/energy/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
exec "$(dirname "$0")/../../scripts/sweep_figure.sh" "$(dirname "$0")" "$@"
