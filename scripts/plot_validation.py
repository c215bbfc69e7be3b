#!/usr/bin/python3
"""Scatter plot of simulated vs measured op durations from `frugalsim validate -o REPORT.json`,
one colour per op kind, in the shared figure style (scripts/frugal_plot_style.py): a
single-column figure written as OUT.pdf and OUT.png (and OUT.svg with --svg).

usage: plot_validation.py REPORT.json [OUT.png] [--svg]   (OUT defaults to REPORT.png)
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import frugal_plot_style as style  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path, nargs="?")
    style.add_format_arguments(parser)
    args = parser.parse_args(argv[1:])
    report = json.loads(args.report.read_text())
    out = (args.out or args.report).with_suffix("")
    fig, (ax, ax_legend) = style.figure("single", height_in=3.4, nrows=2,
                                        gridspec_kw={"height_ratios": [6, 1]})
    kinds = sorted({row["kind"] for row in report["ops"]})
    for i, kind in enumerate(kinds):
        rows = [r for r in report["ops"] if r["kind"] == kind]
        ax.scatter([r["measured_s"] * 1e3 for r in rows], [r["simulated_s"] * 1e3 for r in rows], s=9,
                   color=style.COLORS[i % len(style.COLORS)], label=kind, linewidths=0)
    values = [r[k] * 1e3 for r in report["ops"] for k in ("measured_s", "simulated_s")]
    lo, hi = min(values), max(values)
    ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8, label="simulated = measured")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured op time (ms)")
    ax.set_ylabel("simulated op time (ms)")
    it = report["iteration"]
    ax.set_title(f"iteration error {100 * it['relative_error']:+.1f} %, op MAPE {100 * report['mape_ops']:.0f} %")
    handles, labels = ax.get_legend_handles_labels()
    style.legend_row(ax_legend, handles, labels, ncol=min(3, len(labels)))
    for path in style.save(fig, out, svg=args.svg):
        print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
