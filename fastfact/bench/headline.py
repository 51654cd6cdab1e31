"""The headline table of a report: per workload, fastfact against its best peer, and verdicts.

One row per workload — an apply transform (per batch size and dtype), a timed factorization or
an accuracy sweep target (per chain, noise and dtype) — at the largest size the run measured:

* apply and timed factorizations: the reference's (fastfact's) median time, the fastest peer
  and its median time, and the speed-up ``peer time ÷ fastfact time`` (> 1: fastfact faster);
* accuracy: the fastfact method with the smallest median error and the peer with the smallest
  median error, with their times, and both ratios (peer ÷ fastfact).

The last column lists the claims (:mod:`fastfact.bench.claims`) measured on rows of that
workload, at any size, with a mark for their verdict.
"""

from __future__ import annotations

import pandas as pd

from fastfact.bench.claims import select

__all__ = ["MARKS", "headline_table"]

MARKS = {"reproduced": "✓", "partial": "◐", "not reproduced": "✗", "not measured": "–"}
_KEYS = {
    "apply": ["target", "batch", "dtype"],
    "factorize_time": ["target", "chain", "noise", "dtype"],
    "factorize": ["target", "chain", "noise", "noise_model", "dtype"],
}
COLUMNS = ["workload", "N", "fastfact", "best peer", "peer ÷ fastfact", "claims"]


def _time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _describe(kind: str, key: tuple) -> str:
    values = dict(zip(_KEYS[kind], key, strict=True))
    if kind == "apply":
        return f"apply {values['target']}, batch {values['batch']}, {values['dtype']}"
    noise = "exact" if not values["noise"] else f"noise {values['noise']:g}"
    if values.get("noise_model") == "icassp" and values["noise"]:
        noise += " (ICASSP model)"
    what = "factorize (timed)" if kind == "factorize_time" else "factorize"
    chain = "" if values["chain"] == "butterfly" else f", {values['chain']} chain"
    return f"{what} {values['target']}{chain}, {noise}, {values['dtype']}"


def _timing_row(kind, at_n) -> dict:
    label = "impl" if kind == "apply" else "method"
    is_own = at_n["impl"] == (at_n["reference"] if kind == "apply" else "fastfact")
    mine = at_n[is_own].groupby(label)["seconds"].median()
    theirs = at_n[~is_own].groupby(label)["seconds"].median()
    row = {"fastfact": "—", "best peer": "—", "peer ÷ fastfact": "—"}
    if len(mine):
        row["fastfact"] = f"{mine.idxmin()} {_time(mine.min())}"
    if len(theirs):
        row["best peer"] = f"{theirs.idxmin()} {_time(theirs.min())}"
    if len(mine) and len(theirs):
        row["peer ÷ fastfact"] = f"time ×{theirs.min() / mine.min():.3g}"
    return row


def _best_by_error(frame) -> tuple[str, float, float] | None:
    if frame.empty:
        return None
    medians = frame.groupby("method")[["rel_error", "seconds"]].median()
    best = medians.sort_values(["rel_error", "seconds"]).iloc[0]
    return best.name, float(best["rel_error"]), float(best["seconds"])


def _accuracy_row(at_n) -> dict:
    mine = _best_by_error(at_n[at_n["impl"] == "fastfact"])
    theirs = _best_by_error(at_n[at_n["impl"] != "fastfact"])
    row = {"fastfact": "—", "best peer": "—", "peer ÷ fastfact": "—"}
    if mine:
        row["fastfact"] = f"{mine[0]} {mine[1]:.2g} in {_time(mine[2])}"
    if theirs:
        row["best peer"] = f"{theirs[0]} {theirs[1]:.2g} in {_time(theirs[2])}"
    if mine and theirs:
        error = theirs[1] / mine[1] if mine[1] > 0 else float("inf")
        row["peer ÷ fastfact"] = f"error ×{error:.3g}, time ×{theirs[2] / mine[2]:.3g}"
    return row


def _claim_marks(claims, verdicts, ok) -> dict:
    """``(kind, key) -> "H1 ✓ H6 ✗"`` over the workloads each claim's rows fall in."""
    marks: dict = {}
    for claim, verdict in zip(claims, verdicts, strict=True):
        try:
            matched = select(ok, claim.get("where", {}))
        except ValueError:
            continue
        mark = f"{claim.get('id', '?')} {MARKS.get(verdict.split(' (')[0], '?')}"
        for kind, keys in _KEYS.items():
            of_kind = matched[matched["kind"] == kind]
            for key in of_kind.groupby(keys, dropna=False).groups:
                entry = marks.setdefault((kind, key), [])
                if mark not in entry:
                    entry.append(mark)
    return {workload: " ".join(entry) for workload, entry in marks.items()}


def headline_table(rows: pd.DataFrame, claims=(), verdicts=()) -> pd.DataFrame:
    """The headline table (:data:`COLUMNS`) of the ``status == "ok"`` rows of a run.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of :func:`fastfact.bench.report.load_run`.
    claims, verdicts : sequences
        The suite's claims and their verdicts (the ``verdict`` column of the claims table).
    """
    ok = rows[rows["status"] == "ok"]
    marks = _claim_marks(list(claims), list(verdicts), ok)
    table = []
    for kind, keys in _KEYS.items():
        of_kind = ok[ok["kind"] == kind]
        for key, group in of_kind.groupby(keys, dropna=False, sort=True):
            largest = group["N"].max()
            at_n = group[group["N"] == largest]
            cells = _accuracy_row(at_n) if kind == "factorize" else _timing_row(kind, at_n)
            table.append({"workload": _describe(kind, key), "N": int(largest), **cells,
                          "claims": marks.get((kind, key), "")})
    return pd.DataFrame(table, columns=COLUMNS)
