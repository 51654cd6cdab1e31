"""The "paper says / we measure" table: a measure per claim, computed from a run's rows.

A ``[[claims]]`` entry of a suite names a measure of :data:`MEASURES` and filters the rows with
``where = {column = value or [values]}``; the measure turns the matching rows into one short
sentence. Rows must be the ``status == "ok"`` rows with the report's derived columns
(``bound_ratio`` filled in for peers, see :func:`fastfact.bench.report.load_run`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["MEASURES", "evaluate_claims", "fitted_slope", "guarantee", "select"]


def select(rows: pd.DataFrame, where: dict) -> pd.DataFrame:
    """Rows whose columns match ``where`` (a value, or a list of accepted values)."""
    mask = pd.Series(True, index=rows.index)
    for column, value in where.items():
        if column not in rows:
            raise ValueError(f"claim filter names an unknown column {column!r}")
        accepted = value if isinstance(value, list) else [value]
        mask &= rows[column].isin(accepted)
    return rows[mask]


def fitted_slope(sizes, seconds) -> float:
    """Least-squares slope of ``log seconds`` against ``log N`` (NaN with < 2 sizes)."""
    sizes, seconds = np.asarray(sizes, float), np.asarray(seconds, float)
    if len(np.unique(sizes)) < 2:
        return math.nan
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def _per_method(rows: pd.DataFrame, describe) -> str:
    parts = [f"{method}: {describe(group)}" for method, group in rows.groupby("method")]
    return "; ".join(parts)


def _time_slope(rows, claim) -> str:
    def describe(group):
        medians = group.groupby("N")["seconds"].median()
        sizes = f"N = {medians.index.min()}…{medians.index.max()}"
        return f"slope {fitted_slope(medians.index, medians.values):.2f} ({sizes})"

    return _per_method(rows, describe)


def _max_rel_error(rows, claim) -> str:
    return _per_method(rows, lambda g: "; ".join(
        f"max {e:.2g} ({dtype})" for dtype, e in g.groupby("dtype")["rel_error"].max().items()))


def _compare(rows, claim) -> str:
    parts = []
    for N, at_n in rows.groupby("N"):
        medians = at_n.groupby("method")[["rel_error", "seconds"]].median()
        cells = [f"{m} {r.rel_error:.2g} in {r.seconds:.3g} s" for m, r in medians.iterrows()]
        fastest = medians["seconds"].min()
        slowest = medians["seconds"].idxmax()
        cells.append(f"{slowest} ×{medians.loc[slowest, 'seconds'] / fastest:.3g} slower")
        parts.append(f"N = {N}: " + ", ".join(cells))
    return "; ".join(parts)


def _error_over_noise(rows, claim) -> str:
    noisy = rows[rows["noise"] > 0]
    ratio = noisy["rel_error"] / noisy["noise"]
    return _per_method(noisy.assign(ratio=ratio), lambda g: (
        f"error/noise {g['ratio'].median():.3g} (range {g['ratio'].min():.3g}–"
        f"{g['ratio'].max():.3g})"))


def _fastest(rows, claim) -> str:
    medians = rows.groupby(["N", "method"])["seconds"].median().unstack()
    return ", ".join(f"N = {N}: {row.idxmin()}" for N, row in medians.iterrows())


def guarantee(factors) -> float:
    """``√(L−1)``: the bound on error / lower bound of the orthonormalized hierarchical method
    for a chain of ``L = factors`` factors (docs/algorithms.md §4.6; 1 for two factors: the split
    is optimal). NaN when ``factors`` is unknown (rows written before the column existed).
    """
    factors = float(factors)
    return math.nan if math.isnan(factors) else math.sqrt(max(1.0, factors - 1))


def _max_bound_ratio(rows, claim) -> str:
    def describe(group):
        worst = group.loc[group["bound_ratio"].idxmax()]
        limit = guarantee(worst["factors"])
        return (f"max err/bound {worst['bound_ratio']:.3f} at N = {worst['N']} "
                f"(√(L−1) = {limit:.2f})")

    return _per_method(rows.dropna(subset=["bound_ratio"]), describe)


def _speedup(rows, claim) -> str:
    peers = rows[rows["impl"] != rows["reference"]]
    speedup = 1.0 / peers["time_ratio"]
    parts = []
    for (impl, N, batch), values in speedup.groupby([peers["impl"], peers["N"], peers["batch"]]):
        parts.append(f"{impl} N = {N} batch {batch}: ×{values.median():.3g}")
    return "; ".join(parts)


MEASURES = {
    "time_slope": _time_slope,
    "max_rel_error": _max_rel_error,
    "compare": _compare,
    "error_over_noise": _error_over_noise,
    "fastest": _fastest,
    "max_bound_ratio": _max_bound_ratio,
    "speedup": _speedup,
}


def evaluate_claims(claims: list[dict], rows: pd.DataFrame) -> pd.DataFrame:
    """The claims table: ``id, claim, source, paper says, we measure``.

    A claim whose filter matches no row says so ("not measured in this run").
    """
    table = []
    for claim in claims:
        try:
            matched = select(rows, claim.get("where", {}))
            measured = (MEASURES[claim["measure"]](matched, claim) if len(matched)
                        else "not measured in this run (no matching rows)")
        except (ValueError, KeyError) as exc:
            measured = f"cannot evaluate: {exc}"
        table.append({"id": claim["id"], "claim": claim["claim"],
                      "source": claim.get("source", ""), "paper says": claim["paper"],
                      "we measure": measured})
    return pd.DataFrame(table, columns=["id", "claim", "source", "paper says", "we measure"])
