#!/usr/bin/python3
"""Draws simulated against measured iteration time for the published cases that
scripts/validate_published.py ran (its OUT/summary.json): top left, a log-log scatter with y = x
and a ±5 % band, one colour per source, fp8 runs as triangles, its legend beside it; below, each
case's relative error, the calibration cases (fitted to) hatched. Writes published.pdf and
.png (and .svg with --svg) next to this script (or into --figures DIR), in the shared figure style.

usage: plot.py OUT [--figures DIR] [--svg]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402

GROUPS = {"narayanan_table1": "Narayanan et al. 2021, Table 1", "narayanan_table2": "Narayanan et al. 2021, Table 2",
          "korthikanti": "Korthikanti et al. 2022", "bloom": "BLOOM 176B (2022)",
          "nemotron4": "Nemotron-4 340B (2024, H100)", "dgxc_h100": "NVIDIA DGX Cloud benchmarks (2024, H100)"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="output folder of scripts/validate_published.py")
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    style.add_format_arguments(parser)
    args = parser.parse_args()
    report = json.loads((args.out / "summary.json").read_text())
    rows = [r for r in report["cases"] if r["status"] == "ok"]
    if not rows:
        raise SystemExit("no simulated case to plot")
    stats = report["statistics"]

    # Top: the scatter and the legend beside it; below, every case's error across the full width.
    fig = style.figure("double", height_in=6.0)
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1], height_ratios=[1, 1])
    ax, ax_legend, ax_err = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    # The known groups in their order, then any other group of the cases under its own name.
    groups = [g for g in GROUPS if any(r["group"] == g for r in rows)]
    groups += sorted({r["group"] for r in rows} - set(groups))
    color = {g: style.COLORS[i % len(style.COLORS)] for i, g in enumerate(groups)}
    low = min(min(r["measured_s"], r["simulated_s"]) for r in rows) / 1.5
    high = max(max(r["measured_s"], r["simulated_s"]) for r in rows) * 1.5
    ax.fill_between([low, high], [low * 0.95, high * 0.95], [low * 1.05, high * 1.05], color="grey", alpha=0.2, linewidth=0)
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    for g in groups:
        rs = [r for r in rows if r["group"] == g]
        for fp8, marker in ((False, "o"), (True, "^")):  # fp8 runs as triangles
            ps = [r for r in rs if (r.get("precision") == "fp8") == fp8]
            ax.scatter([r["measured_s"] for r in ps], [r["simulated_s"] for r in ps], s=14, color=color[g], marker=marker,
                       zorder=3)
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high), xlabel="measured iteration time (s)",
           ylabel="simulated iteration time (s)")

    ordered = sorted(rows, key=lambda r: (groups.index(r["group"]), r["gpus"], r["id"]))
    xs = range(len(ordered))
    ax_err.axhspan(-5, 5, color="grey", alpha=0.2, linewidth=0)
    ax_err.axhline(0, color="black", linewidth=0.8)
    bars = ax_err.bar(xs, [100 * r["error"] for r in ordered], color=[color[r["group"]] for r in ordered], width=0.7)
    for bar, r in zip(bars, ordered):  # the cases a catalogue parameter was fitted to, hatched
        if r.get("role") == "calibration":
            bar.set_hatch("////")
            bar.set_edgecolor("white")
    ax_err.set_xticks(list(xs))
    ax_err.set_xticklabels([r["label"] for r in ordered], rotation=90, fontsize=7)
    ax_err.set_xlim(-0.6, len(ordered) - 0.4)
    ax_err.set_ylabel("error (%)")
    tau = stats["kendall_tau_all"]
    ax_err.set_title(f"MAPE {100 * stats['mape']:.1f} % over {stats['simulated']} cases"
                     + (f", Kendall τ {tau:.2f}" if tau is not None else ""), fontsize=8)
    handles = [style.plt.Line2D([], [], color=color[g], marker="o", linestyle="none") for g in groups]
    extra = [(style.plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.2), "±5 %")]
    if any(r.get("precision") == "fp8" for r in rows):
        extra.append((style.plt.Line2D([], [], color="grey", marker="^", linestyle="none"), "fp8 run"))
    if any(r.get("role") == "calibration" for r in rows):
        extra.append((style.plt.Rectangle((0, 0), 1, 1, facecolor="grey", hatch="////", edgecolor="white"),
                      "calibration run (fitted to)"))
    style.legend_row(ax_legend, handles + [h for h, _ in extra], [GROUPS.get(g, g) for g in groups] + [t for _, t in extra],
                     ncol=1)
    fig.tight_layout()
    for path in style.save(fig, args.figures / "published", svg=args.svg):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
