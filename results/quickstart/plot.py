#!/usr/bin/python3
"""Draws the quickstart run in the shared figure style (scripts/frugal_plot_style.py), as one
double-column figure: a per-GPU timeline of the last simulated iteration (one row per rank and
stream) above a per-GPU time breakdown. Reads summary.json and timeline.json from a run folder,
writes quickstart.pdf and quickstart.png into it (and quickstart.svg with --svg).

usage: plot.py RUN_DIR [--svg]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

C = style.COLORS
KIND_COLORS = {"compute": C[0], "collective": C[1], "send": C[2], "recv": C[2], "copy": C[4],
               "checkpoint_write": C[3]}
KIND_LABELS = {"compute": "compute", "collective": "collective", "send": "send / recv", "recv": "send / recv",
               "copy": "copy", "checkpoint_write": "checkpoint write"}


def draw_timeline(ax, summary, timeline):
    threads = {}
    spans = []
    for e in timeline["traceEvents"]:
        if e["ph"] == "M" and e["name"] == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif e["ph"] == "X" and e["args"].get("iteration", 0) == summary["iterations"] - 1:
            spans.append(e)
    gpus = {g["rank"]: g["gpu"].split()[0] for g in summary["per_gpu"]}
    t0 = min(e["ts"] for e in spans)
    rows = sorted({(e["pid"], e["tid"]) for e in spans})
    for y, (pid, tid) in enumerate(rows):
        for e in (s for s in spans if (s["pid"], s["tid"]) == (pid, tid)):
            ax.barh(y, e["dur"] / 1e3, left=(e["ts"] - t0) / 1e3, height=0.8,
                    color=KIND_COLORS.get(e["cat"], "grey"), linewidth=0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"r{p} {gpus.get(p, '')} {threads.get((p, t), t)}" for p, t in rows])
    ax.invert_yaxis()
    ax.set_xlabel("time in the last simulated iteration (ms)")
    ax.set_title("Per-GPU timeline")
    kinds = sorted({e["cat"] for e in spans}, key=list(KIND_COLORS).index)
    labels = list(dict.fromkeys(KIND_LABELS.get(k, k) for k in kinds))
    colors = {KIND_LABELS.get(k, k): KIND_COLORS.get(k, "grey") for k in kinds}
    return [Patch(color=colors[label]) for label in labels], labels


def draw_breakdown(ax, summary):
    gpus = summary["per_gpu"]
    labels = [f"r{g['rank']}\n{g['gpu'].split()[0].split('-')[0]}\n{g['samples']} smp" for g in gpus]
    compute = [g["compute_s"] * 1e3 for g in gpus]
    exposed = [g["exposed_communication_s"] * 1e3 for g in gpus]
    idle = [g["idle_s"] * 1e3 for g in gpus]
    x = range(len(gpus))
    ax.bar(x, compute, color=KIND_COLORS["compute"], label="compute")
    ax.bar(x, exposed, bottom=compute, color=C[3], label="exposed communication")
    ax.bar(x, idle, bottom=[c + e for c, e in zip(compute, exposed)], color="#BBBBBB", label="idle")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_ylabel("ms per iteration")
    ax.set_title(f"Time breakdown (iteration {summary['iteration_time_s'] * 1e3:.1f} ms, MFU {summary['mfu']:.2f})")
    return ax.get_legend_handles_labels()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    style.add_format_arguments(parser)
    args = parser.parse_args(argv[1:])
    summary = json.loads((args.run_dir / "summary.json").read_text())
    timeline = json.loads((args.run_dir / "timeline.json").read_text())
    if summary["status"] != "ok":
        print(f"run status is {summary['status']}: {summary.get('reason', '')}; nothing to plot", file=sys.stderr)
        return 2
    fig, axes = style.figure("double", height_in=5.6, nrows=3, ncols=1,
                             gridspec_kw={"height_ratios": [6, 0.35, 3.2]})
    handles, labels = draw_timeline(axes[0], summary, timeline)
    more_handles, more_labels = draw_breakdown(axes[2], summary)
    for h, label in zip(more_handles, more_labels):
        if label not in labels:
            handles.append(h)
            labels.append(label)
    style.legend_row(axes[1], handles, labels, ncol=len(labels))
    fig.suptitle(f"{summary['study']}: {summary['model']} on {summary['cluster']} ({summary['gpus']} GPUs)")
    for path in style.save(fig, args.run_dir / "quickstart", svg=args.svg):
        print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
