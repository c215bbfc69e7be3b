#!/usr/bin/python3
"""Draws the heterogeneous-cluster figure from a `frugalsim sweep` of sweep.json: for each cluster
and layout, the throughput (tokens/s) and the tokens per currency unit (tokens/s × 3,600 / the
cluster's on-demand price per hour) with the naive options (equal partition, equal batch split)
and the heterogeneity-aware ones (balanced partition, proportional batch split). The price per
hour is Σ nodes × GPUs per node × `price.on_demand` (per GPU-hour) of the cluster file named in
the sweep's `cluster_file` column, read from --clusters (default: this script's folder). A run that
did not complete is marked with its status. Writes heterogeneous.pdf and .png (and .svg with
--svg) next to this script (or into --figures DIR), in the shared figure style
(scripts/frugal_plot_style.py, one double-column figure), and prints the table it draws.

usage: plot.py SWEEP_DIR [--figures DIR] [--clusters DIR] [--svg]
"""
import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import frugal_plot_style as style  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

HERE = Path(__file__).resolve().parent
OPTIONS = {"naive": ("naive: equal partition, equal batch split", style.COLORS[1]),
           "heterogeneity-aware": ("heterogeneity-aware: balanced partition, proportional batch split",
                                   style.COLORS[0])}
WIDTH = 0.38


def cluster_info(path):
    """(label, price per hour, GPUs by kind) of a cluster file."""
    c = json.load(open(path))
    price, gpus = 0.0, {}
    for n in c["nodes"]:
        t = c["node_types"][n["type"]]
        count = n["count"] * t["gpus_per_node"]
        price += count * t["price"]["on_demand"]
        gpus[t["gpu"]] = gpus.get(t["gpu"], 0) + count
    return c.get("name", path.stem), price, gpus


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--figures", type=Path, default=HERE)
    parser.add_argument("--clusters", type=Path, default=HERE)
    parser.add_argument("--svg", action="store_true")
    args = parser.parse_args()

    with open(args.sweep_dir / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    groups = []  # (cluster file, layout, pipeline stages) in sweep order
    for r in rows:
        key = (r["cluster_file"], r["layout"], int(float(r["pipeline"])))
        if key not in groups:
            groups.append(key)
    clusters = {c: cluster_info(args.clusters / c) for c in dict.fromkeys(g[0] for g in groups)}

    fig = style.figure("double", height_in=3.2)
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 0.09])
    ax_tps, ax_cost = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    print(f"{'cluster':26} {'price/h':>8} {'layout':14} {'options':20} {'status':14} {'tokens/s':>10} "
          f"{'Mtokens/unit':>12} {'J/token':>8}")
    tops = {ax_tps: 0.0, ax_cost: 0.0}
    for gi, (cluster, layout, stages) in enumerate(groups):
        name, price, _ = clusters[cluster]
        for oi, option in enumerate(OPTIONS):
            match = [r for r in rows if (r["cluster_file"], r["layout"], int(float(r["pipeline"])), r["options"])
                     == (cluster, layout, stages, option)]
            if not match:
                continue
            r = match[0]
            x = gi + (oi - 0.5) * WIDTH
            color = OPTIONS[option][1]
            if r["status"] == "ok":
                tps = float(r["tokens_per_s"])
                per_unit = tps * 3600.0 / price
                ax_tps.bar(x, tps / 1e6, WIDTH, color=color)
                ax_cost.bar(x, per_unit / 1e6, WIDTH, color=color)
                tops[ax_tps] = max(tops[ax_tps], tps / 1e6)
                tops[ax_cost] = max(tops[ax_cost], per_unit / 1e6)
                print(f"{name:26} {price:8.2f} {layout:14} {option:20} {'ok':14} {tps:10.0f} {per_unit / 1e6:12.2f} "
                      f"{float(r['energy_j_per_token']):8.4f}")
            else:
                for ax in (ax_tps, ax_cost):
                    ax.text(x, 0.02, r["status"].replace("_", " "), rotation=90, ha="center", va="bottom",
                            fontsize=7, color=color, transform=blended_transform_factory(ax.transData, ax.transAxes))
                print(f"{name:26} {price:8.2f} {layout:14} {option:20} {r['status']:14}")
    for ax, label in ((ax_tps, "throughput (million tokens/s)"), (ax_cost, "million tokens per currency unit")):
        ax.set_ylim(0, tops[ax] * 1.12 if tops[ax] else 1)
        ax.set_ylabel(label)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(["data\nparallel" if stages == 1 else f"pipeline\np={stages}" for _, _, stages in groups])
        ax.tick_params(axis="x", length=0)
        ax.grid(True, axis="y", alpha=0.4)
        # Cluster names under their groups, separators between clusters.
        spans = {}
        for gi, (cluster, _, _) in enumerate(groups):
            spans.setdefault(cluster, []).append(gi)
        for k, (cluster, idx) in enumerate(spans.items()):
            _, price, gpus = clusters[cluster]
            kinds = "\n+ ".join(f"{n} {g.replace('RTX-', 'RTX ').split('-')[0]}" for g, n in gpus.items())
            ax.annotate(f"{kinds}\n{price:.2f}/h", xy=((min(idx) + max(idx)) / 2, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, -24), textcoords="offset points", ha="center", va="top", fontsize=7)
            if k:
                ax.axvline(min(idx) - 0.5, color="0.6", linewidth=0.6)
    ax_tps.set_title("throughput")
    ax_cost.set_title("tokens per currency unit (on-demand price)")
    handles = [Patch(color=c) for _, c in OPTIONS.values()]
    style.legend_row(fig.add_subplot(grid[1, :]), handles, [lab for lab, _ in OPTIONS.values()], ncol=len(handles))
    for path in style.save(fig, args.figures / "heterogeneous", svg=args.svg):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
