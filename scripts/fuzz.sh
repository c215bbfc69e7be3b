#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ for SECONDS each (ASan + UBSan build of scripts/sanitize.sh),
# from a seed corpus of the repository's own files and a dictionary of the keys they use. Prints
# executions and findings per target; exits 1 when any target found a crash, a sanitizer report,
# a timeout (10 s per input) or an allocation over 2 GiB, with the input kept in
# build-sanitize/fuzz-findings/TARGET/. Usage: scripts/fuzz.sh SECONDS [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/*_fuzzer.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
build="${FRUGAL_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
"$root/scripts/sanitize.sh" --build "${targets[@]}" frugalsim
corpus="$build/fuzz-corpus"
findings="$build/fuzz-findings"
rm -rf "$corpus"
mkdir -p "$corpus" "$findings"
export ASAN_OPTIONS="detect_leaks=0:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Seeds: the repository's files of each kind (small, valid, varied); a program planned from the
# calibration study; a bench and a measurements file in the formats frugal-real writes.
mkdir -p "$corpus"/{study,cluster,model,gpu,sweep,trace,program,bench}_fuzzer
cd "$root"
i=0
for f in results/*/study.json tests/benchmarks/*.json; do cp "$f" "$corpus/study_fuzzer/$((i++)).json"; done
printf '/training/micro_batch_size=4\n/parallelism={"impl": "megatron", "tensor_model_parallel_size": 2}\n' \
  | cat - results/quickstart/study.json > "$corpus/study_fuzzer/overrides.json"
cp platforms/clusters/*.json "$corpus/cluster_fuzzer/"
cp workloads/models/*.json "$corpus/model_fuzzer/"
for d in tests/data/hf/*/; do [ -f "$d/config.json" ] && cp "$d/config.json" "$corpus/model_fuzzer/hf_$(basename "$d").json"; done
python3 - "$corpus" <<'PY'
import json, sys, os
corpus = sys.argv[1]
gpus = json.load(open("platforms/gpus.json"))
for name, gpu in (gpus.get("gpus", gpus)).items():
    if isinstance(gpu, dict):
        json.dump(gpu, open(os.path.join(corpus, "gpu_fuzzer", name + ".json"), "w"))
bench = {"format": "frugal-real-bench", "manifest": {"device": {"kind": "cpu"}},
         "gemm": [{"m": 64, "n": 64, "k": 64, "batch": 1, "flops": 524288, "flops_per_s": 5e10},
                  {"m": 512, "n": 512, "k": 512, "batch": 1, "flops": 268435456, "flops_per_s": 9e10}],
         "collectives": [{"collective": c, "group_size": 2, "bytes": b, "time_s": {"median": 2e-6 + b / 5e9}}
                         for c in ("send_recv", "all_reduce") for b in (1024, 65536, 1048576)],
         "memory": [{"bytes": b, "bandwidth_bytes_per_s": 2e10} for b in (1e6, 1e8)]}
json.dump(bench, open(os.path.join(corpus, "bench_fuzzer", "bench.json"), "w"))
m = {"format": "frugal-real-measurements", "iterations": {"median_s": 0.1},
     "ops": [{"rank": 0, "op": 1, "name": "fwd", "kind": "compute", "time_s": {"median": 0.01}}]}
json.dump(m, open(os.path.join(corpus, "bench_fuzzer", "measurements.json"), "w"))
PY
cp tests/data/nccl_tests/*.txt "$corpus/bench_fuzzer/"
"$build/bin/frugalsim" plan results/calibration/study.json -o "$corpus/program_fuzzer/calibration.json" >/dev/null
cp results/checkpoint_interval/sweep.json "$corpus/sweep_fuzzer/"
# Traces: every file once per format (the first byte picks the format).
for f in $(find tests/data/traces -type f); do
  for k in 0 1 2 3 4; do
    { printf "\\x$(printf %02x $k)"; cat "$f"; } > "$corpus/trace_fuzzer/$(basename "$f").$k"
  done
done
# Dictionary: every JSON key and string value of the seeds, and the units quantities take.
dict="$corpus/keys.dict"
python3 - "$corpus" "$dict" <<'PY'
import os, re, sys
corpus, out = sys.argv[1], sys.argv[2]
words = set()
for dirpath, _, files in os.walk(corpus):
    for f in files:
        text = open(os.path.join(dirpath, f), encoding="utf-8", errors="ignore").read()
        words.update(w for w in re.findall(r'"([A-Za-z0-9_./ -]{1,40})"', text))
words.update(["GiB", "MiB", "GB/s", "Gbps", "TFLOPS", "us", "ms", "h", "W", "1e999", "-1", "0", "1e308"])
with open(out, "w") as d:
    for w in sorted(words):
        d.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))
PY

status=0
printf '%-18s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  mkdir -p "$findings/$t"
  log="$build/fuzz-$t.log"
  set +e
  "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$findings/$t/" "$corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if [ $rc -eq 0 ]; then result="no finding"; else result="FINDING (exit $rc): $(ls "$findings/$t" | head -1), see $log"; status=1; fi
  printf '%-18s %12s %10s  %s\n' "$t" "$runs" "$rate" "$result"
done
exit $status
