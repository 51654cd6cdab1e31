"""The "paper says / we measure" table: each claim measured on a run's rows and given a verdict.

A ``[[claims]]`` entry of a suite says what a paper claims and how this run checks it::

    [[claims]]
    id = "H6"
    claim = "Balanced tree faster for large N"         # texts of the table
    source = "[LZRG22] Fig. 4"
    paper = "balanced ≈ 10× faster than comb trees at J ≥ 11"
    where = { kind = "factorize_time", N = [2048, 4096] }   # the rows it is measured on
    measure = "versus"                                 # a measure of fastfact.bench.measures
    method = "hier-balanced"                           # the measure's parameters
    baseline = ["hier-l2r", "hier-r2l"]
    criteria = [{ quantity = "time_ratio", min = 2 }]  # bounds on the measure's quantities

The measure splits the selected rows into cases (per method, per size, …) and computes its
quantities for each; every criterion is checked on every case. The verdict:

* **reproduced** — every check holds;
* **partial** — some hold, some do not;
* **not reproduced** — none holds;
* **not measured** — no rows match, or no quantity could be computed (e.g. a slope from one
  size); checks that cannot be computed are counted apart and said so.

Claims are validated when the suite loads (:func:`check_claim`), so an unknown measure,
quantity or key fails before the run, not in the report.
"""

from __future__ import annotations

import math

import pandas as pd

from fastfact.bench.measures import MEASURES

__all__ = ["VERDICTS", "check_claim", "criterion_text", "evaluate_claims", "judge", "select"]

VERDICTS = ("reproduced", "partial", "not reproduced", "not measured")
TEXT_KEYS = ("id", "claim", "paper", "measure")  # required
OPTIONAL_KEYS = ("source", "where", "criteria")
COLUMNS = ["id", "claim", "source", "paper says", "criterion", "we measure", "verdict"]


def select(rows: pd.DataFrame, where: dict) -> pd.DataFrame:
    """Rows whose columns match ``where`` (a value, or a list of accepted values)."""
    mask = pd.Series(True, index=rows.index)
    for column, value in where.items():
        if column not in rows:
            raise ValueError(f"claim filter names an unknown column {column!r}")
        accepted = value if isinstance(value, list) else [value]
        mask &= rows[column].isin(accepted)
    return rows[mask]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_claim(claim, columns, labels) -> None:
    """Raise ValueError (naming the key) unless ``claim`` is a valid ``[[claims]]`` table.

    Parameters
    ----------
    claim : dict
        The table.
    columns : collection of str
        The row columns a ``where`` filter may name.
    labels : collection of str
        The method labels a measure parameter may name.
    """
    if not isinstance(claim, dict):
        raise ValueError("must be a table")
    for key in TEXT_KEYS:
        if key not in claim:
            raise ValueError(f"missing required key {key!r}")
    for key in ("id", "claim", "paper", "source"):
        if key in claim and not isinstance(claim[key], str):
            raise ValueError(f"{key}: must be a string, got {claim[key]!r}")
    measure = MEASURES.get(claim["measure"])
    if measure is None:
        raise ValueError(f"measure: unknown measure {claim['measure']!r}; known: "
                         f"{', '.join(sorted(MEASURES))}")
    accepted = {*TEXT_KEYS, *OPTIONAL_KEYS, *measure.parameters}
    unknown = sorted(set(claim) - accepted)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} for measure {claim['measure']!r}; "
                         f"accepted keys: {', '.join(sorted(accepted))}")
    _check_where(claim.get("where", {}), columns)
    for name, required in measure.parameters.items():
        _check_labels(claim, name, required, labels)
    _check_criteria(claim.get("criteria"), measure.quantities)


def _check_where(where, columns) -> None:
    if not isinstance(where, dict):
        raise ValueError(f"where: must be a table of column = value(s), got {where!r}")
    for column, value in where.items():
        if column not in columns:
            raise ValueError(f"where: unknown column {column!r}; columns: "
                             f"{', '.join(sorted(columns))}")
        if isinstance(value, (dict, list)) and (not isinstance(value, list) or not value):
            raise ValueError(f"where.{column}: must be a value or a non-empty list, got "
                             f"{value!r}")


def _check_labels(claim, name, required, labels) -> None:
    if name not in claim:
        if required:
            raise ValueError(f"missing key {name!r} (required by measure {claim['measure']!r})")
        return
    value = claim[name]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name}: must be a method label or a list of them, got {value!r}")
    for label in values:
        if label not in labels:
            raise ValueError(f"{name}: unknown method {label!r}; known: "
                             f"{', '.join(sorted(labels))}")


def _check_criteria(criteria, quantities) -> None:
    if not isinstance(criteria, list) or not criteria:
        raise ValueError("criteria: a claim needs a non-empty list of criteria, e.g. "
                         "[{ quantity = ..., min = ..., max = ... }]")
    for number, criterion in enumerate(criteria):
        where = f"criteria[{number}]"
        if not isinstance(criterion, dict):
            raise ValueError(f"{where}: must be a table, got {criterion!r}")
        unknown = sorted(set(criterion) - {"quantity", "min", "max"})
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}; accepted: quantity, min, max")
        if criterion.get("quantity") not in quantities:
            raise ValueError(f"{where}.quantity: unknown quantity {criterion.get('quantity')!r}; "
                             f"this measure gives {', '.join(quantities)}")
        bounds = [criterion[k] for k in ("min", "max") if k in criterion]
        if not bounds:
            raise ValueError(f"{where}: needs a 'min' or a 'max'")
        if not all(_number(b) for b in bounds):
            raise ValueError(f"{where}: min and max must be finite numbers, got {bounds}")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError(f"{where}: min {bounds[0]} is above max {bounds[1]}")


def criterion_text(criteria, quantities) -> str:
    """The criteria as a reader checks them: ``"time_ratio ≥ 2; slope in [1.7, 2.3]"``."""
    parts = []
    for criterion in criteria:
        name = criterion["quantity"]
        low, high = criterion.get("min"), criterion.get("max")
        bound = (f"in [{low:g}, {high:g}]" if low is not None and high is not None
                 else f"≥ {low:g}" if low is not None else f"≤ {high:g}")
        parts.append(f"{name} {bound}" + (f" ({quantities[name]})" if name in quantities else ""))
    return "; ".join(parts)


def _holds(criterion, value) -> bool | None:
    if value is None or math.isnan(value):
        return None
    return (criterion.get("min", -math.inf) <= value <= criterion.get("max", math.inf))


def judge(cases, criteria) -> str:
    """The verdict of the checks ``criteria × cases``, with the counts behind it.

    Examples
    --------
    >>> from fastfact.bench.measures import Case
    >>> judge([Case("a", {"slope": 2.0}, ""), Case("b", {"slope": 3.1}, "")],
    ...       [{"quantity": "slope", "min": 1.7, "max": 2.3}])
    'partial (1 of 2 checks hold)'
    """
    checks = [_holds(c, case.quantities.get(c["quantity"])) for case in cases for c in criteria]
    measured = [check for check in checks if check is not None]
    if not measured:
        return "not measured"
    held = sum(measured)
    verdict = ("reproduced" if held == len(measured) else "not reproduced" if held == 0
               else "partial")
    detail = f"{held} of {len(measured)} checks hold"
    if len(measured) < len(checks):
        detail += f"; {len(checks) - len(measured)} not computable"
    return f"{verdict} ({detail})"


def evaluate_claims(claims: list[dict], rows: pd.DataFrame) -> pd.DataFrame:
    """The claims table: ``id, claim, source, paper says, criterion, we measure, verdict``.

    A claim whose filter matches no row is "not measured (no matching rows)"; one that cannot
    be evaluated (a run written before a column or measure existed) says why.
    """
    table = []
    for claim in claims:
        measure = MEASURES.get(claim.get("measure"))
        quantities = measure.quantities if measure else {}
        criteria = claim.get("criteria") or []
        try:
            if measure is None:
                raise ValueError(f"unknown measure {claim.get('measure')!r}")
            matched = select(rows, claim.get("where", {}))
            if matched.empty:
                measured, verdict = "no matching rows in this run", "not measured"
            else:
                cases = measure.cases(matched, claim)
                measured = "; ".join(f"{case.label}: {case.text}" for case in cases)
                verdict = judge(cases, criteria) if criteria else "not measured (no criterion)"
        except (ValueError, KeyError) as exc:
            measured, verdict = f"cannot evaluate: {exc}", "not measured"
        table.append({"id": claim.get("id", ""), "claim": claim.get("claim", ""),
                      "source": claim.get("source", ""), "paper says": claim.get("paper", ""),
                      "criterion": criterion_text(criteria, quantities) or "—",
                      "we measure": measured, "verdict": verdict})
    return pd.DataFrame(table, columns=COLUMNS)
