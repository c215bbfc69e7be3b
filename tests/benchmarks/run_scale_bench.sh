#!/bin/sh
# Runs the scale cases, one process each (SimGrid's engine is one per process), and
# prints what frugal_scale_bench reports: simulated time against α-β, wall time per phase,
# activities simulated and peak RSS. Not a test: figures depend on the machine.
# usage: tests/benchmarks/run_scale_bench.sh [BUILD_DIR]   (default: build)
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-build}/bin/frugal_scale_bench
[ -x "$bin" ] || { echo "missing $bin: build the frugal_scale_bench target first" >&2; exit 1; }
run() {
  echo "== frugal_scale_bench $*"
  "$bin" "$@"
}
run ring 1024 aggregate all           # 1 GiB ring all-reduce, 1,024 GPUs, 50 GB/s NICs: the < 1 s bar
run ring 1024 step_by_step all        # the same, step by step (reference): ~2 M transfers
run ring 16384 aggregate all          # 16,384 GPUs: must finish
run ring 16384 aggregate representatives
run study "$here/gpt3_175b_1024.json" auto auto   # GPT-3 175B, t8 p8 d16, 96 micro-batches
run study "$here/llama3_70b_4096.json" auto auto  # Llama-3-70B, t8 p4 d128, 16 micro-batches
run study "$here/gpt_1t_512.json" auto auto       # 1T-parameter GPT, t8 p64 d1, 512 micro-batches
