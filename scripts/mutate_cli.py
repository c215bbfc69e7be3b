#!/usr/bin/env python3
"""Mutation campaign of the command line: the repository's input files, mutated, through frugalsim.

Takes the studies, clusters, models (FrugalSim's and HuggingFace configs) and availability traces
of the repository, applies one or two seeded mutations to each sample (extreme or wrongly typed
values, deleted and unknown keys, units that do not exist, huge arrays, deep nesting, truncated
or corrupted text), runs `frugalsim run` on it in a fresh folder with a time limit, and checks
what a user must be able to rely on:

  - the exit code is 0 (a result) or 2 (bad input, with a message); 3 is an internal error and
    anything else (1, a signal, the time limit) is a finding;
  - no sanitizer report (AddressSanitizer, UndefinedBehaviorSanitizer) on stderr;
  - bad input leaves no output folder behind, and nothing outside the output folder changes.

Findings are kept in WORK/findings/<n>/ (the inputs, the command, its output). Exit status 1
when there is any finding, 0 otherwise. Deterministic: the same seed gives the same samples.

usage: scripts/mutate_cli.py [--bin build/bin/frugalsim] [--count 500] [--seed 1] [--jobs 2]
                             [--timeout 60] [--work DIR] [--targets study,cluster,model,trace]
"""
import argparse
import concurrent.futures
import copy
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Values that break readers: integer and float limits, empty and huge strings, control
# characters, wrong types.
EXTREMES = [
    0, -1, 1, 2**31, 2**53, 2**63 - 1, -(2**63), 2**64, 1e308, -1e308, 5e-324, 1e-300, 0.5, -0.0,
    "", "x" * 10000, "\u0000", "nan", "inf", "-1", "1e999", "80 parsecs", "-80 GiB", "1e300 GiB", "0 s",
    "1e-300 s", "25 GB/s/s", None, True, False, [], {}, [0] * 3, {"impl": "none"}, {"impl": ""},
]


def leaves(value, path=()):
    """Every (path, value) in a JSON document, containers included (paths as key/index tuples)."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))


def get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def put(doc, path, value):
    if not path:
        return value
    get(doc, path[:-1])[path[-1]] = value
    return doc


def mutate_json(doc, rng, grow):
    """One structural mutation of a parsed document; returns the new document. `grow`: huge
    arrays and deep nesting allowed (once per sample, so files stay below about 20 MB)."""
    doc = copy.deepcopy(doc)
    spots = list(leaves(doc))
    path, value = rng.choice(spots)
    op = rng.randrange(16)
    if op >= 9:  # a plausible change, so that runs go past the readers
        if isinstance(value, bool):
            return put(doc, path, not value)
        if isinstance(value, int):
            return put(doc, path, rng.choice([value * 2, value // 2, value + 1, max(value - 1, 0), 1, 3]))
        if isinstance(value, float):
            return put(doc, path, value * rng.choice([0.5, 2.0, 10.0, 0.1]))
        if isinstance(value, str) and " " in value:
            number, unit = value.split(" ", 1)
            try:
                return put(doc, path, f"{float(number) * rng.choice([0.5, 2, 10, 0.1]):g} {unit}")
            except ValueError:
                pass
        op = 0
    if op <= 2:  # an extreme value
        return put(doc, path, copy.deepcopy(rng.choice(EXTREMES)))
    if op == 3 and path:  # a key or an element removed
        parent = get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if op == 4 and isinstance(value, dict):  # an unknown key
        value["unknown_key_" + str(rng.randrange(100))] = rng.choice(EXTREMES)
        return doc
    if op == 5 and isinstance(value, (int, float)) and not isinstance(value, bool):  # scaled
        return put(doc, path, value * rng.choice([-1, 0, 1e6, 1e12, 2**40, 1e-9]))
    if op == 6 and isinstance(value, str):  # a quantity's number or unit changed
        parts = value.split(" ", 1)
        if len(parts) == 2:
            return put(doc, path, rng.choice(["1e30", "-3", "0", "NaN", "1e-30", "99999999999999999999"]) + " " + parts[1])
        return put(doc, path, value + rng.choice([" GiB", "%", "\n", "\"", "\\"]))
    if not grow or op not in (7, 8):
        return put(doc, path, copy.deepcopy(rng.choice(EXTREMES)))
    if op == 7 and isinstance(value, list) and value:  # a huge array
        copies = rng.choice([1000, 20000]) if len(json.dumps(value[0])) < 1000 else 1000
        return put(doc, path, [copy.deepcopy(value[0]) for _ in range(copies)])
    # deep nesting
    nested = value
    for _ in range(rng.choice([50, 101, 1000])):
        nested = [nested]
    return put(doc, path, nested)


def mutate_text(text, rng):
    """One textual mutation: truncation, a flipped byte, a number literal no double holds."""
    op = rng.randrange(3)
    if op == 0 and text:
        return text[: rng.randrange(len(text))]
    if op == 1 and text:
        i = rng.randrange(len(text))
        return text[:i] + chr(rng.randrange(1, 256)) + text[i + 1 :]
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(["1e999", "-1e999", "\u0000", "]]]]", "{", "9" * 400]) + text[i:]


def mutate(text, is_json, rng):
    """One or two mutations; JSON files mostly structurally, other files as text."""
    count = rng.randint(1, 2)
    for k in range(count):
        if is_json and rng.random() < 0.8:
            try:
                text = json.dumps(mutate_json(json.loads(text), rng, grow=k == count - 1), indent=1)
                continue
            except (ValueError, RecursionError):
                pass  # already broken text: mutate it as text
        text = mutate_text(text, rng)
    return text


# --- targets: a repository file to mutate and the study that reads it -----------------------------

def quickstart_study(**changes):
    study = json.loads((ROOT / "results/quickstart/study.json").read_text())
    study["training"]["iterations"] = 1
    study.update(changes)
    return study


def campaign_study(trace_name, fmt):
    study = quickstart_study(cluster="cluster.json")
    study["campaign"] = {
        "goal": {"wall_time": "2 h"},
        "iteration_time": "10 s",
        "availability": {t: {"impl": "trace", "file": trace_name, "format": fmt} for t in ("a100", "rtx4090")},
        "resilience": {"checkpoint": {"impl": "young"}, "recovery": {"impl": "restart"}},
    }
    return study


def targets():
    """(target, source file, name of the mutated copy, study JSON that reads it or None)."""
    out = []
    for study in sorted((ROOT / "results").glob("*/study.json")):
        out.append(("study", study, "study.json", None))
    for cluster in sorted((ROOT / "platforms/clusters").glob("*.json")):
        out.append(("cluster", cluster, "cluster.json", quickstart_study(cluster="cluster.json")))
    for model in sorted((ROOT / "workloads/models").glob("*.json")) + sorted((ROOT / "tests/data/hf").glob("*/config.json")):
        out.append(("model", model, "model.json", quickstart_study(model="model.json")))
    formats = {"state_profile.txt": "state_profile", "speed_profile.txt": "speed_profile", "counts.json": "count_json",
               "spot_events.csv": "event_csv", "fta.txt": "fta"}
    for name, fmt in formats.items():
        out.append(("trace", ROOT / "tests/data/traces" / name, name, campaign_study(name, fmt)))
    return out


def snapshot(folder):
    """Every file under folder with its hash (to see what a run changed)."""
    seen = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            seen[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return seen


def run_sample(args, index, target):
    kind, source, name, wrapper = target
    rng = random.Random(f"{args.seed}/{index}")
    work = Path(args.work) / f"s{index}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # A study's own folder comes along (relative cluster files, traces).
    if kind == "study":
        for f in source.parent.iterdir():
            if f.is_file():
                shutil.copy(f, work / f.name)
    if kind == "trace":
        (work / "cluster.json").write_text((ROOT / "platforms/clusters/quickstart.json").read_text())
    text = source.read_text(errors="replace")
    (work / name).write_text(mutate(text, source.suffix == ".json", rng), errors="surrogateescape")
    study = work / "study.json"
    if wrapper is not None:
        study = work / "wrapper-study.json"
        study.write_text(json.dumps(wrapper, indent=1))
    before = snapshot(work)
    started = time.monotonic()
    out = work / "out"
    cmd = [args.bin, "run", str(study), "-o", str(out), "-q"]
    try:
        p = subprocess.run(cmd, cwd=work, capture_output=True, timeout=args.timeout, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        code, output = p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        code, output = "timeout", ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace")
    problems = []
    if code not in (0, 2):
        problems.append(f"exit {code}")
    for report in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        if report in output:
            problems.append(f"sanitizer report ({report})")
    if code == 2 and not output.strip():
        problems.append("exit 2 without a message")
    if code == 2 and out.exists():
        problems.append("bad input left an output folder")
    after = snapshot(work)
    changed = sorted(k for k in set(before) | set(after) if not k.startswith("out/") and before.get(k) != after.get(k))
    if changed:
        problems.append("files outside the output folder changed: " + ", ".join(changed[:5]))
    result = {"index": index, "target": kind, "source": str(source.relative_to(ROOT)), "exit": code,
              "problems": problems, "seconds": time.monotonic() - started}
    if problems:
        keep = Path(args.work) / "findings" / str(index)
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(work, keep, ignore=shutil.ignore_patterns("out"))
        (keep / "command.txt").write_text(" ".join(cmd) + "\n")
        (keep / "output.txt").write_text(output)
    shutil.rmtree(work, ignore_errors=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "build/bin/frugalsim"))
    parser.add_argument("--count", type=int, default=500, help="samples (spread over the targets in turn)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per run")
    parser.add_argument("--work", default=None, help="working folder (default: a fresh temporary one)")
    parser.add_argument("--targets", default="study,cluster,model,trace")
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"mutate_cli: {args.bin} is not an executable (build it first)")
    args.bin = str(Path(args.bin).resolve())
    args.work = str(Path(args.work).resolve()) if args.work else tempfile.mkdtemp(prefix="frugal-mutate-")
    wanted = set(args.targets.split(","))
    pool = [t for t in targets() if t[0] in wanted]
    if not pool:
        sys.exit("mutate_cli: no target selected")
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futures = [ex.submit(run_sample, args, i, pool[i % len(pool)]) for i in range(args.count)]
        for f in concurrent.futures.as_completed(futures):
            results.append(f.result())
    results.sort(key=lambda r: r["index"])
    print(f"mutate_cli: {len(results)} runs of {args.bin} (seed {args.seed}, limit {args.timeout:g} s each)")
    print(f"{'target':8} {'runs':>6} {'exit 0':>7} {'exit 2':>7} {'findings':>9}")
    for kind in sorted({r["target"] for r in results}):
        mine = [r for r in results if r["target"] == kind]
        print(f"{kind:8} {len(mine):6d} {sum(r['exit'] == 0 for r in mine):7d} {sum(r['exit'] == 2 for r in mine):7d} "
              f"{sum(bool(r['problems']) for r in mine):9d}")
    slowest = max(results, key=lambda r: r["seconds"])
    print(f"slowest run: {slowest['seconds']:.1f} s (sample {slowest['index']}, {slowest['source']}, exit {slowest['exit']}); "
          f"total {sum(r['seconds'] for r in results):.0f} s")
    findings = [r for r in results if r["problems"]]
    for r in findings:
        print(f"finding {r['index']} ({r['target']}, {r['source']}): {'; '.join(r['problems'])} "
              f"-> {Path(args.work) / 'findings' / str(r['index'])}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
