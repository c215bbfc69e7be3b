#!/usr/bin/python3
"""Draws the scaling figure from a `frugalsim sweep` of sweep.json: tokens/s against the number of
GPUs, one curve per layout, each with its ideal linear scaling from its smallest run (dotted);
next to it each run's scaling efficiency (tokens/s per GPU relative to that smallest run). Runs
that did not complete (out of memory, infeasible) are left out and counted. Writes scaling.pdf
and .png (and .svg with --svg) next to this script (or into --figures DIR), in the shared figure
style (scripts/frugal_plot_style.py, one double-column figure), and prints the table it draws.

usage: plot.py SWEEP_DIR [--figures DIR] [--svg]
"""
import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

MARKERS = ["o", "s", "^", "D", "v", "P"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--svg", action="store_true")
    args = parser.parse_args()

    with open(args.sweep_dir / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    layouts = []  # in sweep order
    curves = {}  # layout -> [(gpus, tokens/s)]
    left_out = 0
    for r in rows:
        if r["layout"] not in layouts:
            layouts.append(r["layout"])
        if r["status"] != "ok":
            left_out += 1
            continue
        curves.setdefault(r["layout"], []).append((int(float(r["gpus"])), float(r["tokens_per_s"])))

    fig = style.figure("double", height_in=2.7)
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 0.11])
    ax_tps, ax_eff = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    handles, labels = [], []
    all_gpus = sorted({g for c in curves.values() for g, _ in c})
    print(f"{'layout':26} {'GPUs':>5} {'tokens/s':>12} {'ideal':>12} {'efficiency':>10}")
    for k, layout in enumerate(layouts):
        points = sorted(curves.get(layout, []))
        if not points:
            continue
        color, marker = style.COLORS[k % len(style.COLORS)], MARKERS[k % len(MARKERS)]
        g0, t0 = points[0]
        gpus = [g for g, _ in points]
        tps = [t for _, t in points]
        ideal = [t0 * g / g0 for g in gpus]
        efficiency = [100.0 * t / i for t, i in zip(tps, ideal)]
        h, = ax_tps.plot(gpus, [t / 1e6 for t in tps], "-", marker=marker, color=color)
        ax_tps.plot(gpus, [i / 1e6 for i in ideal], ":", color=color, linewidth=0.9)
        ax_eff.plot(gpus, efficiency, "-", marker=marker, color=color)
        handles.append(h)
        labels.append(layout)
        for g, t, i, e in zip(gpus, tps, ideal, efficiency):
            print(f"{layout:26} {g:5d} {t:12.0f} {i:12.0f} {e:9.1f}%")
    handles.append(Line2D([], [], linestyle=":", color="0.3", linewidth=0.9))
    labels.append("ideal: linear from the smallest run")

    for ax in (ax_tps, ax_eff):
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(all_gpus))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(g) for g in all_gpus])
        ax.set_xlabel("GPUs (A100-80GB, 8 per node)")
        ax.grid(True, which="major", alpha=0.4)
    ax_tps.set_yscale("log")
    top = max(t for c in curves.values() for _, t in c) / 1e6 if curves else 1.0
    ticks = [v * 10 ** e for e in range(-3, 4) for v in (1, 2, 5) if v * 10 ** e <= 2 * top]
    ax_tps.yaxis.set_major_locator(FixedLocator(ticks))
    ax_tps.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_tps.yaxis.set_minor_locator(NullLocator())
    ax_tps.set_ylabel("throughput (million tokens/s)")
    ax_tps.set_title("throughput, fixed global batch")
    ax_eff.set_ylabel("scaling efficiency (%)")
    ax_eff.set_ylim(0, 105)
    ax_eff.set_title("tokens/s per GPU relative to the smallest run")
    style.legend_row(fig.add_subplot(grid[1, :]), handles, labels, ncol=len(labels))
    for path in style.save(fig, args.figures / "scaling", svg=args.svg):
        print(f"wrote {path}")
    print(f"{left_out} of {len(rows)} runs did not complete (not drawn)")


if __name__ == "__main__":
    main()
