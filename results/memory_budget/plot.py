#!/usr/bin/python3
"""Draws the memory-budget figure from a `frugalsim sweep` of sweep.json: iteration time against
the peak GPU memory of each memory policy, one panel per model and cluster. The optimal policy's
points (one per memory_budget) form its curve, with and without `offload`; the other policies are single points; runs that
do not fit are left out (their count is printed). Writes memory_budget.pdf and .png (and .svg
with --svg) next to this script (or into --figures DIR), in the shared figure style
(scripts/frugal_plot_style.py), and prints the table it draws.

usage: plot.py SWEEP_DIR [--figures DIR] [--svg]
"""
import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402

GIB = 1024.0 ** 3
MARKERS = {"none": "o", "selective": "s", "full": "^", "every 4": "v", "offload": "D"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--svg", action="store_true")
    args = parser.parse_args()

    rows = list(csv.DictReader(open(args.sweep_dir / "sweep.csv")))
    panels = defaultdict(list)  # (model, cluster) -> rows that ran
    left_out = 0
    for r in rows:
        # The cluster's name from the summary ("summary.cluster" next to the swept file name).
        r["cluster"] = r.get("summary.cluster") or r["cluster"]
        if r["status"] != "ok":
            left_out += 1
            continue
        panels[(r["model"], r["cluster"])].append(r)
    models = sorted({m for m, _ in panels}, key=lambda m: [r["model"] for r in rows].index(m))
    clusters = sorted({c for _, c in panels}, key=lambda c: [r["cluster"] for r in rows].index(c))

    fig, axes = style.figure("double", height_in=4.2, nrows=len(models) + 1, ncols=len(clusters),
                             gridspec_kw={"height_ratios": [1] * len(models) + [0.18]}, squeeze=False)
    handles = {}
    print(f"{'model':10} {'cluster':10} {'policy':16} {'peak GiB':>9} {'iteration s':>12}")
    for i, model in enumerate(models):
        for j, cluster in enumerate(clusters):
            ax = axes[i][j]
            runs = panels.get((model, cluster), [])
            for prefix, label, color, line in (("optimal ", "optimal (one point per budget)", style.COLORS[0], "-o"),
                                               ("optimal+offload ", "optimal with offload", style.COLORS[7], "--x")):
                curve = sorted((float(r["max_peak_memory_bytes"]) / GIB, float(r["iteration_time_s"]))
                               for r in runs if r["policy"].startswith(prefix))
                if curve:
                    h, = ax.plot([m for m, _ in curve], [t for _, t in curve], line, color=color, markersize=3, linewidth=1)
                    handles[label] = h
            for k, (policy, marker) in enumerate(MARKERS.items()):
                for r in runs:
                    if r["policy"] == policy:
                        h = ax.scatter(float(r["max_peak_memory_bytes"]) / GIB, float(r["iteration_time_s"]),
                                       marker=marker, color=style.COLORS[k + 1], s=18, zorder=3)
                        handles[policy] = h
            for r in runs:
                print(f"{model:10} {cluster:10} {r['policy']:16} {float(r['max_peak_memory_bytes']) / GIB:9.2f} "
                      f"{float(r['iteration_time_s']):12.4f}")
            ax.set_yscale("log")
            ax.set_title(f"{model}, {cluster}", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel("peak GPU memory (GiB)")
            if j == 0:
                ax.set_ylabel("iteration (s)")
    for j in range(len(clusters)):
        axes[-1][j].axis("off")
    fig.tight_layout()
    legend = axes[-1][0].legend(list(handles.values()), list(handles.keys()), loc="center", ncol=3, borderaxespad=0,
                                handlelength=1.6, columnspacing=1.2, bbox_to_anchor=(0.5 * len(clusters) + 0.1, 0.3))
    legend.set_in_layout(False)
    for path in style.save(fig, args.figures / "memory_budget", svg=args.svg):
        print(f"wrote {path}")
    print(f"{left_out} of {len(rows)} runs out of memory (not drawn)")


if __name__ == "__main__":
    main()
