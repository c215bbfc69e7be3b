#!/bin/sh
# Regenerates the layout-search results: (1) every layout of GPT 22B on 8 A100s (9,216 layouts,
# the space of Calculon's 22B/8-GPU search example) screened in-process and the 16 best simulated,
# its wall time printed next to Calculon's 39.8 s on the same 2-core machine; (2) GPT-3 1.3B
# searched on at most 8, 16 and 32 GPUs, whose finalists and estimates plot.py (Debian's
# python3-matplotlib, hence /usr/bin/python3) draws as search_pareto.png/.pdf here.
# usage: results/search/run.sh [BUILD_DIR] [JOBS]   (defaults: build, all CPUs)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
jobs=${2:-$(nproc)}
start=$(date +%s.%N)
"$build/bin/frugalsim" search "$here/study.json" -o "$here/out/gpt-22b-8gpu" -j "$jobs" -q
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "22B/8-GPU search: %.1f s wall (Calculon'"'"'s optimal-execution search over its 7,018-layout space: 39.8 s on the same machine)\n", e - s }'
for gpus in 8 16 32; do
  "$build/bin/frugalsim" search "$here/pareto_study.json" -o "$here/out/pareto-$gpus" -j "$jobs" -q --max-gpus "$gpus"
done
/usr/bin/python3 "$here/plot.py" "$here/out"
