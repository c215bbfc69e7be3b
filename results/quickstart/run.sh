#!/bin/sh
# Regenerates the quickstart figure: runs study.json (two iterations of GPT-3 125M on 8 GPUs of
# two kinds) into out/, then plot.py (Debian's python3-matplotlib, hence /usr/bin/python3), which
# writes out/quickstart.png/.pdf next to the run's summary.json and timeline.json, as
# scripts/quickstart.sh does (the quickstart's figure is an output, not committed).
# usage: results/quickstart/run.sh [BUILD_DIR] [JOBS]   (defaults: build; JOBS is not used: one run)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
"$build/bin/frugalsim" run "$here/study.json" -o "$here/out" -q
/usr/bin/python3 "$here/plot.py" "$here/out"
