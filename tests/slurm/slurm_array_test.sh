#!/bin/bash
# A sweep as a Slurm job array against a real Slurm (one node on localhost, started by
# slurm_cluster.sh): 12 points in 12 array tasks submitted held, 5 tasks released and run, the
# rest cancelled (a job killed after some tasks); --collect then refuses, naming the 7 points
# without a run; the script resubmitted runs them (the 5 finished ones are reused); --collect
# writes sweep.csv and sweep.jsonl byte for byte equal to a local run's.
# usage: slurm_array_test.sh FRUGALSIM   (exit 77: skipped, Slurm cannot start here)
set -euo pipefail
frugalsim=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/frugalsim-slurm.XXXXXX)
source "$here/slurm_cluster.sh"
cleanup() {
  if [ -n "${job:-}" ]; then scancel "$job" 2>/dev/null || true; fi
  slurm_stop
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/cluster/log/*.log; do echo "--- $log" >&2; tail -5 "$log" >&2; done
  exit 1
}

if ! slurm_start "$work/cluster"; then
  echo "SKIP: Slurm cannot start here: $slurm_skip_reason"
  exit 77
fi

cp "$here/data/study.json" "$here/data/sweep.json" "$work/"
cd "$work"
"$frugalsim" sweep sweep.json -o local -j 2 -q

# Waits until the job has left the queue (squeue lists nothing of it).
wait_for_job() {
  local i
  for i in $(seq 600); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  fail "job $1 still in the queue after 120 s: $(squeue)"
}
finished_points() { find array/points -name point.json 2>/dev/null | wc -l; }

"$frugalsim" sweep sweep.json -o array -j 1 --slurm --tasks 12 --sbatch=--hold | tee slurm.txt
[ -f array/sweep.sbatch ] || fail "no array/sweep.sbatch"
job=$(sbatch --parsable array/sweep.sbatch | cut -d';' -f1)
scontrol release "${job}_[0-4]"
for i in $(seq 600); do
  [ "$(finished_points)" -ge 5 ] && break
  sleep 0.2
done
[ "$(finished_points)" -eq 5 ] || fail "expected 5 finished points after releasing 5 tasks, got $(finished_points)"
scancel "$job"
wait_for_job "$job"

set +e
"$frugalsim" sweep sweep.json -o array --collect 2>collect.err
code=$?
set -e
[ "$code" -eq 3 ] || fail "--collect with 7 points missing exited $code, expected 3"
grep -q "7 of 12 points have no finished run" collect.err || fail "collect's message: $(cat collect.err)"
grep -q "(points 5, 6, 7, 8, 9, 10, 11)" collect.err || fail "collect's list: $(cat collect.err)"
[ ! -f array/sweep.csv ] || fail "a table was written with points missing"

# Resubmitted (no hold): every task runs, the finished points are reused.
job=$("$frugalsim" sweep sweep.json -o array -j 1 --slurm --tasks 12 --submit | sed -n 's/^submitted job array \([0-9]*\) .*/\1/p')
[ -n "$job" ] || fail "--submit printed no job id"
wait_for_job "$job"
[ "$(finished_points)" -eq 12 ] || fail "$(finished_points) of 12 points finished after the resubmission"
reused=$(cat array/slurm/"${job}"_*.out | grep -c "ok (reused)" || true)
[ "$reused" -eq 5 ] || fail "the resubmitted tasks reused $reused points, expected 5"

"$frugalsim" sweep sweep.json -o array --collect -q
cmp local/sweep.csv array/sweep.csv || fail "sweep.csv differs from the local run's"
cmp local/sweep.jsonl array/sweep.jsonl || fail "sweep.jsonl differs from the local run's"
echo "PASS: 12-point sweep as a Slurm array (5 tasks run, 7 cancelled, resubmitted): the local run's table"
