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


LANDSCAPE_TOL = 1e-3  # a start "reaches" a value when within 0.1 % of it


def _landscape(rows, claim) -> str:
    """Multistart runs per support: how many reach the optimum, at how many values they stop.

    With a closed-form optimum (tractable supports: ``lower_bound`` is ``E*``), the count of
    starts within :data:`LANDSCAPE_TOL` of it; otherwise the number of distinct final values
    and the count at the best one (there is no optimum to compare with).
    """
    parts = []
    for (chain, N, method), group in rows.groupby(["chain", "N", "method"]):
        errors = np.sort(group["rel_error"].to_numpy(dtype=float))
        K = len(errors)
        stalled = int(group["warnings"].fillna("").str.contains("ConvergenceWarning").sum())
        if group["lower_bound"].notna().all():
            ratio = group["rel_error"] / group["lower_bound"]
            text = f"{int((ratio <= 1 + LANDSCAPE_TOL).sum())}/{K} starts within 0.1 % of E*"
        else:
            distinct = 1 + int(np.sum(np.diff(errors) > LANDSCAPE_TOL * errors[:-1]))
            at_best = int(np.sum(errors <= errors[0] * (1 + LANDSCAPE_TOL)))
            text = (f"{K} starts stop at {distinct} distinct values ({errors[0]:.4g}–"
                    f"{errors[-1]:.4g}), {at_best}/{K} at the best (no closed form)")
        if stalled:
            text += f", {stalled} stopped by max_iter"
        parts.append(f"{chain} N = {N} {method}: {text}")
    return "; ".join(parts)


def _per_target(rows, claim) -> str:
    """Largest relative error per target and chain."""
    return "; ".join(f"{target} on {chain}: max {group['rel_error'].max():.2g}"
                     for (target, chain), group in rows.groupby(["target", "chain"]))


def _chain_tradeoff(rows, claim) -> str:
    """Coefficients against error per target and size, chains by increasing coefficients."""
    from fastfact.bench.workloads import CHAINS

    parts = []
    for (target, N), at_size in rows.groupby(["target", "N"]):
        entries = sorted((sum(f.nnz for f in CHAINS[chain](int(N))), chain,
                          group["rel_error"].median()) for chain, group in at_size.groupby("chain"))
        parts.append(f"{target} N = {N}: " + ", ".join(
            f"{chain} {nnz} coefficients → {error:.3g}" for nnz, chain, error in entries))
    return "; ".join(parts)


MEASURES = {
    "time_slope": _time_slope,
    "max_rel_error": _max_rel_error,
    "compare": _compare,
    "error_over_noise": _error_over_noise,
    "fastest": _fastest,
    "max_bound_ratio": _max_bound_ratio,
    "speedup": _speedup,
    "landscape": _landscape,
    "chain_tradeoff": _chain_tradeoff,
    "per_target": _per_target,
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
