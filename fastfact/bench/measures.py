"""How the rows of a claim become numbers: the measures of the "paper says / we measure" table.

A measure splits the rows a claim selected into *cases* (one per method, per size, …) and
computes, for each, a few named *quantities* (a log-log slope, a time ratio, …) and one short
sentence saying what was measured. The criteria of the claim (:mod:`fastfact.bench.claims`)
are bounds on those quantities. A quantity that cannot be computed from the rows is NaN and
the sentence says why (e.g. "needs ≥ 2 sizes").

Rows are the ``status == "ok"`` rows of :func:`fastfact.bench.report.load_run`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fastfact.bench.tolerances import certificate_floor

__all__ = ["MEASURES", "Case", "Measure", "fitted_slope", "guarantee"]

INSTANCE = ["target", "chain", "N", "noise", "seed", "dtype"]  # one target matrix


@dataclass(frozen=True)
class Case:
    """One case of a measure: a label, named quantities (NaN: not computable) and a sentence
    saying what was measured (the report writes ``label: text``)."""

    label: str
    quantities: dict
    text: str


@dataclass(frozen=True)
class Measure:
    """A measure: its quantities (name → what it is), its parameters, and how it computes.

    Attributes
    ----------
    quantities : dict of str to str
        The quantities every case has, with the phrase the report uses for them.
    cases : callable
        ``cases(rows, claim) -> list[Case]``.
    parameters : dict of str to bool
        Extra keys of a claim the measure reads (name → required), each a method label or a
        list of labels.
    """

    quantities: dict
    cases: Callable[[pd.DataFrame, dict], list[Case]]
    parameters: dict = field(default_factory=dict)


def fitted_slope(sizes, seconds) -> float:
    """Least-squares slope of ``log seconds`` against ``log N`` (NaN with < 2 sizes)."""
    sizes, seconds = np.asarray(sizes, float), np.asarray(seconds, float)
    if len(np.unique(sizes)) < 2:
        return math.nan
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def guarantee(factors) -> float:
    """``√(L−1)``: the bound on error / lower bound of the orthonormalized hierarchical method
    with a comb tree, for a chain of ``L = factors`` factors (fastfact's derivation,
    docs/algorithms.md §4.6; 1 for two factors: the split is optimal). NaN when ``factors``
    is unknown (rows written before the column existed).
    """
    factors = float(factors)
    return math.nan if math.isnan(factors) else math.sqrt(max(1.0, factors - 1))


def _labels(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _varying(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """The ``keys`` that take more than one value in ``frame`` (the others need no label)."""
    return [key for key in keys if frame[key].nunique(dropna=False) > 1]


def _label(keys: list[str], values) -> str:
    values = values if isinstance(values, tuple) else (values,)
    named = {"N": "N = {}", "noise": "noise {:g}", "batch": "batch {}"}
    return ", ".join(named.get(k, "{}").format(v) for k, v in zip(keys, values, strict=True))


def _groups(rows: pd.DataFrame, keys: list[str]):
    """``(label, group)`` per combination of the ``keys`` that vary in ``rows`` (the first
    key alone when none varies)."""
    shown = _varying(rows, keys) or keys[:1]
    for values, group in rows.groupby(shown, sort=True):
        yield _label(shown, values), group


def _floor(errors: pd.Series, dtypes: pd.Series) -> pd.Series:
    """Errors raised to the round-off floor of their dtype: below it, errors are all alike."""
    return np.maximum(errors, dtypes.map(certificate_floor))


# ---------------------------------------------------------------------------- the measures
def _time_slope(rows, claim) -> list[Case]:
    cases = []
    for method, group in rows.groupby("method"):
        medians = group.groupby("N")["seconds"].median()
        slope = fitted_slope(medians.index, medians.values)
        sizes = f"N = {medians.index.min()}…{medians.index.max()}"
        text = "needs ≥ 2 sizes" if math.isnan(slope) else f"slope {slope:.2f} ({sizes})"
        cases.append(Case(method, {"slope": slope}, text))
    return cases


def _max_rel_error(rows, claim) -> list[Case]:
    cases = []
    for label, group in _groups(rows, ["method", "dtype"]):
        worst = group.loc[group["rel_error"].idxmax()]
        text = f"max {worst['rel_error']:.2g} ({worst['target']}, N = {worst['N']})"
        cases.append(Case(label, {"max_rel_error": float(worst["rel_error"])}, text))
    return cases


def _median(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].median()) if len(frame) else math.nan


def _versus(rows, claim) -> list[Case]:
    """``method`` against the fastest of ``baseline`` (medians over seeds or repeats)."""
    method, baselines = claim["method"], _labels(claim["baseline"])
    rows = rows.assign(floored=_floor(rows["rel_error"], rows["dtype"]))
    cases = []
    for label, group in _groups(rows, ["target", "chain", "N", "noise", "dtype"]):
        own = group[group["method"] == method]
        timed = {b: _median(group[group["method"] == b], "seconds") for b in baselines}
        timed = {b: t for b, t in timed.items() if not math.isnan(t)}
        if own.empty or not timed:
            missing = method if own.empty else " / ".join(baselines)
            nan = dict.fromkeys(_VERSUS_QUANTITIES, math.nan)
            cases.append(Case(label, nan, f"no rows of {missing}"))
            continue
        baseline = min(timed, key=timed.get)
        other = group[group["method"] == baseline]
        quantities = {
            "time_ratio": timed[baseline] / _median(own, "seconds"),
            "error_ratio": _median(other, "floored") / _median(own, "floored"),
            "worst_error_ratio": float(other["floored"].max()) / _median(own, "floored"),
        }
        spread = (f" (worst {other['rel_error'].max():.2g})" if len(other) > 1 else "")
        text = (f"{method} {_median(own, 'rel_error'):.2g} in "
                f"{_median(own, 'seconds'):.3g} s, {baseline} {_median(other, 'rel_error'):.2g}"
                f"{spread} in {timed[baseline]:.3g} s → time ×{quantities['time_ratio']:.3g}, "
                f"error ×{quantities['error_ratio']:.3g}")
        cases.append(Case(label, quantities, text))
    return cases


_VERSUS_QUANTITIES = {
    "time_ratio": "baseline time ÷ method time",
    "error_ratio": "baseline error ÷ method error",
    "worst_error_ratio": "worst baseline error ÷ median method error",
}


def _error_over_noise(rows, claim) -> list[Case]:
    noisy = rows[rows["noise_norm"] > 0]
    ratio = noisy["rel_error"] / noisy["noise_norm"]
    cases = []
    for label, group in _groups(noisy.assign(ratio=ratio), ["method", "N"]):
        quantities = {"median_error_over_noise": float(group["ratio"].median()),
                      "max_error_over_noise": float(group["ratio"].max())}
        text = (f"error/noise {quantities['median_error_over_noise']:.3g} (max "
                f"{quantities['max_error_over_noise']:.3g}, {len(group)} draws)")
        cases.append(Case(label, quantities, text))
    return cases


def _bound_ratio(rows, claim) -> list[Case]:
    """Error over the lower-bound certificate, and over the proved upper bound where any."""
    cases = []
    for method, group in rows.groupby("method"):
        ratio = group["bound_ratio"].dropna()
        # upper bounds at round-off level say nothing (as for lower bounds, load_run)
        bounded = group[group["upper_bound"] > group["dtype"].map(certificate_floor)]
        quantities = {
            "min_bound_ratio": float(ratio.min()) if len(ratio) else math.nan,
            "max_error_over_upper_bound": (float((bounded["rel_error"] / bounded["upper_bound"])
                                                 .max()) if len(bounded) else math.nan),
        }
        certificate = (f"err/bound {ratio.min():.4g}…{ratio.max():.4g}" if len(ratio)
                       else "no certificate")
        upper = (f"err/upper bound ≤ {quantities['max_error_over_upper_bound']:.3g}, err/bound "
                 f"÷ √(L−1) ≤ {(bounded['bound_ratio'] / bounded['factors'].map(guarantee)).max():.3g}"
                 if len(bounded) else "no upper bound proved" if group["upper_bound"].isna().all()
                 else "upper bounds at round-off only")
        cases.append(Case(method, quantities, f"{certificate}, {upper}"))
    return cases


def _optimum_gap(rows, claim) -> list[Case]:
    """Each method's error against the ``oracle``'s on the same target instance."""
    oracle = claim["oracle"]
    optimum = (rows[rows["method"] == oracle].groupby(INSTANCE)["rel_error"].first()
               .rename("optimum"))
    cases = []
    for method, group in rows[rows["method"] != oracle].groupby("method"):
        paired = group.join(optimum, on=INSTANCE).dropna(subset=["optimum"])
        if paired.empty:
            nan = dict.fromkeys(_GAP_QUANTITIES, math.nan)
            cases.append(Case(method, nan, f"no {oracle} row on the same targets"))
            continue
        floor = paired["dtype"].map(certificate_floor)
        gap = paired["rel_error"] - paired["optimum"]
        gap = gap.where(gap.abs() > floor, 0.0)  # both at round-off: no gap to speak of
        excess = gap / np.maximum(paired["optimum"], floor)
        quantities = {"max_excess": float(excess.max()), "min_excess": float(excess.min())}
        text = (f"(error − optimum)/optimum in [{quantities['min_excess']:.2g}, "
                f"{quantities['max_excess']:.2g}] over {len(paired)} targets (optimum "
                f"{paired['optimum'].min():.2g}…{paired['optimum'].max():.2g})")
        cases.append(Case(method, quantities, text))
    return cases


_GAP_QUANTITIES = {
    "max_excess": "largest (error − optimum)/optimum, differences below round-off counted as 0",
    "min_excess": "smallest (error − optimum)/optimum, differences below round-off counted as 0",
}


def _speedup(rows, claim) -> list[Case]:
    peers = rows[rows["impl"] != rows["reference"]]
    cases = []
    for (impl, N, batch), group in peers.groupby(["impl", "N", "batch"]):
        speedup = float((1.0 / group["time_ratio"]).median())
        label = f"{group['reference'].iloc[0]} vs {impl}, N = {N}, batch {batch}"
        cases.append(Case(label, {"speedup": speedup}, f"×{speedup:.3g}"))
    return cases


LANDSCAPE_TOL = 1e-3  # a start "reaches" a value when within 0.1 % of it


def _distinct(sorted_errors) -> int:
    """Number of values of ``sorted_errors`` more than :data:`LANDSCAPE_TOL` apart."""
    return 1 + int(np.sum(np.diff(sorted_errors) > LANDSCAPE_TOL * sorted_errors[:-1]))


def _landscape(rows, claim) -> list[Case]:
    """Multistart runs per support: how many reach the optimum, at how many values they stop.

    With a closed-form optimum (tractable supports: ``lower_bound`` is ``E*``), the fraction
    of starts within :data:`LANDSCAPE_TOL` of it; otherwise the number of distinct final
    values of the starts that converged (there is no optimum to compare with; a start stopped
    by ``max_iter`` is at no local minimum).
    """
    cases = []
    for (chain, N, method), group in rows.groupby(["chain", "N", "method"]):
        errors = np.sort(group["rel_error"].to_numpy(dtype=float))
        K = len(errors)
        stalled_rows = group["warnings"].fillna("").str.contains("ConvergenceWarning")
        stalled = int(stalled_rows.sum())
        quantities = dict.fromkeys(_LANDSCAPE_QUANTITIES, math.nan)
        if group["lower_bound"].notna().all():
            reached = int((group["rel_error"] <= group["lower_bound"] * (1 + LANDSCAPE_TOL)).sum())
            quantities["fraction_at_optimum"] = reached / K
            text = f"{reached}/{K} starts within 0.1 % of E*"
        else:  # a start stopped by max_iter is not at a local minimum: not counted
            converged = np.sort(group.loc[~stalled_rows, "rel_error"].to_numpy(dtype=float))
            at_best = int(np.sum(errors <= errors[0] * (1 + LANDSCAPE_TOL)))
            text = (f"{K} starts stop at {_distinct(errors)} distinct values ({errors[0]:.4g}–"
                    f"{errors[-1]:.4g}), {at_best}/{K} at the best (no closed form); ")
            if len(converged) >= 2:
                quantities["distinct_stops"] = float(_distinct(converged))
                text += (f"the {len(converged)} that converged at {_distinct(converged)} "
                         f"distinct values")
            else:
                text += f"{len(converged)} converged (needs ≥ 2 to count local minima)"
        if stalled:
            text += f", {stalled} stopped by max_iter"
        cases.append(Case(f"{chain} N = {N} {method}", quantities, text))
    return cases


_LANDSCAPE_QUANTITIES = {
    "fraction_at_optimum": "fraction of the starts within 0.1 % of the closed-form optimum "
                           "(supports with one)",
    "distinct_stops": "distinct final values of the starts that converged (supports without "
                      "a closed form)",
}


def _per_target(rows, claim) -> list[Case]:
    """Largest and smallest relative error per target and chain."""
    cases = []
    for (target, chain), group in rows.groupby(["target", "chain"]):
        errors = group["rel_error"]
        quantities = {"max_rel_error": float(errors.max()), "min_rel_error": float(errors.min())}
        text = f"max {errors.max():.2g}, min {errors.min():.2g} ({len(group)} rows)"
        cases.append(Case(f"{target} on {chain}", quantities, text))
    return cases


def _chain_tradeoff(rows, claim) -> list[Case]:
    """Coefficients against error per target and size, chains by increasing coefficients."""
    from fastfact.bench.workloads import CHAINS

    cases = []
    for (target, N), at_size in rows.groupby(["target", "N"]):
        entries = sorted((sum(f.nnz for f in CHAINS[chain](int(N))), chain,
                          group["rel_error"].median()) for chain, group in at_size.groupby("chain"))
        errors = np.array([error for _, _, error in entries])
        rise = float(np.max(np.diff(errors) / errors[:-1])) if len(errors) > 1 else math.nan
        text = ", ".join(f"{chain} {nnz} coefficients → {error:.3g}"
                         for nnz, chain, error in entries)
        cases.append(Case(f"{target} N = {N}", {"largest_error_rise": rise},
                          text if len(errors) > 1 else f"{text} (needs ≥ 2 chains)"))
    return cases


MEASURES: dict[str, Measure] = {
    "time_slope": Measure({"slope": "log-log slope of the median time against N"},
                          _time_slope),
    "max_rel_error": Measure({"max_rel_error": "largest relative error"}, _max_rel_error),
    "versus": Measure(_VERSUS_QUANTITIES, _versus, {"method": True, "baseline": True}),
    "error_over_noise": Measure({
        "median_error_over_noise": "median relative error ÷ relative noise norm",
        "max_error_over_noise": "largest relative error ÷ relative noise norm"},
        _error_over_noise),
    "bound_ratio": Measure({
        "min_bound_ratio": "smallest error ÷ lower-bound certificate",
        "max_error_over_upper_bound": "largest error ÷ proved upper bound"}, _bound_ratio),
    "optimum_gap": Measure(_GAP_QUANTITIES, _optimum_gap, {"oracle": True}),
    "speedup": Measure({"speedup": "median speed-up of the reference over the peer"},
                       _speedup),
    "landscape": Measure(_LANDSCAPE_QUANTITIES, _landscape),
    "per_target": Measure({"max_rel_error": "largest relative error",
                           "min_rel_error": "smallest relative error"}, _per_target),
    "chain_tradeoff": Measure({
        "largest_error_rise": "largest relative rise of the median error from a chain to the "
                              "next one with more coefficients (< 0: the error falls)"},
        _chain_tradeoff),
}
