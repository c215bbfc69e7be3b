#!/usr/bin/python3
"""Runs every plot script on small inputs (the quickstart study simulated here; a 48-point subset
of the checkpoint-interval sweep, a calibration report, a published-runs validation and the
memory-budget, scaling, heterogeneous-cluster and energy sweeps and three layout searches from
tests/data/plots/) twice, and
checks the shared figure style's promises: no Type 3 font in any generated or committed PDF
(pdffonts, from poppler-utils), fonts embedded, column widths, no creation date, and byte-identical
PDF, PNG and SVG from two runs (also with SOURCE_DATE_EPOCH set). Every results/*/plot.py must be
among the scripts run.

usage: plot_scripts_test.py FRUGALSIM WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "plots"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-matplotlib
WIDTHS_PT = (3.5 * 72, 7.16 * 72)
failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def run(cmd, env=None):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def check_pdf(pdf):
    out = run(["pdffonts", pdf]).splitlines()[2:]
    if not out:
        fail(f"{pdf}: no fonts listed")
    for line in out:
        if "Type 3" in line:
            fail(f"{pdf}: Type 3 font: {line}")
        if re.search(r"\s(no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line):
            fail(f"{pdf}: font not embedded: {line}")
    data = pdf.read_bytes()
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    if not box or min(abs(float(box.group(1)) - w) for w in WIDTHS_PT) > 1:
        fail(f"{pdf}: page width {box.group(1) if box else '?'} pt is not one or two columns")


def same_bytes(a, b):
    if a.read_bytes() != b.read_bytes():
        fail(f"{a} and {b} differ")


SWEEP_FIGURES = ("memory_budget", "scaling", "heterogeneous", "energy")  # results/<name>/plot.py SWEEP_DIR
scripts_run = set()


def plot(env, script, *args):
    scripts_run.add(Path(script).resolve())
    run([PYTHON, script, *args], env)


def produce(tag, env, work, frugalsim_run):
    """Every plot script's outputs for one run of all of them, in work/tag."""
    out = work / tag
    shutil.rmtree(out, ignore_errors=True)
    qs = out / "quickstart"
    shutil.copytree(frugalsim_run, qs)
    plot(env, ROOT / "results/quickstart/plot.py", qs, "--svg")
    sweep = out / "sweep"
    sweep.mkdir(parents=True)
    shutil.copy(DATA / "checkpoint_sweep.csv", sweep / "sweep.csv")
    plot(env, ROOT / "results/checkpoint_interval/plot.py", sweep, "--figures", out / "ckpt", "--svg")
    plot(env, ROOT / "scripts/plot_validation.py", DATA / "validation_report.json", out / "validation.png", "--svg")
    plot(env, ROOT / "results/validation/plot.py", DATA / "published", "--figures", out / "published", "--svg")
    for name in SWEEP_FIGURES:  # a recorded sweep.csv (the columns the script reads) in tests/data/plots/
        sweep = out / f"{name}_sweep"
        sweep.mkdir(parents=True)
        shutil.copy(DATA / f"{name}_sweep.csv", sweep / "sweep.csv")
        plot(env, ROOT / f"results/{name}/plot.py", sweep, "--figures", out / name, "--svg")
    # The layout search's Pareto figure: search.csv of three searches (finalists and a sample of
    # the screened layouts), recorded in tests/data/plots/search/.
    plot(env, ROOT / "results/search/plot.py", DATA / "search", "--figures", out / "search", "--svg")
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.suffix in (".pdf", ".png", ".svg"))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    frugalsim, work = Path(argv[1]), Path(argv[2])
    if shutil.which("pdffonts") is None:
        print("pdffonts not found: scripts/install-deps.sh installs poppler-utils", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run([frugalsim, "run", ROOT / "results/quickstart/study.json", "-o", work / "run", "--set",
         "/training/iterations=1"])
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    first = produce("a", env, work, work / "run")
    second = produce("b", env, work, work / "run")
    if first != second or len([p for p in first if p.suffix == ".pdf"]) != 5 + len(SWEEP_FIGURES):
        fail(f"the two runs wrote different files: {first} / {second}")
    untested = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "results").glob("*/plot.py") if p.resolve() not in scripts_run)
    if untested:
        fail(f"plot scripts not run by this test: {untested} (add them to produce() with small inputs)")
    for rel in first:
        same_bytes(work / "a" / rel, work / "b" / rel)
        if rel.suffix == ".pdf":
            check_pdf(work / "a" / rel)
            if b"/CreationDate" in (work / "a" / rel).read_bytes():
                fail(f"{rel}: has a CreationDate without SOURCE_DATE_EPOCH")
    epoch = dict(env, SOURCE_DATE_EPOCH="1700000000")
    dated = produce("c", epoch, work, work / "run")
    produce("d", epoch, work, work / "run")
    for rel in dated:
        same_bytes(work / "c" / rel, work / "d" / rel)
    committed = sorted((ROOT / "results").rglob("*.pdf"))
    for pdf in committed:
        if "out" not in pdf.relative_to(ROOT / "results").parts:
            check_pdf(pdf)
    print(f"{len(first)} figures per run, {len(committed)} committed PDFs checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
