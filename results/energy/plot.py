#!/usr/bin/python3
"""Draws the energy figure from a `frugalsim sweep` of sweep.json: for each layout (one row per
point, in sweep order) the GPUs' energy per token (`energy_j_per_token`) and the throughput
(`tokens_per_s`), as two panels of horizontal bars sharing the rows. Bars are coloured by the
kind of layout (from the summary's `layout.*` columns: data parallel, tensor, pipeline, tensor ×
pipeline) and hatched where layers are recomputed; a run that did not complete shows its status
(and, out of memory, the peak per GPU it needed). Writes energy.pdf and .png (and .svg with
--svg) next to this script (or into --figures DIR), in the shared figure style
(scripts/frugal_plot_style.py, one double-column figure), and prints the table it draws.

usage: plot.py SWEEP_DIR [--figures DIR] [--svg]
"""
import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

GIB = 1024.0 ** 3
FAMILIES = {"data": ("data parallel", style.COLORS[0]), "tensor": ("tensor (t) × d", style.COLORS[1]),
            "pipeline": ("pipeline (p) × d", style.COLORS[2]), "tensor+pipeline": ("t × p × d", style.COLORS[4])}
HATCH = "////"


def family(r):
    t = int(float(r.get("layout.tensor_model_parallel_size") or 1))
    p = int(float(r.get("layout.pipeline_model_parallel_size") or 1))
    return "tensor+pipeline" if t > 1 and p > 1 else "tensor" if t > 1 else "pipeline" if p > 1 else "data"


def recomputes(r):
    return (r.get("layout.recompute_granularity") or "none") != "none" or \
        float(r.get("recompute_flops_per_iteration") or 0) > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--figures", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--svg", action="store_true")
    args = parser.parse_args()

    with open(args.sweep_dir / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    fig = style.figure("double", height_in=0.9 + 0.17 * len(rows))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 0.5 / (0.9 + 0.17 * len(rows))], width_ratios=[1.45, 1])
    ax_e = fig.add_subplot(grid[0, 0])
    ax_t = fig.add_subplot(grid[0, 1], sharey=ax_e)
    ok = [r for r in rows if r["status"] == "ok"]
    e_max = max((float(r["energy_j_per_token"]) * 1e3 for r in ok), default=1.0)
    t_max = max((float(r["tokens_per_s"]) / 1e3 for r in ok), default=1.0)
    print(f"{'layout':32} {'status':14} {'mJ/token':>9} {'tokens/s':>10} {'MFU':>6} {'HFU':>6} {'peak GiB':>9}")
    for y, r in enumerate(rows):
        color = FAMILIES[family(r)][1]
        hatch = HATCH if recomputes(r) else None
        peak = float(r["max_peak_memory_bytes"]) / GIB if r.get("max_peak_memory_bytes") else float("nan")
        if r["status"] == "ok":
            e = float(r["energy_j_per_token"]) * 1e3
            t = float(r["tokens_per_s"]) / 1e3
            ax_e.barh(y, e, color=color, hatch=hatch, edgecolor="white", linewidth=0)
            ax_t.barh(y, t, color=color, hatch=hatch, edgecolor="white", linewidth=0)
            ax_e.text(e + e_max * 0.01, y, f"{e:.1f}", va="center", fontsize=7)
            ax_t.text(t + t_max * 0.01, y, f"{t:.0f}", va="center", fontsize=7)
            print(f"{r['layout']:32} {'ok':14} {e:9.2f} {t * 1e3:10.0f} {float(r['mfu']):6.3f} {float(r['hfu']):6.3f} "
                  f"{peak:9.1f}")
        else:
            note = r["status"].replace("_", " ")
            if r["status"] == "out_of_memory" and peak == peak:
                note += f" ({peak:.0f} GiB per GPU)"
            for ax in (ax_e, ax_t):
                ax.text(0.01, y, note, va="center", fontsize=7, color="0.3",
                        transform=ax.get_yaxis_transform())
            print(f"{r['layout']:32} {r['status']:14} {'':9} {'':10} {'':6} {'':6} {peak:9.1f}")
    ax_e.set_yticks(range(len(rows)))
    ax_e.set_yticklabels([r["layout"] for r in rows])
    ax_e.set_ylim(len(rows) - 0.5, -0.5)
    ax_t.tick_params(axis="y", labelleft=False)
    ax_e.set_xlim(0, e_max * 1.15)
    ax_t.set_xlim(0, t_max * 1.15)
    ax_e.set_xlabel("GPU energy per token (mJ)")
    ax_t.set_xlabel("throughput (thousand tokens/s)")
    ax_e.set_title("energy per token (lower is better)")
    ax_t.set_title("throughput (higher is better)")
    for ax in (ax_e, ax_t):
        ax.grid(True, axis="x", alpha=0.4)
        ax.set_axisbelow(True)
    used = [k for k in FAMILIES if any(family(r) == k for r in rows)]
    handles = [Patch(color=FAMILIES[k][1]) for k in used]
    labels = [FAMILIES[k][0] for k in used]
    if any(recomputes(r) for r in rows):
        handles.append(Patch(facecolor="0.6", hatch=HATCH, edgecolor="white", linewidth=0))
        labels.append("full recomputation")
    style.legend_row(fig.add_subplot(grid[1, :]), handles, labels, ncol=len(handles))
    for path in style.save(fig, args.figures / "energy", svg=args.svg):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
