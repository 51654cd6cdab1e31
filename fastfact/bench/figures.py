"""The figures of a report: speed-up, time vs N, Pareto front, error vs noise, bound ratio.

Each figure is a :class:`_Figure` (which rows, how they split into panels, how a panel is
drawn); :func:`draw_figures` draws those the rows of a run allow, as PNG files. Speed-ups are
relative to each row's ``reference`` (the implementation ``time_ratio`` refers to).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from fastfact.bench.claims import fitted_slope, guarantee

__all__ = ["draw_figures"]


def draw_figures(rows: pd.DataFrame, folder: Path) -> list[tuple[str, Path]]:
    """Draw every figure the rows allow into ``folder``; ``(caption, png path)`` pairs.

    ``rows`` are those of :func:`fastfact.bench.report.load_run` (``bound_ratio`` filled in).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(exist_ok=True)
    ok = rows[rows["status"] == "ok"]
    figures = []
    for caption, name, draw in _FIGURES:
        frame = draw.select(ok)
        if frame.empty:
            continue
        panels = draw.panels(frame)
        columns = min(3, len(panels))
        fig, axes = plt.subplots(math.ceil(len(panels) / columns), columns, squeeze=False,
                                 figsize=(4.6 * columns, 3.6 * math.ceil(len(panels) / columns)),
                                 layout="constrained")
        for ax, (title, panel) in zip(axes.flat, panels, strict=False):
            draw.plot(ax, panel)
            ax.set_title(title, fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.suptitle(caption, fontsize=11)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        figures.append((caption, path))
    return figures


class _Figure:
    """One kind of figure: which rows, how they are split into panels, how a panel is drawn.

    Rows of the ``kinds`` with a value in the ``needs`` column are drawn, one panel per value
    of the ``split`` columns.
    """

    def __init__(self, kinds, split, plot, needs="seconds"):
        self.kinds, self.split, self.plot, self.needs = kinds, split, plot, needs

    def select(self, ok):
        return ok[ok["kind"].isin(self.kinds) & ok[self.needs].notna()]

    def panels(self, frame):
        return [(" ".join(f"{k}={v}" for k, v in zip(self.split, key, strict=True)), group)
                for key, group in frame.groupby(self.split)]


def _plot_speedup(ax, panel):
    peers = panel[panel["impl"] != panel["reference"]]
    for impl, group in peers.groupby("impl"):
        speedup = (1.0 / group["time_ratio"]).groupby(group["N"])
        median, q1, q3 = speedup.median(), speedup.quantile(0.25), speedup.quantile(0.75)
        line = ax.loglog(median.index, median.values, "o-", label=impl)[0]
        ax.fill_between(median.index, q1.values, q3.values, color=line.get_color(), alpha=0.2)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N")
    ax.set_ylabel("speed-up = peer time / reference time")


def _plot_time(ax, panel):
    label_column = "impl" if (panel["kind"] == "apply").all() else "method"
    for label, group in panel.groupby(label_column):
        median = group.groupby("N")["seconds"].median()
        slope = fitted_slope(median.index, median.values)
        ax.loglog(median.index, median.values, "o-", label=f"{label} (slope {slope:.2f})")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N")
    ax.set_ylabel("seconds (median)")


def _plot_pareto(ax, panel):
    """Each method at each noise level (median over seeds); dashed: the front per noise level."""
    medians = (panel.groupby(["method", "noise"])[["seconds", "rel_error"]].median()
               .reset_index())
    medians["rel_error"] = medians["rel_error"].clip(lower=1e-17)
    for method, group in medians.groupby("method"):
        ax.loglog(group["seconds"], group["rel_error"], "o", alpha=0.8, label=method)
    for number, (_, group) in enumerate(medians.groupby("noise")):
        points = group.sort_values("seconds")
        front = points[points["rel_error"] <= points["rel_error"].cummin()]
        ax.step(front["seconds"], front["rel_error"], "k--", where="post", lw=0.7, alpha=0.6,
                label="Pareto front per noise level" if number == 0 else None)
    ax.set_xlabel("seconds (median over seeds)")
    ax.set_ylabel("relative error")


def _plot_noise(ax, panel):
    for method, group in panel.groupby("method"):
        median = group.groupby("noise")["rel_error"].median()
        ax.plot(median.index, median.values, "o-", label=method)
    levels = np.unique(panel["noise"])
    positive = levels[levels > 0]
    if len(positive):
        ax.plot(positive, positive, "k:", lw=0.8, label="error = noise level")
    ax.set_xscale("symlog", linthresh=positive.min() if len(positive) else 1e-4)
    ax.set_yscale("log")
    ax.set_xlabel("noise level")
    ax.set_ylabel("relative error (median over seeds)")


def _plot_bound_ratio(ax, panel):
    for method, group in panel.groupby("method"):
        median = group.groupby("N")["bound_ratio"].median()
        ax.semilogx(median.index, median.values, "o-", label=method)
    factors = panel.groupby("N")["factors"].first()
    ax.semilogx(factors.index, [guarantee(L) for L in factors.values], "k:", lw=0.8,
                label="√(L−1) (guarantee)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N")
    ax.set_ylabel("error / lower bound")


_FIGURES = [
    ("Speed-up of the reference (fastfact) over each peer vs N (log-log; band: IQR)", "speedup",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_speedup)),
    ("Apply time vs N, with the fitted log-log slope", "apply_time",
     _Figure(["apply"], ["target", "batch", "dtype"], _plot_time)),
    ("Factorization time vs N, with the fitted log-log slope", "factorize_time",
     _Figure(["factorize_time"], ["target", "chain", "noise", "dtype"], _plot_time)),
    ("Error vs time per method (Pareto)", "pareto",
     _Figure(["factorize"], ["target", "chain", "N", "dtype"], _plot_pareto, "rel_error")),
    ("Error vs noise", "error_noise",
     _Figure(["factorize"], ["target", "chain", "N", "dtype"], _plot_noise, "rel_error")),
    ("Ratio of the error to the lower-bound certificate", "bound_ratio",
     _Figure(["factorize"], ["target", "chain", "noise", "dtype"], _plot_bound_ratio,
             "bound_ratio")),
]
