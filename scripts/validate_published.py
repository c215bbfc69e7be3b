#!/usr/bin/python3
"""Simulates published training runs and reports the error against their measurements.

Each case of the cases file (results/validation/published_cases.json) is a published run with its
layout and measured iteration time. The script writes one study per case (the model inline, the
cluster a DGX cluster of the case's GPU and size built from platforms/clusters/dgx-a100.json or
dgx-h100.json, the shipped GPU catalogue, no per-case tuning), runs `frugalsim run` on it, and writes into OUT:

  published.csv   id, group, GPUs, layout, measured and simulated iteration time, relative error
  summary.json    per case; MAPE, mean signed error, largest error (also per GPU, per GPU and precision, and
                  for the calibration cases, whose `role` says a catalogue parameter was fitted to
                  them, apart from the others); Kendall's tau between measured
                  and simulated per-GPU throughput, over all cases and within each model; the
                  per-layer cases (`layer_cases`: one transformer layer's forward and backward
                  times, measured on the simulated timeline) with their errors
  studies/        the studies and their `frugalsim run` outputs

and prints the table. With --plot it draws simulated against measured (results/validation/plot.py).
Relative error = (simulated - measured) / measured. A case the simulator reports out of memory or
infeasible is listed with its status and left out of the error statistics (and counted).

usage: validate_published.py [--bin FRUGALSIM] [--cases FILE] [--only TEXT]... [--jobs N]
                             [--out DIR] [--plot] [--max-error FRACTION]
"""
import argparse
import concurrent.futures
import copy
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# The shipped DGX cluster (and its node type) each case's GPU runs on.
CLUSTERS = {"A100-80GB": ("dgx-a100", "a100"), "H100-SXM": ("dgx-h100", "h100")}


def cluster_for(case):
    """DGX nodes of the case's GPU (8 GPUs each), enough for the case's GPUs."""
    if case["gpu"] not in CLUSTERS:
        raise SystemExit(f"{case['id']}: no cluster for GPU {case['gpu']} (known: {', '.join(CLUSTERS)})")
    name, node_type = CLUSTERS[case["gpu"]]
    base = json.loads((ROOT / "platforms" / "clusters" / f"{name}.json").read_text())
    gpus_per_node = base["node_types"][node_type]["gpus_per_node"]
    if case["gpus"] % gpus_per_node:
        raise SystemExit(f"{case['id']}: {case['gpus']} GPUs is not a whole number of {gpus_per_node}-GPU nodes")
    cluster = copy.deepcopy(base)
    cluster["name"] = f"{name}-{case['gpus']}"
    cluster["nodes"] = [{"type": node_type, "count": case["gpus"] // gpus_per_node}]
    return cluster


def study_for(case, timeline=False):
    training = dict(case["training"], iterations=1)
    return {"name": case["id"], "model": case["model"], "cluster": cluster_for(case), "training": training,
            "parallelism": case["parallelism"], "memory": case["memory"], "outputs": {"timeline": timeline}}


def layout(case):
    p = case["parallelism"]
    text = f"t{p.get('tensor_model_parallel_size', 1)} p{p.get('pipeline_model_parallel_size', 1)}"
    if p.get("virtual_pipeline_model_parallel_size", 1) > 1:
        text += f" v{p['virtual_pipeline_model_parallel_size']}"
    if p.get("context_parallel_size", 1) > 1:
        text += f" c{p['context_parallel_size']}"
    if p.get("sequence_parallel"):
        text += " sp"
    text = f"{text} {case['memory']['impl']} b{case['training']['micro_batch_size']}"
    return text + " fp8" if case["training"].get("precision") == "fp8" else text


def run_case(frugalsim, case, out, folder_name="studies", timeline=False):
    """Simulates `case` into OUT/FOLDER_NAME/<id> (with its timeline if asked); its summary."""
    folder = out / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    study = study_for(case, timeline)
    study_file = folder / f"{case['id']}.json"
    study_file.write_text(json.dumps(study, indent=1) + "\n")
    result = subprocess.run([frugalsim, "run", str(study_file), "-q", "-o", str(folder / case["id"])],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{case['id']}: frugalsim run exited {result.returncode}:\n{result.stderr}")
    return json.loads((folder / case["id"] / "summary.json").read_text())


def layer_times_ms(timeline_file, layer):
    """Forward and backward time of transformer layer `layer` on rank 0 of a one-micro-batch run:
    the forward from the start of its forward op to the next layer's, the backward from the start
    of its first backward op (recomputation, gathered output gradients or the backward itself) to
    the previous layer's."""
    events = [e for e in json.loads(Path(timeline_file).read_text())["traceEvents"]
              if e.get("ph") == "X" and e.get("pid") == 0]

    def first(predicate):
        starts = [e["ts"] for e in events if predicate(e["name"].split())]
        if not starts:
            raise SystemExit(f"{timeline_file}: no op of layer {layer} found")
        return min(starts)

    def forward_start(i):
        return first(lambda w: w[:2] == ["fwd", f"layer_{i}"])

    def backward_start(i):
        name = f"layer_{i}"
        return first(lambda w: (w[0] in ("recompute", "bwd") and name in w[1:3]) or
                     (len(w) > 3 and w[2] == name and w[3] in ("bwd", "recompute")))

    unit = 1e-3  # timeline microseconds to milliseconds
    return {"forward": (forward_start(layer + 1) - forward_start(layer)) * unit,
            "backward": (backward_start(layer - 1) - backward_start(layer)) * unit}


def run_layer_case(frugalsim, case, out):
    summary = run_case(frugalsim, case, out, "layer_studies", timeline=True)
    if summary["status"] != "ok":
        return {"status": summary["status"]}
    return {"status": "ok", **layer_times_ms(out / "layer_studies" / case["id"] / "timeline.json", case["layer"])}


def layer_rows(frugalsim, cases, out, jobs):
    """Per-layer cases: measured and simulated forward, backward and combined times."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda c: run_layer_case(frugalsim, c, out), cases))
    rows = []
    for case, r in zip(cases, results):
        measured = dict(case["measured_layer_ms"])
        measured["combined"] = measured["forward"] + measured["backward"]
        row = {"id": case["id"], "label": case.get("label", case["id"]), "layout": layout(case), "status": r["status"],
               "measured_ms": measured}
        if r["status"] == "ok":
            simulated = {"forward": r["forward"], "backward": r["backward"], "combined": r["forward"] + r["backward"]}
            row["simulated_ms"] = simulated
            row["error"] = {k: (simulated[k] - measured[k]) / measured[k] for k in measured}
        rows.append(row)
    ok = [r for r in rows if r["status"] == "ok"]
    stats = {"cases": len(rows), "simulated": len(ok)}
    if ok:
        for part in ("forward", "backward", "combined"):
            stats[f"mape_{part}"] = sum(abs(r["error"][part]) for r in ok) / len(ok)
    return rows, stats


def kendall_tau(xs, ys):
    """Kendall's tau-b of two sequences (ties in either count as neither concordant nor discordant)."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator else None


def fmt_tau(tau):
    return "n/a (fewer than 2 cases)" if tau is None else f"{tau:.3f}"


def statistics(rows):
    ok = [r for r in rows if r["status"] == "ok"]
    errors = [r["error"] for r in ok]
    stats = {"cases": len(rows), "simulated": len(ok), "not_ok": {r["id"]: r["status"] for r in rows if r["status"] != "ok"}}
    if errors:
        stats["mape"] = sum(abs(e) for e in errors) / len(errors)
        stats["mean_signed_error"] = sum(errors) / len(errors)
        worst = max(ok, key=lambda r: abs(r["error"]))
        stats["largest_error"] = {"id": worst["id"], "error": worst["error"]}
        stats["within_5_percent"] = sum(1 for e in errors if abs(e) <= 0.05)
        stats["per_gpu"] = error_summary(ok, lambda r: r["gpu"])
        # fp8 against 16-bit runs on each GPU (the frameworks' fp8 recipe against bf16 or fp16).
        stats["per_gpu_and_precision"] = error_summary(
            ok, lambda r: f"{r['gpu']} {'fp8' if r['precision'] == 'fp8' else '16-bit'}")
        # Cases a catalogue parameter was fitted to (role "calibration") against the others.
        stats["per_role"] = error_summary(ok, lambda r: r["role"])
        # Ranking of per-GPU throughput (samples per second per GPU), over every case and per model.
        rate = lambda r, key: r["global_batch_size"] / r[key] / r["gpus"]  # noqa: E731
        stats["kendall_tau_all"] = kendall_tau([rate(r, "measured_s") for r in ok], [rate(r, "simulated_s") for r in ok])
        by_model = {}
        for r in ok:
            by_model.setdefault(r["model"], []).append(r)
        stats["kendall_tau_per_model"] = {
            m: kendall_tau([rate(r, "measured_s") for r in rs], [rate(r, "simulated_s") for r in rs])
            for m, rs in sorted(by_model.items()) if len(rs) >= 2}
        # Strategies ranked within one publication (one code base and cluster), per model.
        by_source = {}
        for r in ok:
            by_source.setdefault(f"{source_of(r)} {r['model']}", []).append(r)
        stats["kendall_tau_per_source_and_model"] = {
            k: kendall_tau([rate(r, "measured_s") for r in rs], [rate(r, "simulated_s") for r in rs])
            for k, rs in sorted(by_source.items()) if len(rs) >= 2}
        stats["same_layout_across_sources"] = same_layout_pairs(ok)
    return stats


def error_summary(rows, key):
    """Cases, MAPE and mean signed error of the rows' errors, per key(row)."""
    errors_by_key = {}
    for r in rows:
        errors_by_key.setdefault(key(r), []).append(r["error"])
    return {k: {"cases": len(es), "mape": sum(abs(e) for e in es) / len(es), "mean_signed_error": sum(es) / len(es)}
            for k, es in sorted(errors_by_key.items())}


def source_of(row):
    """The publication of a case: its group without the table ("narayanan_table1" → "narayanan")."""
    return row["group"].split("_")[0]


def same_layout_pairs(rows):
    """Cases of different publications that run the same model with the same layout, recomputation
    and micro-batches per pipeline (so the same work per GPU between gradient reductions): their
    measured times should agree, and the ratio says how far the publications' code bases differ."""
    def key(r):
        return (r["model"], r["layout"], r["global_batch_size"] * r["tensor_pipeline"] // r["gpus"])
    pairs = []
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if source_of(a) != source_of(b) and key(a) == key(b):
                pairs.append({"cases": [a["id"], b["id"]], "measured_ratio": b["measured_s"] / a["measured_s"],
                              "simulated_ratio": b["simulated_s"] / a["simulated_s"]})
    return pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=str(ROOT / "build" / "bin" / "frugalsim"), help="frugalsim executable")
    parser.add_argument("--cases", type=Path, default=ROOT / "results" / "validation" / "published_cases.json")
    parser.add_argument("--only", action="append", default=[], help="cases whose id contains TEXT (repeatable)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="simulations run at once")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "validation" / "out")
    parser.add_argument("--plot", action="store_true", help="draw simulated vs measured (results/validation/plot.py)")
    parser.add_argument("--max-error", type=float, help="exit 1 when a case is not simulated or errs by more than this "
                        "fraction (a regression check)")
    args = parser.parse_args()

    document = json.loads(args.cases.read_text())
    cases, layer_cases = document["cases"], document.get("layer_cases", [])
    if args.only:
        cases = [c for c in cases if any(text in c["id"] for text in args.only)]
        layer_cases = [c for c in layer_cases if any(text in c["id"] for text in args.only)]
    if not cases and not layer_cases:
        raise SystemExit("no case selected")
    args.out.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        summaries = list(pool.map(lambda c: run_case(args.bin, c, args.out), cases))

    rows = []
    for case, s in zip(cases, summaries):
        simulated = s.get("iteration_time_s")
        measured = case["measured_iteration_time_s"]
        rows.append({"id": case["id"], "label": case.get("label", case["id"]), "group": case["group"], "model": case["model"]["name"],
                     "gpu": case["gpu"], "gpus": case["gpus"], "precision": case["training"].get("precision", "bf16"),
                     "layout": layout(case), "global_batch_size": case["training"]["global_batch_size"],
                     "tensor_pipeline": case["parallelism"].get("tensor_model_parallel_size", 1) *
                     case["parallelism"].get("pipeline_model_parallel_size", 1),
                     "status": s["status"], "measured_s": measured, "simulated_s": simulated,
                     "error": (simulated - measured) / measured if simulated else None,
                     "measured_how": case["measured_how"], "role": case.get("role", "validation")})
    with open(args.out / "published.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "group", "gpus", "layout", "measured_s", "simulated_s", "error", "status"])
        for r in rows:
            writer.writerow([r["id"], r["group"], r["gpus"], r["layout"], r["measured_s"],
                             "" if r["simulated_s"] is None else f"{r['simulated_s']:.6g}",
                             "" if r["error"] is None else f"{r['error']:.4f}", r["status"]])
    stats = statistics(rows)
    layers, layer_stats = layer_rows(args.bin, layer_cases, args.out, args.jobs) if layer_cases else ([], {})
    (args.out / "summary.json").write_text(json.dumps({"statistics": stats, "cases": rows, "layer_statistics": layer_stats,
                                                       "layer_cases": layers}, indent=1) + "\n")

    print(f"{'case':44} {'GPUs':>5} {'layout':24} {'measured':>9} {'simulated':>9} {'error':>7}")
    for r in rows:
        sim = f"{r['simulated_s']:9.3f}" if r["simulated_s"] else f"{r['status']:>9}"
        err = f"{100 * r['error']:+6.1f}%" if r["error"] is not None else ""
        print(f"{r['id']:44} {r['gpus']:5} {r['layout']:24} {r['measured_s']:9.3f} {sim} {err:>7}")
    if "mape" in stats:
        print(f"MAPE {100 * stats['mape']:.1f}% over {stats['simulated']} cases, mean signed error "
              f"{100 * stats['mean_signed_error']:+.1f}%, largest {100 * stats['largest_error']['error']:+.1f}% "
              f"({stats['largest_error']['id']}), {stats['within_5_percent']} within 5%; Kendall tau of per-GPU "
              f"throughput {fmt_tau(stats['kendall_tau_all'])}")
        for key in ("per_gpu", "per_gpu_and_precision", "per_role"):
            if len(stats[key]) > 1:
                print(key.replace("_", " ") + ": " + ", ".join(
                    f"{g} MAPE {100 * v['mape']:.1f}% (mean {100 * v['mean_signed_error']:+.1f}%, {v['cases']} cases)"
                    for g, v in stats[key].items()))
        print("Kendall tau per publication and model: " + ", ".join(
            f"{k} {fmt_tau(t)}" for k, t in stats["kendall_tau_per_source_and_model"].items()))
        for pair in stats["same_layout_across_sources"]:
            print(f"same layout in two publications: {pair['cases'][1]} / {pair['cases'][0]}: measured "
                  f"{pair['measured_ratio']:.3f}, simulated {pair['simulated_ratio']:.3f}")
    if stats["not_ok"]:
        print("not simulated: " + ", ".join(f"{k} ({v})" for k, v in stats["not_ok"].items()))
    if layers:
        print(f"\n{'per-layer case':44} {'layout':24} {'forward ms (meas/sim)':>22} {'backward ms (meas/sim)':>23}")
        for r in layers:
            m = r["measured_ms"]
            if r["status"] != "ok":
                print(f"{r['id']:44} {r['layout']:24} {r['status']}")
                continue
            sim, err = r["simulated_ms"], r["error"]
            print(f"{r['id']:44} {r['layout']:24} {m['forward']:5.1f} {sim['forward']:6.2f} {100 * err['forward']:+5.1f}%"
                  f"   {m['backward']:5.1f} {sim['backward']:6.2f} {100 * err['backward']:+5.1f}%")
        if layer_stats.get("simulated"):
            print(f"per layer: MAPE forward {100 * layer_stats['mape_forward']:.1f}%, backward "
                  f"{100 * layer_stats['mape_backward']:.1f}%, forward + backward {100 * layer_stats['mape_combined']:.1f}%")
    if args.plot:
        subprocess.run(["/usr/bin/python3", str(ROOT / "results" / "validation" / "plot.py"), str(args.out)], check=True)
    if args.max_error is not None:
        bad = [r["id"] for r in rows if r["error"] is None or abs(r["error"]) > args.max_error]
        bad += [r["id"] for r in layers if r["status"] != "ok" or abs(r["error"]["combined"]) > args.max_error]
        if bad:
            print(f"beyond {100 * args.max_error:g}% or not simulated: {', '.join(bad)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
