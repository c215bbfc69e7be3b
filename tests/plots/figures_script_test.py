#!/usr/bin/python3
"""Checks scripts/figures.sh without running any real figure: --list names exactly the folders of
results/ that have a run.sh; on a scratch results folder (--results) of three fake figures (one
writes a PDF and PNGs in a few milliseconds, rewriting one and leaving another, one fails, one is
left out by --only) it runs each run.sh with the build folder and the job count, prints
"[k/N] name ... done in S s" or "FAILED (exit E)", goes on after a failure, lists every PDF and PNG
written with its size, names the failed figures and exits 1; --only runs only the figures named;
bad usage exits 2. Takes about a second.

usage: figures_script_test.py FRUGALSIM WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = Path("/tmp")
SCRIPT = ROOT / "scripts" / "figures.sh"
failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def figures_sh(*args):
    env = dict(os.environ, TMPDIR=str(WORK))  # the logs of failed figures stay in the work folder
    r = subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, env=env)
    return r.returncode, r.stdout, r.stderr


def fake_figure(results, name, body):
    folder = results / name
    folder.mkdir(parents=True)
    script = folder / "run.sh"
    script.write_text("#!/bin/sh\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n" + body)
    script.chmod(0o755)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    build = Path(argv[1]).resolve().parents[1]  # FRUGALSIM is BUILD/bin/frugalsim
    global WORK
    work = WORK = Path(argv[2]).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    # --list: every results/*/run.sh of the repository, in name order.
    status, out, err = figures_sh("--list")
    expected = sorted(p.parent.name for p in (ROOT / "results").glob("*/run.sh"))
    if status != 0 or out.split() != expected:
        fail(f"--list printed {out.split()} (exit {status}), expected {expected}: {err}")
    missing = sorted(p.parent.name for p in (ROOT / "results").glob("*/plot.py") if not (p.parent / "run.sh").exists())
    if missing:
        fail(f"figure folders with a plot.py but no run.sh: {missing}")

    # A scratch results folder: one figure writes a PDF and a PNG (and records its arguments),
    # one fails, one has no run.sh (not a figure).
    results = work / "results"
    fake_figure(results, "a_good", 'echo "$1 $2" > "$here/args.txt"\n'
                'printf "%%PDF-1.4 fake" > "$here/fig.pdf"\nprintf "PNG fake" > "$here/fig.png"\n'
                'mkdir -p "$here/out" && printf "PNG" > "$here/out/inner.png"\n')
    fake_figure(results, "b_bad", 'echo "this figure fails" >&2\nexit 3\n')
    fake_figure(results, "c_other", 'printf "PNG" > "$here/other figure.png"\n')
    (results / "d_no_script").mkdir()
    (results / "d_no_script" / "old.png").write_text("PNG")
    # a_good rewrites a figure left by an earlier run (listed) and leaves another (not listed).
    (results / "a_good" / "fig.png").write_text("PNG from an earlier run")
    (results / "a_good" / "stale.png").write_text("PNG")

    status, out, err = figures_sh("--results", results, "--build", build, "--no-build", "--jobs", 3)
    print(out + err)
    if status != 1:
        fail(f"a failed figure should make the exit status 1, not {status}")
    if not re.search(r"^\[1/3\] a_good \.\.\. done in \d+\.\d s$", out, re.M):
        fail("no '[1/3] a_good ... done in S s' line")
    if not re.search(r"^\[2/3\] b_bad \.\.\. FAILED \(exit 3\) after \d+\.\d s", out, re.M) or \
            "this figure fails" not in out:
        fail("no '[2/3] b_bad ... FAILED (exit 3)' line with the end of its log")
    if not re.search(r"^\[3/3\] c_other \.\.\. done in", out, re.M):
        fail("the figure after a failed one did not run")
    args = (results / "a_good" / "args.txt").read_text().split() if (results / "a_good" / "args.txt").exists() else []
    if args != [str(build), "3"]:
        fail(f"run.sh got arguments {args}, expected the build folder and the job count")
    for rel, size in (("a_good/fig.pdf", 13), ("a_good/fig.png", 8), ("a_good/out/inner.png", 3),
                      ("c_other/other figure.png", 3)):
        # Paths print relative to the repository root when the results folder is under it.
        shown = results.relative_to(ROOT) if results.is_relative_to(ROOT) else results
        if not re.search(rf"^\s+{size} B  {re.escape(str(shown / rel))}$", out, re.M):
            fail(f"the summary does not list {rel} with its size")
    if "old.png" in out or "stale.png" in out:
        fail("the summary lists a file no figure wrote")
    logs = re.search(r"^failed: b_bad \(logs: (.*)\)$", out, re.M)
    if not re.search(r"^2 of 3 figures regenerated in \d+\.\d s$", out, re.M) or not logs:
        fail("no '2 of 3 figures regenerated' and 'failed: b_bad (logs: DIR)' at the end")
    elif "this figure fails" not in (Path(logs.group(1)) / "b_bad.log").read_text():
        fail("the failed figure's log does not hold its output")

    # --only: those figures alone, numbered among themselves (a folder path names its figure).
    status, out, err = figures_sh("--results", results, "--build", build, "--no-build", "--jobs", 1, "--only", "results/c_other/")
    if status != 0 or not re.search(r"^\[1/1\] c_other \.\.\. done in", out, re.M) or "a_good" in out:
        fail(f"--only c_other: exit {status}, output {out!r}")
    if len(list(work.glob("frugalsim-figures.*"))) != 1:
        fail("the logs of a run where every figure succeeded were not removed")

    # Bad usage: exit 2 before running anything.
    for bad in (["--only", "nope"], ["--jobs", "0"], ["--frobnicate"], ["--build", work / "no-such-build"]):
        status, out, err = figures_sh("--results", results, *bad)
        if status != 2 or "[1/" in out:
            fail(f"{' '.join(map(str, bad))}: exit {status} (expected 2), output {out!r}")

    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
