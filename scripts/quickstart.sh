#!/usr/bin/env bash
# Installs what is missing, builds FrugalSim (Release), runs the quickstart study and renders its
# plots, then prints where the results are.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
build="${FRUGAL_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "${FRUGAL_JOBS:-$(nproc)}" --target frugalsim
out="$root/results/quickstart/out"
"$build/bin/frugalsim" run "$root/results/quickstart/study.json" -o "$out"
/usr/bin/python3 "$root/results/quickstart/plot.py" "$out"
echo "quickstart results: $out (summary.json, timeline.json: open in https://ui.perfetto.dev, quickstart.png)"
