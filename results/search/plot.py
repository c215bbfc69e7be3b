#!/usr/bin/python3
"""Draws the layout search's Pareto figure from `frugalsim search` runs of pareto_study.json with
--max-gpus 8, 16 and 32 (folders pareto-8, pareto-16, pareto-32 of OUT): throughput against GPUs
(left) and cost per million tokens against throughput (right). Grey: the closed-form estimate of
every layout that passed the screen; colours: the simulated finalists of each search; the line:
the Pareto front of the simulated layouts (more tokens/s for fewer GPUs, or for a lower cost);
dashed: ideal linear scaling from the best 8-GPU layout. Writes search_pareto.pdf and .png (and
.svg with --svg) next to this script (or into --figures DIR) in the shared figure style
(scripts/frugal_plot_style.py), and prints the front.

usage: plot.py OUT [--figures DIR] [--svg]
"""
import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402


def front(points, better):
    """The points no other point dominates; `better(a, b)`: a at least as good as b on both axes."""
    return sorted(p for p in points if not any(q != p and better(q, p) for q in points))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    style.add_format_arguments(parser)
    args = parser.parse_args()

    runs = sorted((d for d in args.out.glob("pareto-*") if (d / "search.csv").exists()),
                  key=lambda d: int(d.name.split("-")[1]))
    if not runs:
        sys.exit(f"plot.py: no pareto-*/search.csv under {args.out}")
    estimates, simulated = [], []  # (gpus, tokens/s, cost per million tokens)
    for run in runs:
        rows = list(csv.DictReader(open(run / "search.csv")))
        for r in rows:
            if r["estimated_tokens_per_s"] == "":
                continue
            nodes = int(r["nodes"])
            if r["tokens_per_s"] and r["status"] == "ok":
                simulated.append((run.name, nodes, float(r["tokens_per_s"]), float(r["cost_per_token"]) * 1e6))
            if run == runs[-1] and r["fate"] not in ("invalid",):
                estimates.append((nodes, float(r["estimated_tokens_per_s"]), float(r["estimated_cost_per_token"]) * 1e6))
    gpus_per_node = 8  # DGX A100 nodes (pareto_study.json's cluster)
    fig, axes = style.figure("double", height_in=3.0, nrows=2, ncols=2,
                             gridspec_kw={"height_ratios": [1, 0.22]})
    left, right = axes[0]
    left.scatter([n * gpus_per_node for n, _, _ in estimates], [t / 1e3 for _, t, _ in estimates], s=3,
                 color="0.8", label="estimate (every layout)", zorder=1)
    right.scatter([t / 1e3 for _, t, _ in estimates], [c for _, _, c in estimates], s=3, color="0.8", zorder=1)
    handles, labels = [left.collections[0]], ["estimate (every screened layout)"]
    for k, run in enumerate(runs):
        pts = [(n, t, c) for name, n, t, c in simulated if name == run.name]
        h = left.scatter([n * gpus_per_node for n, _, _ in pts], [t / 1e3 for _, t, _ in pts], s=14,
                         color=style.COLORS[k], zorder=3)
        right.scatter([t / 1e3 for _, t, _ in pts], [c for _, _, c in pts], s=14, color=style.COLORS[k], zorder=3)
        handles.append(h)
        labels.append(f"simulated, search within {run.name.split('-')[1]} GPUs")
    sim = [(n * gpus_per_node, t, c) for _, n, t, c in simulated]
    by_gpus = front([(g, t) for g, t, _ in sim], lambda a, b: a[0] <= b[0] and a[1] >= b[1])
    h, = left.plot([g for g, _ in by_gpus], [t / 1e3 for _, t in by_gpus], "-", color="k", linewidth=1, zorder=2)
    handles.append(h)
    labels.append("Pareto front (simulated)")
    if by_gpus:
        g0, t0 = by_gpus[0]
        xs = sorted({g for g, _, _ in sim})
        h, = left.plot(xs, [t0 * g / g0 / 1e3 for g in xs], "--", color="0.4", linewidth=0.8, zorder=2)
        handles.append(h)
        labels.append("ideal scaling")
    by_cost = front([(t, c) for _, t, c in sim], lambda a, b: a[0] >= b[0] and a[1] <= b[1])
    right.plot([t / 1e3 for t, _ in by_cost], [c for _, c in by_cost], "-", color="k", linewidth=1, zorder=2)
    left.set_xscale("log", base=2)
    left.set_xticks([8, 16, 32])
    left.set_xticklabels(["8", "16", "32"])
    left.set_xlabel("GPUs (A100-80GB)")
    left.set_ylabel("throughput (k tokens/s)")
    right.set_xlabel("throughput (k tokens/s)")
    right.set_ylabel("cost per million tokens")
    grid = axes[1][0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    legend_ax = fig.add_subplot(grid[1, :])
    style.legend_row(legend_ax, handles, labels, ncol=3)
    fig.tight_layout()
    print(f"{'GPUs':>5} {'tokens/s':>10}  (Pareto front, simulated)")
    for g, t in by_gpus:
        print(f"{g:5d} {t:10.0f}")
    for path in style.save(fig, args.figures / "search_pareto", svg=args.svg):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
