#!/bin/sh
# Runs the campaign benchmark of issue 4 (one process: SimGrid's engine is one per process) and
# prints what frugal_campaign_bench reports: simulated days, failures, restarts, checkpoints,
# wall time per phase and peak RSS. Not a test: figures depend on the machine.
# usage: tests/benchmarks/run_campaign_bench.sh [BUILD_DIR]   (default: build)
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-build}/bin/frugal_campaign_bench
[ -x "$bin" ] || { echo "missing $bin: build the frugal_campaign_bench target first" >&2; exit 1; }
echo "== frugal_campaign_bench campaign_16k_30d.json"
# 30 days, Llama-3-70B on 16,384 H100 + 64 spare nodes, ~300 node failures, Daly checkpoints.
"$bin" "$here/campaign_16k_30d.json"
