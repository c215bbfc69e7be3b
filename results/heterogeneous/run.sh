#!/bin/sh
# Regenerates the heterogeneous-cluster figure: the sweep (3 clusters of about the same hourly
# price x 2 layouts x naive / heterogeneity-aware options = 12 single-iteration studies, one
# process each) into out/, then plot.py (Debian's python3-matplotlib, hence /usr/bin/python3),
# which writes heterogeneous.png/.pdf here.
# usage: results/heterogeneous/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
exec "$(dirname "$0")/../../scripts/sweep_figure.sh" "$(dirname "$0")" "$@"
