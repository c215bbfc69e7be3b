#!/usr/bin/python3
"""Draws the checkpoint-interval figure from a `frugalsim sweep` of sweep.json: goodput against
the checkpoint interval, one curve per job MTBF (mean over seeds, ± one standard error), with
Young's and Daly's optima marked and the peak of each simulated curve. Writes
checkpoint_interval.pdf and .png (and .svg with --svg) next to this script (or into --figures
DIR), in the shared figure style (scripts/frugal_plot_style.py, one double-column figure), and
peaks.csv into the sweep folder, and prints the simulated peak against Daly's optimum.

The simulated peak: a least-squares fit of 1/goodput = a/τ + b·τ + c (the first-order waste
C/τ + τ/2M plus a constant) over the intervals within a factor 3 of the best sampled one; its
minimum is at τ = √(a/b).

usage: plot.py SWEEP_DIR [--figures DIR] [--svg]
"""
import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

COLORS = style.COLORS


# The closed forms of policies/resilience/checkpoint_math.cpp (the young and daly policies),
# checked against the test vectors of shared/REFERENCE.md below.
def young_interval_s(c, m):
    return math.sqrt(2.0 * c * m)


def daly_interval_s(c, m):
    if c >= 2.0 * m:
        return m
    r = c / (2.0 * m)
    return math.sqrt(2.0 * c * m) * (1.0 + math.sqrt(r) / 3.0 + r / 9.0) - c


for m_min, expected in ((1440, 116.69), (360, 56.71), (15, 9.14)):
    got = daly_interval_s(300.0, m_min * 60.0) / 60.0
    assert abs(got - expected) < 0.01, f"Daly test vector M = {m_min} min: {got:.2f} != {expected}"


def load(sweep_dir: Path):
    with open(sweep_dir / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} points did not run (status {bad[0]['status']}: {bad[0]['error']})")
    return rows


def fit_peak(intervals, goodput):
    """τ minimising the least-squares fit of 1/goodput = a/τ + b·τ + c; None if not convex."""
    best = intervals[max(range(len(goodput)), key=goodput.__getitem__)]
    pts = [(t, g) for t, g in zip(intervals, goodput) if best / 3.0 <= t <= best * 3.0]
    if len(pts) < 3:
        return None
    m = [[0.0] * 4 for _ in range(3)]
    for t, g in pts:
        f = (1.0 / t, t, 1.0)
        for r in range(3):
            for c in range(3):
                m[r][c] += f[r] * f[c]
            m[r][3] += f[r] / g
    for p in range(3):  # Gauss-Jordan on the 3×3 normal equations
        for r in range(3):
            if r != p:
                k = m[r][p] / m[p][p]
                for c in range(4):
                    m[r][c] -= k * m[p][c]
    a, b = m[0][3] / m[0][0], m[1][3] / m[1][1]
    return math.sqrt(a / b) if a > 0 and b > 0 else None


def curves(rows):
    """Per node MTBF: job MTBF, checkpoint cost, intervals, mean and s.e. of goodput over seeds."""
    by = defaultdict(lambda: defaultdict(list))
    meta = {}
    for r in rows:
        node_mtbf = float(r["node_mtbf_s"])
        by[node_mtbf][float(r["interval_s"])].append(float(r["goodput_tokens_per_s"]))
        meta[node_mtbf] = (r["label"], int(r["campaign.job_nodes"]), float(r["campaign.checkpoint_write_s"]),
                           float(r["tokens_per_s"]))
    out = []
    for node_mtbf in sorted(by):
        label, job_nodes, c_s, failure_free = meta[node_mtbf]
        intervals = sorted(by[node_mtbf])
        mean, se = [], []
        for t in intervals:
            g = by[node_mtbf][t]
            mu = sum(g) / len(g)
            var = sum((x - mu) ** 2 for x in g) / (len(g) - 1) if len(g) > 1 else 0.0
            mean.append(mu)
            se.append(math.sqrt(var / len(g)))
        m_s = node_mtbf / job_nodes
        out.append(dict(label=label, node_mtbf_s=node_mtbf, job_mtbf_s=m_s, checkpoint_s=c_s, intervals=intervals,
                        mean=mean, se=se, seeds=len(by[node_mtbf][intervals[0]]), failure_free=failure_free,
                        young=young_interval_s(c_s, m_s), daly=daly_interval_s(c_s, m_s),
                        peak=fit_peak(intervals, mean)))
    return out


def draw(ax, ax_rel, ax_legend, cs):
    for i, c in enumerate(cs):
        color = COLORS[i % len(COLORS)]
        scale = 1e-3  # thousand tokens per second
        ax.errorbar(c["intervals"], [g * scale for g in c["mean"]], yerr=[s * scale for s in c["se"]], color=color,
                    marker="o", capsize=1.5, label=f"{c['label']} (C = {c['checkpoint_s']:.0f} s)")
        for x, line_style in ((c["young"], ":"), (c["daly"], "--")):
            ax.axvline(x, color=color, linestyle=line_style, linewidth=0.9, alpha=0.9)
        if c["peak"]:
            top = max(c["mean"]) * scale
            ax.plot([c["peak"]], [top], marker="v", color=color, markersize=5, markeredgecolor="black",
                    markeredgewidth=0.5)
        best = max(c["mean"])
        ax_rel.plot([t / c["daly"] for t in c["intervals"]], [g / best for g in c["mean"]], color=color, marker="o")
        if c["peak"]:
            ax_rel.axvline(c["peak"] / c["daly"], color=color, linewidth=0.7, alpha=0.6)
    ax.set_xscale("log")
    ticks = [t for t in (100, 200, 500, 1000, 2000, 5000, 10000) if cs[0]["intervals"][0] <= t <= cs[0]["intervals"][-1]]
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.set_xlabel("checkpoint interval τ (s of training)")
    ax.set_ylabel("goodput (thousand tokens/s)")
    ax.set_title("Goodput against checkpoint interval")
    ax.grid(True, which="both", alpha=0.25)
    ax_rel.set_xscale("log")
    ax_rel.axvline(1.0, color="black", linestyle="--", linewidth=0.9)
    ax_rel.axvspan(0.9, 1.1, color="grey", alpha=0.15)
    ax_rel.set_xlabel("τ / Daly's optimum")
    ax_rel.set_ylabel("goodput / best sampled")
    ax_rel.set_title("Normalised: peaks at Daly's optimum")
    ax_rel.set_ylim(bottom=max(0.0, min(min(g / max(c["mean"]) for g in c["mean"]) for c in cs) - 0.02))
    ax_rel.grid(True, which="both", alpha=0.25)
    handles, labels = ax.get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="grey", linestyle=":"), plt.Line2D([], [], color="grey", linestyle="--"),
                plt.Line2D([], [], color="grey", marker="v", linestyle="none", markeredgecolor="black"),
                plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.15)]
    labels += ["Young √(2CM)", "Daly (higher order)", "simulated peak (fit)", "Daly ± 10 %"]
    style.legend_row(ax_legend, handles, labels, ncol=4)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    style.add_format_arguments(parser)
    args = parser.parse_args(argv[1:])
    sweep_dir, figures = args.sweep_dir, args.figures
    cs = curves(load(sweep_dir))
    fig = style.figure("double", height_in=3.3)
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 2], height_ratios=[5, 1])
    ax, ax_rel = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    draw(ax, ax_rel, fig.add_subplot(grid[1, :]), cs)
    fig.suptitle(f"GPT-3 13B on 4 DGX A100 (+2 spares), 30 days, exponential node failures; "
                 f"mean of {cs[0]['seeds']} seeds per point")
    paths = style.save(fig, figures / "checkpoint_interval", svg=args.svg)

    header = ["label", "job_mtbf_s", "checkpoint_s", "young_s", "daly_s", "simulated_peak_s", "peak_vs_daly",
              "best_sampled_s", "best_goodput_tokens_per_s", "failure_free_tokens_per_s"]
    lines = [",".join(header)]
    print(f"{'curve':<14} {'M (s)':>7} {'C (s)':>6} {'Young (s)':>9} {'Daly (s)':>9} {'peak (s)':>9} "
          f"{'peak/Daly-1':>11} {'best sampled':>12}")
    worst = 0.0
    for c in cs:
        best = c["intervals"][max(range(len(c["mean"])), key=c["mean"].__getitem__)]
        rel = (c["peak"] / c["daly"] - 1.0) if c["peak"] else float("nan")
        worst = max(worst, abs(rel)) if c["peak"] else float("inf")
        print(f"{c['label']:<14} {c['job_mtbf_s']:7.0f} {c['checkpoint_s']:6.1f} {c['young']:9.1f} {c['daly']:9.1f} "
              f"{c['peak'] or float('nan'):9.1f} {100 * rel:+10.1f}% {best:12.0f}")
        lines.append(",".join(str(v) for v in (c["label"], c["job_mtbf_s"], c["checkpoint_s"], c["young"], c["daly"],
                                               c["peak"], rel, best, max(c["mean"]), c["failure_free"])))
    (sweep_dir / "peaks.csv").write_text("\n".join(lines) + "\n")
    print(f"largest |peak/Daly - 1|: {100 * worst:.1f} % ({'within' if worst <= 0.10 else 'NOT within'} 10 %)")
    print("plots: " + " ".join(str(p) for p in paths))
    return 0 if worst <= 0.10 else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
