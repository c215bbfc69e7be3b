"""FrugalSim's figure style, shared by every plot script (results/*/plot.py, scripts/plot_*.py):
TrueType fonts in PDF and PostScript (no Type 3), single-column (3.5 in) and double-column
(7.16 in) figures whose text is at least 7 pt at printed size, legends checked not to cover data,
PDF and PNG output (SVG on request) with deterministic metadata: no creation date unless
SOURCE_DATE_EPOCH gives one, so two runs on the same inputs write the same bytes.

A plot script puts scripts/ on sys.path and imports this module (Debian's python3-matplotlib):
    import frugal_plot_style as style
    fig = style.figure("single", height_in=2.8)
    ...
    style.save(fig, out_dir / "name", svg=args.svg)   # name.pdf, name.png (, name.svg)
"""
import datetime
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

SINGLE_COLUMN_IN = 3.5   # IEEE / ACM two-column text: one column
DOUBLE_COLUMN_IN = 7.16  # both columns
MIN_FONT_PT = 7.0
PNG_DPI = 300
# Okabe & Ito's colour-blind-safe palette.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

RC = {
    "pdf.fonttype": 42,  # TrueType (Type 42), not Type 3: IEEE and ACM reject Type 3
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "frugalsim",  # deterministic SVG ids
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.linewidth": 0.6,
    "grid.linewidth": 0.4,
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
}
plt.rcParams.update(RC)


def figure(width="single", height_in=2.6, **subplots):
    """A figure of the column width ("single": 3.5 in, "double": 7.16 in); with `subplots`
    (nrows, ncols, gridspec_kw, ...) returns (fig, axes) as plt.subplots does."""
    width_in = {"single": SINGLE_COLUMN_IN, "double": DOUBLE_COLUMN_IN}[width]
    if subplots:
        return plt.subplots(figsize=(width_in, height_in), **subplots)
    return plt.figure(figsize=(width_in, height_in))


def legend_row(ax, handles, labels, ncol):
    """Turns `ax` (a thin row of the figure's grid) into a legend outside every plot."""
    ax.axis("off")
    return ax.legend(handles, labels, loc="center", ncol=ncol, borderaxespad=0, handlelength=1.6,
                     columnspacing=1.2)


def _check_width(fig):
    width = fig.get_size_inches()[0]
    if min(abs(width - SINGLE_COLUMN_IN), abs(width - DOUBLE_COLUMN_IN)) > 0.01:
        raise ValueError(f"figure is {width:.2f} in wide: use figure('single') or figure('double')")


def _check_fonts(fig):
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT_PT:
            raise ValueError(f"text {t.get_text()!r} is {t.get_fontsize():.1f} pt (< {MIN_FONT_PT} pt printed)")


def _data_boxes(ax, renderer):
    """Display-space boxes (x0, y0, x1, y1) of what `ax` draws: line points, markers, patches."""
    boxes = []
    for line in ax.get_lines():
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        for x, y in line.get_transform().transform(line.get_xydata()):
            boxes.append((x, y, x, y))
    for coll in ax.collections:
        if isinstance(coll, Collection) and coll.get_visible():
            if len(coll.get_offsets()):
                for x, y in coll.get_offset_transform().transform(coll.get_offsets()):
                    boxes.append((x, y, x, y))
            else:
                for path in coll.get_paths():
                    b = path.transformed(coll.get_transform()).get_extents()
                    boxes.append((b.x0, b.y0, b.x1, b.y1))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible():
            b = patch.get_window_extent(renderer)
            boxes.append((b.x0, b.y0, b.x1, b.y1))
    return boxes


def check_legends(fig):
    """Raises ValueError when a legend drawn inside an axes covers one of its data points or bars."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not ax.axison:
            continue
        lb = legend.get_window_extent(renderer)
        for x0, y0, x1, y1 in _data_boxes(ax, renderer):
            if x0 <= lb.x1 and x1 >= lb.x0 and y0 <= lb.y1 and y1 >= lb.y0:
                raise ValueError(f"the legend of axes {ax.get_title()!r} covers data: place it outside (legend_row)")


def check(fig):
    """The style's rules: column width, fonts >= 7 pt, legends clear of the data."""
    _check_width(fig)
    _check_fonts(fig)
    check_legends(fig)


def _metadata(fmt):
    """Deterministic metadata: no date unless SOURCE_DATE_EPOCH gives one."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else None
    if fmt == "pdf":
        return {"CreationDate": when}  # None: no CreationDate at all
    if fmt == "svg":
        return {"Date": when.isoformat() if when else None}
    if fmt == "png":
        return {"Creation Time": when.isoformat()} if when else {}
    return {}


def save(fig, stem, svg=False):
    """Checks the figure, then writes stem.pdf and stem.png (and stem.svg); returns the paths."""
    check(fig)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("pdf", "png") + (("svg",) if svg else ()):
        path = stem.with_suffix("." + fmt)
        fig.savefig(path, format=fmt, metadata=_metadata(fmt), dpi=PNG_DPI)
        paths.append(path)
    return paths


def add_format_arguments(parser):
    """--svg: also write an SVG beside the PDF and PNG."""
    parser.add_argument("--svg", action="store_true", help="also write an SVG of each figure")
