#!/usr/bin/python3
"""Draws the quickstart run: a per-GPU timeline of one iteration (compute and communication
streams) and a per-GPU time breakdown. Reads summary.json and timeline.json from a run folder,
writes quickstart.png and quickstart.pdf into it.

usage: plot.py RUN_DIR
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"compute": "#4C72B0", "collective": "#DD8452", "send": "#55A868", "recv": "#55A868",
          "copy": "#8172B3", "checkpoint_write": "#C44E52"}


def load(run_dir: Path):
    summary = json.loads((run_dir / "summary.json").read_text())
    timeline = json.loads((run_dir / "timeline.json").read_text())
    return summary, timeline


def draw_timeline(ax, summary, timeline):
    names = {}
    threads = {}
    spans = []
    for e in timeline["traceEvents"]:
        if e["ph"] == "M" and e["name"] == "process_name":
            names[e["pid"]] = e["args"]["name"]
        elif e["ph"] == "M" and e["name"] == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif e["ph"] == "X" and e["args"].get("iteration", 0) == summary["iterations"] - 1:
            spans.append(e)
    t0 = min(e["ts"] for e in spans)
    rows = sorted({(e["pid"], e["tid"]) for e in spans})
    for y, (pid, tid) in enumerate(rows):
        for e in (s for s in spans if (s["pid"], s["tid"]) == (pid, tid)):
            ax.barh(y, e["dur"] / 1e3, left=(e["ts"] - t0) / 1e3, height=0.8,
                    color=COLORS.get(e["cat"], "grey"), linewidth=0)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{names.get(p, p)} · {threads.get((p, t), t)}" for p, t in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time in the last simulated iteration (ms)")
    ax.set_title("Per-GPU timeline")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in (COLORS["compute"], COLORS["collective"])]
    ax.legend(handles, ["compute", "all-reduce"], loc="lower right", fontsize=8)


def draw_breakdown(ax, summary):
    gpus = summary["per_gpu"]
    labels = [f"r{g['rank']}\n{g['gpu'].split()[0].split('-')[0]}\n{g['samples']} smp" for g in gpus]
    compute = [g["compute_s"] * 1e3 for g in gpus]
    exposed = [g["exposed_communication_s"] * 1e3 for g in gpus]
    idle = [g["idle_s"] * 1e3 for g in gpus]
    x = range(len(gpus))
    ax.bar(x, compute, color=COLORS["compute"], label="compute")
    ax.bar(x, exposed, bottom=compute, color=COLORS["collective"], label="exposed communication")
    ax.bar(x, idle, bottom=[c + e for c, e in zip(compute, exposed)], color="#CCCCCC", label="idle")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("ms per iteration")
    ax.set_title(f"Time breakdown (iteration {summary['iteration_time_s'] * 1e3:.1f} ms, "
                 f"MFU {summary['mfu']:.2f})")
    ax.legend(fontsize=8)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    run_dir = Path(argv[1])
    summary, timeline = load(run_dir)
    if summary["status"] != "ok":
        print(f"run status is {summary['status']}: {summary.get('reason', '')}; nothing to plot", file=sys.stderr)
        return 2
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    draw_timeline(ax1, summary, timeline)
    draw_breakdown(ax2, summary)
    fig.suptitle(f"{summary['study']}: {summary['model']} on {summary['cluster']} ({summary['gpus']} GPUs)")
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(run_dir / f"quickstart.{ext}", dpi=130)
    print(f"plots: {run_dir / 'quickstart.png'} {run_dir / 'quickstart.pdf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
