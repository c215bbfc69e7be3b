#!/usr/bin/env bash
# Regenerates every figure of results/: runs each results/<figure>/run.sh that exists (a new
# figure folder with a run.sh is picked up as it is), one after the other, as
# `run.sh BUILD_DIR JOBS`; prints a line per figure with its elapsed time, then every PDF and PNG
# the figures wrote (path, size) and the figures that failed. A failed figure does not stop the
# others; the exit status is 1 when any failed (their logs are kept in a folder under $TMPDIR,
# default /tmp, named at the end), 2 on bad usage or a missing frugalsim. In a configured build
# folder it first builds frugalsim and frugal-real (after scripts/quickstart.sh, which builds
# frugalsim only, the calibration figure needs the real backend).
# usage: scripts/figures.sh [--build DIR] [--jobs N] [--only NAME ...] [--list] [--results DIR] [--no-build]
#   --build DIR    the build folder holding bin/frugalsim (default: build at the repository root)
#   --jobs N       processes a figure's sweep runs at once (default: the number of CPUs)
#   --only NAME    only these figures (folder names under results/; repeatable, or several names)
#   --list         print the figures that have a run.sh, one per line, and exit
#   --results DIR  the folder of figure folders (default: results at the repository root)
#   --no-build     use the build folder as it is (do not build frugalsim and frugal-real first)
set -uo pipefail
export LC_ALL=C
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
results="$root/results"
jobs=$(nproc)
only=()
list=0
no_build=0

usage() { sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) [[ $# -ge 2 ]] || { echo "figures.sh: --build needs a folder" >&2; exit 2; }; build=$2; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    --jobs | -j) [[ $# -ge 2 ]] || { echo "figures.sh: --jobs needs a number" >&2; exit 2; }; jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#--jobs=}; shift ;;
    --only)
      shift
      [[ $# -gt 0 && $1 != -* ]] || { echo "figures.sh: --only needs a figure name" >&2; exit 2; }
      while [[ $# -gt 0 && $1 != -* ]]; do only+=("$1"); shift; done ;;
    --only=*) only+=("${1#--only=}"); shift ;;
    --list) list=1; shift ;;
    --no-build) no_build=1; shift ;;
    --results) [[ $# -ge 2 ]] || { echo "figures.sh: --results needs a folder" >&2; exit 2; }; results=$2; shift 2 ;;
    --results=*) results=${1#--results=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "figures.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ $jobs =~ ^[1-9][0-9]*$ ]]; then
  echo "figures.sh: --jobs must be a positive integer, not '$jobs'" >&2
  exit 2
fi

results=$(cd "$results" 2>/dev/null && pwd) || { echo "figures.sh: no results folder '$results'" >&2; exit 2; }
shown=$results  # how paths are printed: relative to the repository root when under it
[[ $results == "$root"/* ]] && shown=${results#"$root"/}

# Every figure folder with a run.sh, in name order.
figures=()
for script in "$results"/*/run.sh; do
  [[ -f $script ]] && figures+=("$(basename "$(dirname "$script")")")
done
if [[ $list -eq 1 ]]; then
  printf '%s\n' "${figures[@]}"
  exit 0
fi
if [[ ${#only[@]} -gt 0 ]]; then
  for i in "${!only[@]}"; do  # results/scaling/ names the figure scaling too
    name=${only[$i]%/}
    name=${name##*/}
    only[i]=$name
    if [[ ! -f $results/$name/run.sh ]]; then
      echo "figures.sh: no figure '$name' ($shown/$name/run.sh); figures: ${figures[*]}" >&2
      exit 2
    fi
  done
  figures=("${only[@]}")
fi

build=$(cd "$build" 2>/dev/null && pwd) || { echo "figures.sh: no build folder '$build'" >&2; exit 2; }
# A configured build folder (scripts/quickstart.sh builds frugalsim only): bring frugalsim and
# frugal-real (the calibration figure runs it) up to date first.
if [[ $no_build -eq 0 && -f $build/CMakeCache.txt ]]; then
  echo "building frugalsim and frugal-real in $build ..."
  if ! cmake --build "$build" -j "$jobs" --target frugalsim frugal-real >"${TMPDIR:-/tmp}/frugalsim-figures-build.log" 2>&1; then
    echo "figures.sh: building failed; see ${TMPDIR:-/tmp}/frugalsim-figures-build.log" >&2
    exit 2
  fi
fi
if [[ ! -x $build/bin/frugalsim ]]; then
  echo "figures.sh: $build/bin/frugalsim not found: build it first (cmake --build $build)" >&2
  exit 2
fi

# The PDFs and PNGs under a folder, one per line: modification time, size, path (sorted by path).
snapshot() {
  find "$1" -type f \( -name '*.pdf' -o -name '*.png' \) -printf '%T@\t%s\t%P\n' | sort -t $'\t' -k3
}

logs=$(mktemp -d "${TMPDIR:-/tmp}/frugalsim-figures.XXXXXX")
stamps="$logs/stamps"
mkdir -p "$stamps"
failed=()
written=()
total=${#figures[@]}
start_all=$(date +%s.%N)
k=0
for name in "${figures[@]}"; do
  k=$((k + 1))
  dir="$results/$name"
  log="$logs/$name.log"
  snapshot "$dir" >"$stamps/$name"
  printf '[%d/%d] %s ...' "$k" "$total" "$name"
  start=$(date +%s.%N)
  (cd "$root" && "$dir/run.sh" "$build" "$jobs") >"$log" 2>&1
  status=$?
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [[ $status -eq 0 ]]; then
    printf ' done in %s s\n' "$elapsed"
  else
    printf ' FAILED (exit %d) after %s s; last lines of %s:\n' "$status" "$elapsed" "$log"
    tail -n 15 "$log" | sed 's/^/    /'
    failed+=("$name")
  fi
  # The PDFs and PNGs this figure wrote: new, or with another modification time than before its
  # run.sh (a comparison with a stamp file would miss the files written within the file system's
  # clock tick, a few milliseconds, of the stamp).
  while IFS= read -r line; do
    written+=("$line")
  done < <(snapshot "$dir" | awk -v d="$shown/$name" -F '\t' '
             FILENAME != "-" { before[$0] = 1; next }
             !($0 in before) {
               size = $2 < 1024 ? sprintf("%d B", $2) : $2 < 1048576 ? sprintf("%.1f KiB", $2 / 1024) \
                                                                   : sprintf("%.1f MiB", $2 / 1048576)
               printf "%12s  %s/%s\n", size, d, $3 }' "$stamps/$name" -)
done
elapsed_all=$(awk -v a="$start_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo
echo "${#written[@]} files written:"
if [[ ${#written[@]} -gt 0 ]]; then printf '  %s\n' "${written[@]}"; fi
echo "$((total - ${#failed[@]})) of $total figures regenerated in $elapsed_all s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]} (logs: $logs)"
  exit 1
fi
rm -rf "$logs"
