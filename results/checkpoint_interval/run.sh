#!/bin/sh
# Regenerates the checkpoint-interval figure: the sweep (4 MTBFs x 12 intervals x 4 seeds = 192
# thirty-day campaigns, one process each) into out/, then plot.py (Debian's python3-matplotlib,
# hence /usr/bin/python3), which writes checkpoint_interval.png/.pdf here and out/peaks.csv.
# usage: results/checkpoint_interval/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
exec "$(dirname "$0")/../../scripts/sweep_figure.sh" "$(dirname "$0")" "$@"
