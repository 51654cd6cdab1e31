"""The figures of a report: speed-up, time vs N, Pareto front, error vs noise, bound ratio.

Each figure is a :class:`_Figure` (which rows, how they split into panels, how a panel is
drawn); :func:`draw_figures` draws those the rows of a run allow, as PNG files. Every method
and implementation keeps one colour in all the figures of a report and every noise level one
marker (:class:`Style`); each figure has one legend, below its panels. Speed-ups are relative
to each row's ``reference`` (the implementation ``time_ratio`` refers to).
"""

from __future__ import annotations

import itertools
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fastfact.bench.measures import fitted_slope, guarantee

__all__ = ["PALETTE", "Style", "draw_figures"]

# tab10, then Paul Tol's "muted" scheme and navy: 20 colours far enough apart to tell lines
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#332288", "#cc6677", "#117733", "#88ccee",
           "#882255", "#44aa99", "#999933", "#aa4499", "#ddcc77", "#000080"]
_MARKERS = "osD^vP*Xh<>"


@dataclass(frozen=True)
class Style:
    """Colours of implementations and methods, markers of noise levels, for all the figures.

    Names are sorted and coloured in order from :data:`PALETTE`, apply implementations and
    factorization methods separately (no figure shows both), so a name keeps its colour as
    long as the set of names of its kind is the same; ``fastfact`` (the apply reference) is
    always black.
    """

    colour: dict
    marker: dict

    @classmethod
    def of(cls, rows: pd.DataFrame) -> Style:
        apply = rows["kind"] == "apply"
        colour = {}
        for names in (set(rows.loc[apply, "impl"].dropna()),
                      set(rows.loc[~apply, "method"].dropna())):
            for i, name in enumerate(sorted(names - {"fastfact"})):
                colour[name] = PALETTE[i % len(PALETTE)]
        colour["fastfact"] = "#000000"
        levels = sorted(rows.loc[~apply, "noise"].dropna().unique())
        return cls(colour, {level: _MARKERS[i % len(_MARKERS)] for i, level in enumerate(levels)})


def draw_figures(rows: pd.DataFrame, folder: Path) -> list[tuple[str, Path]]:
    """Draw every figure the rows allow into ``folder``; ``(caption, png path)`` pairs.

    ``rows`` are those of :func:`fastfact.bench.report.load_run` (``bound_ratio`` filled in).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(exist_ok=True)
    ok = rows[rows["status"] == "ok"]
    style = Style.of(ok)
    figures = []
    for caption, name, draw in _FIGURES:
        frame = draw.select(ok)
        panels = draw.panels(frame) if len(frame) else []
        if not panels:
            continue
        columns = min(3, len(panels))
        lines = math.ceil(len(panels) / columns)
        fig, axes = plt.subplots(lines, columns, squeeze=False, layout="constrained",
                                 figsize=(4.8 * columns, 3.4 * lines + 0.9))
        for ax, (title, panel) in zip(axes.flat, panels, strict=False):
            draw.plot(ax, panel, style)
            _tidy_log_axes(ax)
            ax.set_title(textwrap.fill(title, 48), fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            ax.tick_params(labelsize=8)
            ax.xaxis.label.set_size(8)
            ax.yaxis.label.set_size(8)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        _shared_legend(fig, axes)
        fig.suptitle(textwrap.fill(caption, 110), fontsize=11)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(fig)
        figures.append((caption, path))
    return figures


def _shared_legend(fig, axes) -> None:
    """One legend for the whole figure (colours are the same in every panel), below it."""
    entries = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(entries.values(), entries.keys(), loc="outside lower center", fontsize=8,
                   ncols=min(4, len(entries)), frameon=False)


class _Figure:
    """One kind of figure: which rows, how they are split into panels, how a panel is drawn.

    Rows of the ``kinds`` with a value in the ``needs`` column are drawn, one panel per value
    of the ``split`` columns; ``keep(frame) -> frame`` narrows them first (e.g. to the largest
    size), and panels for which ``worth(panel)`` is false are left out.
    """

    def __init__(self, kinds, split, plot, needs="seconds", keep=None, worth=None):
        self.kinds, self.split, self.plot, self.needs = kinds, split, plot, needs
        self.keep, self.worth = keep, worth

    def select(self, ok):
        frame = ok[ok["kind"].isin(self.kinds) & ok[self.needs].notna()]
        return self.keep(frame) if self.keep is not None and len(frame) else frame

    def panels(self, frame):
        return [(_panel_title(self.split, key), group)
                for key, group in frame.groupby(self.split)
                if self.worth is None or self.worth(group)]


def _largest_size(frame):
    """The rows at the largest N of each target, chain, noise model and dtype."""
    largest = frame.groupby(["target", "chain", "noise_model", "dtype"], dropna=False)["N"] \
        .transform("max")
    return frame[frame["N"] == largest]


_DEFAULTS = {"chain": "butterfly", "noise_model": "relative"}  # left out of panel titles


def _panel_title(columns, key) -> str:
    named = {"N": "N = {}", "noise": "noise {:g}", "batch": "batch {}",
             "noise_model": "{} noise"}
    return ", ".join(named.get(c, "{}").format(v) for c, v in zip(columns, key, strict=True)
                     if _DEFAULTS.get(c) != v)


def _tidy_log_axes(ax) -> None:
    """Readable decimal log axes: major tick labels only (matplotlib's minor ones overlap on
    short ranges), 1-2-5 (or 1…9) ticks on ranges under 1.5 decades (0.7), and a linear axis
    for ranges under 0.3 decade, where a log axis would show no tick at all. The base-2 N
    axes are left alone."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis, (low, high), set_scale in ((ax.xaxis, ax.get_xlim(), ax.set_xscale),
                                         (ax.yaxis, ax.get_ylim(), ax.set_yscale)):
        if axis.get_scale() != "log" or getattr(axis.get_transform(), "base", 10) != 10:
            continue
        decades = np.log10(high / low) if low > 0 else math.inf
        if decades < 0.3:
            set_scale("linear")
            continue
        if decades < 1.5:
            subs = (1.0, 2.0, 5.0) if decades >= 0.7 else tuple(float(k) for k in range(1, 10))
            axis.set_major_locator(LogLocator(base=10, subs=subs))
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
        axis.set_minor_formatter(NullFormatter())


def _log2_x(ax) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N")


def _plot_speedup(ax, panel, style):
    peers = panel[panel["impl"] != panel["reference"]]
    for impl, group in peers.groupby("impl"):
        speedup = (1.0 / group["time_ratio"]).groupby(group["N"])
        median, q1, q3 = speedup.median(), speedup.quantile(0.25), speedup.quantile(0.75)
        colour = style.colour[impl]
        ax.plot(median.index, median.values, "o-", color=colour, label=impl)
        ax.fill_between(median.index, q1.values, q3.values, color=colour, alpha=0.2)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    _log2_x(ax)
    ax.set_ylabel("speed-up = peer time / reference time")


def _upper_half_slope(medians: pd.Series) -> str:
    """The log-log slope over the larger half of the sizes (at least 2): small sizes are
    dominated by fixed per-call costs."""
    if len(medians) < 2:
        return "slope needs ≥ 2 sizes"
    upper = medians.iloc[-max(2, math.ceil(len(medians) / 2)):]
    return f"slope {fitted_slope(upper.index, upper.values):.2f}"


def _spread(positions, gap: float, top: float = math.inf) -> list[float]:
    """``positions`` moved apart by at least ``gap``, in order, none above ``top`` (for labels
    at line ends: pushed up, then back down from ``top`` when the highest would be cut off)."""
    order = np.argsort(positions)
    moved = [float(p) for p in positions]
    for before, after in itertools.pairwise(order):
        moved[after] = max(moved[after], moved[before] + gap)
    ceiling = top
    for index in order[::-1]:
        moved[index] = min(moved[index], ceiling)
        ceiling = moved[index] - gap
    return moved


def _plot_time(ax, panel, style):
    """Median time vs N per implementation; its slope written at its end, labels kept apart."""
    label_column = "impl" if (panel["kind"] == "apply").all() else "method"
    ends = []
    for label, group in panel.groupby(label_column):
        median = group.groupby("N")["seconds"].median()
        ax.plot(median.index, median.values, "o-", color=style.colour[label], label=label)
        ends.append((label, median.index[-1], median.values[-1], _upper_half_slope(median)))
    ax.set_yscale("log")
    _log2_x(ax)
    ax.margins(x=0.25)
    ax.set_ylabel("seconds (median)")
    low, high = (np.log10(v) for v in ax.get_ylim())
    gap = 0.06 * (high - low)
    heights = _spread([np.log10(y) for _, _, y, _ in ends], gap, top=high - gap / 2)
    for (label, x, _, text), height in zip(ends, heights, strict=True):
        ax.annotate(text, (x, 10**height), xytext=(5, 0), textcoords="offset points",
                    fontsize=7, color=style.colour[label], va="center")


def _plot_pareto(ax, panel, style):
    """Each method at each noise level (median over seeds); a marker per noise level, the
    noise level itself dotted, the front per noise level dashed."""
    medians = (panel.groupby(["method", "noise"])[["seconds", "rel_error", "noise_norm"]]
               .median().reset_index())
    medians["rel_error"] = medians["rel_error"].clip(lower=1e-17)
    for method, group in medians.groupby("method"):
        for _, point in group.iterrows():
            ax.plot(point["seconds"], point["rel_error"], style.marker[point["noise"]],
                    color=style.colour[method], alpha=0.85)
        ax.plot([], [], "-", lw=4, color=style.colour[method], label=method)
    for level, at_level in medians.groupby("noise"):
        points = at_level.sort_values("seconds")
        front = points[points["rel_error"] <= points["rel_error"].cummin()]
        ax.step(front["seconds"], front["rel_error"], "k--", where="post", lw=0.7, alpha=0.5)
        norm = at_level["noise_norm"].median()
        if norm > 0:
            ax.axhline(norm, color="grey", ls=":", lw=0.9)
        ax.plot([], [], style.marker[level], color="grey", ls="none",
                label="exact target" if level == 0 else f"noise {level:g} (dotted: its norm)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("seconds (median over seeds)")
    ax.set_ylabel("relative error")


def _plot_noise(ax, panel, style):
    for method, group in panel.groupby("method"):
        median = group.groupby("noise")["rel_error"].median()
        ax.plot(median.index, median.values, "o-", color=style.colour[method], label=method)
    levels = np.unique(panel["noise"])
    positive = levels[levels > 0]
    if len(positive):
        norms = panel[panel["noise"] > 0].groupby("noise")["noise_norm"].median()
        ax.plot(norms.index, norms.values, "k:", lw=0.8, label="error = relative noise norm")
    ax.set_xscale("symlog", linthresh=positive.min() if len(positive) else 1e-4)
    ax.set_yscale("log")
    ax.set_xlabel("noise level")
    ax.set_ylabel("relative error (median over seeds)")


def _plot_bound_ratio(ax, panel, style):
    """Median error / lower bound vs N; the √(L−1) line where a method of the panel has a
    proved upper bound (the orthonormalized comb trees); a log axis only for large ratios."""
    for method, group in panel.groupby("method"):
        median = group.groupby("N")["bound_ratio"].median()
        ax.plot(median.index, median.values, "o-", color=style.colour[method], label=method)
    limits = []
    bounded = panel.dropna(subset=["upper_bound"])
    if not bounded.empty:
        factors = bounded.groupby("N")["factors"].first()
        limits = [guarantee(L) for L in factors.values]
        ax.plot(factors.index, limits, "k:", lw=0.8,
                label="√(L−1): proved for the orthonormalized comb trees only")
    if panel["bound_ratio"].max() > 10:
        ax.set_yscale("log")
    else:
        top = max([panel["bound_ratio"].max(), *limits])
        ax.set_ylim(0.95, 1 + 1.1 * (top - 1) + 0.05)
    _log2_x(ax)
    ax.set_ylabel("error / lower bound (≥ 1)")


_FIGURES = [
    ("Speed-up of the reference (fastfact) over each peer vs N (log-log; band: IQR)", "speedup",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_speedup)),
    ("Apply time vs N; the log-log slope over the larger half of the sizes", "apply_time",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_time)),
    ("Factorization time vs N; the log-log slope over the larger half of the sizes",
     "factorize_time",
     _Figure(["factorize_time"], ["target", "chain", "noise", "dtype"], _plot_time)),
    ("Error vs time per method (Pareto), at the largest size of each target", "pareto",
     _Figure(["factorize"], ["target", "chain", "noise_model", "N", "dtype"], _plot_pareto,
             "rel_error", keep=_largest_size)),
    ("Error vs noise, at the largest size of each target", "error_noise",
     _Figure(["factorize"], ["target", "chain", "noise_model", "N", "dtype"], _plot_noise,
             "rel_error", keep=_largest_size, worth=lambda p: p["noise"].nunique() > 1)),
    ("Ratio of the error to the lower-bound certificate", "bound_ratio",
     _Figure(["factorize"], ["target", "chain", "noise", "dtype"], _plot_bound_ratio,
             "bound_ratio")),
]
