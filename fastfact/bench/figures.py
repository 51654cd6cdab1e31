"""The figures of a report: speed-up, time vs N, Pareto front, error vs noise, bound ratio.

Each figure is a :class:`_Figure` (which rows, how they split into panels, how a panel is
drawn); :func:`draw_figures` draws those the rows of a run allow, as PNG files. Every method
and implementation keeps one colour in all the figures of a report (:func:`colour_map`), and
each figure has one legend, below its panels. Speed-ups are relative to each row's
``reference`` (the implementation ``time_ratio`` refers to).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from fastfact.bench.measures import fitted_slope, guarantee

__all__ = ["colour_map", "draw_figures"]

_MARKERS = "osD^vP*Xh<>"  # one per noise level on the Pareto plot


def colour_map(rows: pd.DataFrame) -> dict[str, tuple]:
    """One colour per implementation (apply rows) and per method (factorization rows).

    Names are sorted and coloured in order from a list of distinct colours (tab10, then
    Dark2 and Set1), apply implementations and factorization methods separately (no figure
    shows both), so a name keeps its colour as long as the set of names of its kind is the
    same; ``fastfact`` (the apply reference) is always black.
    """
    from matplotlib import colormaps

    palette = [c for name in ("tab10", "Dark2", "Set1") for c in colormaps[name].colors]
    apply = rows["kind"] == "apply"
    mapping = {}
    for names in (set(rows.loc[apply, "impl"].dropna()), set(rows.loc[~apply, "method"].dropna())):
        ordered = sorted(names - {"fastfact"})
        mapping.update({name: tuple(palette[i % len(palette)]) for i, name in enumerate(ordered)})
    mapping["fastfact"] = (0.0, 0.0, 0.0)
    return mapping


def draw_figures(rows: pd.DataFrame, folder: Path) -> list[tuple[str, Path]]:
    """Draw every figure the rows allow into ``folder``; ``(caption, png path)`` pairs.

    ``rows`` are those of :func:`fastfact.bench.report.load_run` (``bound_ratio`` filled in).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(exist_ok=True)
    ok = rows[rows["status"] == "ok"]
    colours = colour_map(ok)
    figures = []
    for caption, name, draw in _FIGURES:
        frame = draw.select(ok)
        if frame.empty:
            continue
        panels = draw.panels(frame)
        if not panels:
            continue
        columns = min(3, len(panels))
        lines = math.ceil(len(panels) / columns)
        fig, axes = plt.subplots(lines, columns, squeeze=False, layout="constrained",
                                 figsize=(4.8 * columns, 3.4 * lines + 0.9))
        for ax, (title, panel) in zip(axes.flat, panels, strict=False):
            draw.plot(ax, panel, colours)
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
    """Decimal log axes label their major ticks only, 1, 2 and 5 per decade on short ranges
    (matplotlib's minor tick labels overlap there); the base-2 N axes are left alone."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log" or getattr(axis.get_transform(), "base", 10) != 10:
            continue
        if low > 0 and np.log10(high / low) < 1.5:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
        axis.set_minor_formatter(NullFormatter())


def _log2_x(ax) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N")


def _plot_speedup(ax, panel, colours):
    peers = panel[panel["impl"] != panel["reference"]]
    for impl, group in peers.groupby("impl"):
        speedup = (1.0 / group["time_ratio"]).groupby(group["N"])
        median, q1, q3 = speedup.median(), speedup.quantile(0.25), speedup.quantile(0.75)
        ax.plot(median.index, median.values, "o-", color=colours[impl], label=impl)
        ax.fill_between(median.index, q1.values, q3.values, color=colours[impl], alpha=0.2)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    _log2_x(ax)
    ax.set_ylabel("speed-up = peer time / reference time")


def _plot_time(ax, panel, colours):
    """Median time vs N per implementation, its fitted log-log slope written at its end."""
    label_column = "impl" if (panel["kind"] == "apply").all() else "method"
    for label, group in panel.groupby(label_column):
        median = group.groupby("N")["seconds"].median()
        ax.plot(median.index, median.values, "o-", color=colours[label], label=label)
        slope = fitted_slope(median.index, median.values)
        text = "slope needs ≥ 2 sizes" if math.isnan(slope) else f"slope {slope:.2f}"
        ax.annotate(text, (median.index[-1], median.values[-1]), xytext=(4, 0),
                    textcoords="offset points", fontsize=7, color=colours[label],
                    va="center")
    ax.set_yscale("log")
    _log2_x(ax)
    ax.margins(x=0.25)
    ax.set_ylabel("seconds (median)")


def _plot_pareto(ax, panel, colours):
    """Each method at each noise level (median over seeds); a marker per noise level, the
    noise level itself dotted, the front per noise level dashed."""
    medians = (panel.groupby(["method", "noise"])[["seconds", "rel_error", "noise_norm"]]
               .median().reset_index())
    medians["rel_error"] = medians["rel_error"].clip(lower=1e-17)
    levels = sorted(medians["noise"].unique())
    for method, group in medians.groupby("method"):
        for _, point in group.iterrows():
            marker = _MARKERS[levels.index(point["noise"]) % len(_MARKERS)]
            ax.plot(point["seconds"], point["rel_error"], marker, color=colours[method],
                    alpha=0.85)
        ax.plot([], [], "-", lw=4, color=colours[method], label=method)
    for level in levels:
        marker = _MARKERS[levels.index(level) % len(_MARKERS)]
        at_level = medians[medians["noise"] == level]
        points = at_level.sort_values("seconds")
        front = points[points["rel_error"] <= points["rel_error"].cummin()]
        ax.step(front["seconds"], front["rel_error"], "k--", where="post", lw=0.7, alpha=0.5)
        norm = at_level["noise_norm"].median()
        if norm > 0:
            ax.axhline(norm, color="grey", ls=":", lw=0.9)
        ax.plot([], [], marker, color="grey", ls="none",
                label="exact target" if level == 0 else f"noise {level:g} (dotted: its norm)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("seconds (median over seeds)")
    ax.set_ylabel("relative error")


def _plot_noise(ax, panel, colours):
    for method, group in panel.groupby("method"):
        median = group.groupby("noise")["rel_error"].median()
        ax.plot(median.index, median.values, "o-", color=colours[method], label=method)
    levels = np.unique(panel["noise"])
    positive = levels[levels > 0]
    if len(positive):
        norms = panel[panel["noise"] > 0].groupby("noise")["noise_norm"].median()
        ax.plot(norms.index, norms.values, "k:", lw=0.8, label="error = relative noise norm")
    ax.set_xscale("symlog", linthresh=positive.min() if len(positive) else 1e-4)
    ax.set_yscale("log")
    ax.set_xlabel("noise level")
    ax.set_ylabel("relative error (median over seeds)")


def _plot_bound_ratio(ax, panel, colours):
    for method, group in panel.groupby("method"):
        median = group.groupby("N")["bound_ratio"].median()
        ax.plot(median.index, median.values, "o-", color=colours[method], label=method)
    factors = panel.groupby("N")["factors"].first()
    ax.plot(factors.index, [guarantee(L) for L in factors.values], "k:", lw=0.8,
            label="√(L−1): proved for the orthonormalized comb trees only")
    ax.set_yscale("log")
    _log2_x(ax)
    ax.set_ylabel("error / lower bound (≥ 1)")


_FIGURES = [
    ("Speed-up of the reference (fastfact) over each peer vs N (log-log; band: IQR)", "speedup",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_speedup)),
    ("Apply time vs N, with the fitted log-log slope", "apply_time",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_time)),
    ("Factorization time vs N, with the fitted log-log slope", "factorize_time",
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
