#!/usr/bin/python3
"""Scatter plot of simulated vs measured op durations from `frugalsim validate -o REPORT.json`.

usage: plot_validation.py REPORT.json [OUT.png]   (also writes a PDF beside the PNG)
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    report = json.loads(Path(argv[1]).read_text())
    out = Path(argv[2]) if len(argv) > 2 else Path(argv[1]).with_suffix(".png")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    kinds = sorted({row["kind"] for row in report["ops"]})
    for kind in kinds:
        rows = [r for r in report["ops"] if r["kind"] == kind]
        ax.scatter([r["measured_s"] * 1e3 for r in rows], [r["simulated_s"] * 1e3 for r in rows], s=12, label=kind)
    values = [r[k] * 1e3 for r in report["ops"] for k in ("measured_s", "simulated_s")]
    lo, hi = min(values), max(values)
    ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured (ms)")
    ax.set_ylabel("simulated (ms)")
    it = report["iteration"]
    ax.set_title(f"iteration error {100 * it['relative_error']:+.1f} %, op MAPE {100 * report['mape_ops']:.0f} %")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    fig.savefig(out.with_suffix(".pdf"))
    print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
