#!/bin/sh
# Regenerates the memory-budget figure: the sweep (2 models x 3 clusters x 27 memory policies and
# budgets = 162 single-iteration studies, one process each) into out/, then plot.py (Debian's
# python3-matplotlib, hence /usr/bin/python3), which writes memory_budget.png/.pdf here.
# usage: results/memory_budget/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
exec "$(dirname "$0")/../../scripts/sweep_figure.sh" "$(dirname "$0")" "$@"
