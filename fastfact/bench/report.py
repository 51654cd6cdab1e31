"""``fastfact report``: tables and figures of a run, as ``report.md`` and ``report.html``.

Conventions used throughout: ``time_ratio`` = reference time / peer time, paired repeat by
repeat, where the reference is the implementation named in the ``reference`` column (fastfact's
apply in apply sweeps, the first method of a ``[[factorize_time]]`` sweep); < 1: the reference
is faster. The *speed-up* of the reference over a peer is its inverse, peer time / reference
time (> 1: the reference is faster). Medians come with their interquartile range (IQR) over
the repeats (timings) or over the seeds (errors).

Both documents have the same sections, in this order: the headline table
(:mod:`fastfact.bench.headline`), the claims with their verdicts (:mod:`fastfact.bench.claims`),
the figures (:mod:`fastfact.bench.figures`), the detailed tables, the machine and the
implementations. ``report.md`` links the figures saved under ``<run>/figures/``;
``report.html`` embeds them (base64 PNG), so it is a single self-contained file
(:mod:`fastfact.bench.document` renders both).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fastfact.bench.claims import evaluate_claims
from fastfact.bench.compare import compare_runs
from fastfact.bench.document import (
    Section,
    implementations_table,
    machine_summary,
    machine_table,
    render_html,
    render_markdown,
)
from fastfact.bench.figures import draw_figures
from fastfact.bench.headline import headline_table
from fastfact.bench.loading import ReportError, read_run
from fastfact.bench.results import COLUMNS, write_text_atomic
from fastfact.bench.tolerances import certificate_floor

__all__ = ["ReportError", "load_run", "write_report"]


def load_run(folder) -> tuple[pd.DataFrame, dict]:
    """Rows and meta of a run; ``bound_ratio`` is filled in from any certificate of the target.

    The lower bound certifies the target, not the method: the error of an implementation that
    computes no certificate (a peer) is divided by the largest certificate computed for the
    same target instance (every one is valid; unless it is at round-off level, see
    :func:`fastfact.bench.tolerances.certificate_floor`). Damaged rows are skipped and listed
    in ``meta["input_problems"]`` (:func:`fastfact.bench.loading.read_run`).

    Raises
    ------
    ReportError
        No readable rows.csv, no rows in it, or no meta.json written by ``fastfact bench``.
    """
    rows, meta = read_run(folder)
    rows = rows.reindex(columns=COLUMNS)  # runs written before a column existed read as empty
    rows["batch"] = rows["batch"].fillna(0).astype(int)
    rows["noise"] = rows["noise"].fillna(0.0)
    instance = ["target", "chain", "N", "noise", "seed", "dtype"]
    bounds = (rows.dropna(subset=["lower_bound"]).groupby(instance)["lower_bound"].max()
              .rename("instance_bound"))
    rows = rows.join(bounds, on=instance)
    floor = rows["dtype"].map(certificate_floor)
    informative = rows["instance_bound"] > floor
    rows["bound_ratio"] = rows["bound_ratio"].fillna(
        (rows["rel_error"] / rows["instance_bound"]).where(informative))
    return rows.drop(columns="instance_bound"), meta


# ---------------------------------------------------------------------------- tables
def _iqr_text(median: float, q1: float, q3: float, digits: int = 3) -> str:
    if any(map(math.isnan, (median, q1, q3))):
        return "—"
    return f"{median:.{digits}g} [{q1:.{digits}g}–{q3:.{digits}g}]"


def _quartile_summary(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    grouped = frame.groupby(keys)[column]
    return pd.DataFrame({"median": grouped.median(), "q1": grouped.quantile(0.25),
                         "q3": grouped.quantile(0.75), "count": grouped.size()})


def apply_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per transform, N, batch, dtype: the reference's time and its time ratio to every peer."""
    timed = rows[(rows["kind"] == "apply") & (rows["status"] == "ok")]
    if timed.empty:
        return pd.DataFrame()
    keys = ["target", "N", "batch", "dtype", "reference"]
    is_reference = timed["impl"] == timed["reference"]
    own = _quartile_summary(timed[is_reference], keys, "seconds")
    table = pd.DataFrame({"reference ms": [_iqr_text(r.median * 1e3, r.q1 * 1e3, r.q3 * 1e3)
                                           for r in own.itertuples()]}, index=own.index)
    ratios = _quartile_summary(timed[~is_reference], [*keys, "impl"], "time_ratio")
    for impl, by_peer in ratios.groupby(level="impl"):
        cells = by_peer.droplevel("impl")
        table[f"÷ {impl}"] = pd.Series(
            [_iqr_text(r.median, r.q1, r.q3) for r in cells.itertuples()], index=cells.index)
    return table.fillna("—").reset_index()


def factorize_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per target instance and method: error, ratio to the certificate, time, memory."""
    done = rows[(rows["kind"] == "factorize") & (rows["status"] == "ok")]
    if done.empty:
        return pd.DataFrame()
    keys = ["target", "chain", "N", "noise", "dtype", "method"]
    grouped = done.groupby(keys)
    error = _quartile_summary(done, keys, "rel_error")
    table = pd.DataFrame({
        "seeds": error["count"],
        "rel. error": [_iqr_text(r.median, r.q1, r.q3) for r in error.itertuples()],
        "err / bound": grouped["bound_ratio"].median().map(
            lambda v: "—" if math.isnan(v) else f"{v:.4g}"),
        "err / upper": (done["rel_error"] / done["upper_bound"]).groupby(
            [done[key] for key in keys]).median().map(lambda v: "—" if math.isnan(v) else f"{v:.4g}"),
        "seconds": grouped["seconds"].median().map(lambda v: f"{v:.3g}"),
        "peak MiB": (grouped["peak_bytes"].median() / 2**20).map(lambda v: f"{v:.3g}"),
    })
    return table.reset_index()


def factorize_time_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Timed factorizations: median time [IQR] per method and its ratio to the reference."""
    timed = rows[(rows["kind"] == "factorize_time") & (rows["status"] == "ok")]
    if timed.empty:
        return pd.DataFrame()
    keys = ["target", "chain", "N", "noise", "dtype", "method"]
    seconds = _quartile_summary(timed, keys, "seconds")
    ratio = _quartile_summary(timed, keys, "time_ratio")
    reference = timed.groupby(keys)["reference"].first()
    return pd.DataFrame({
        "seconds": [_iqr_text(r.median, r.q1, r.q3) for r in seconds.itertuples()],
        "reference": reference,
        "reference time ÷ this": [_iqr_text(r.median, r.q1, r.q3) for r in ratio.itertuples()],
        "rel. error": timed.groupby(keys)["rel_error"].first().map(lambda v: f"{v:.3g}"),
    }).reset_index()


def problems_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Tasks and implementations that did not give a valid measurement, and why; and apply
    outputs that could not be checked (no affordable independent reference)."""
    bad = rows[rows["status"] != "ok"]
    unchecked = rows[(rows["status"] == "ok")
                     & rows["oracle"].fillna("").astype(str).str.startswith("none")]
    unchecked = unchecked.assign(status="unchecked", error=unchecked["oracle"])
    columns = ["status", "kind", "impl", "method", "target", "N", "batch", "dtype", "error"]
    return pd.concat([bad[columns], unchecked[columns]]).drop_duplicates().reset_index(drop=True)


def warnings_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Warnings raised by tasks (e.g. iterative methods stopping on ``max_iter``), counted."""
    warned = rows[rows["warnings"].notna() & (rows["warnings"].astype(str) != "")]
    columns = ["kind", "impl", "method", "target", "warnings"]
    return (warned.drop_duplicates("task").groupby(columns).size().rename("tasks")
            .reset_index())


# ---------------------------------------------------------------------------- documents
_HEADLINE_TEXT = (
    "One row per workload at the largest size measured (all sizes are in the details below). "
    "Timings: median over the repeats; accuracy: the method with the smallest median error. "
    "`peer ÷ fastfact` > 1: fastfact is faster (time) or more accurate (error). Claims: "
    "✓ reproduced, ◐ partial, ✗ not reproduced, – not measured (see the next section).")
_CLAIMS_TEXT = (
    "Each claim of the suite (docs/algorithms.md §6 and the algorithms added since) with the "
    "criterion the suite states for it "
    "(thresholds on quantities measured from this run's rows). Verdict: **reproduced** when "
    "every check holds (each criterion on each case: method, size, …), **partial** when some "
    "do, **not reproduced** when none does, **not measured** when nothing could be computed.")


def _implementations_text(meta: dict) -> str:
    absent = meta.get("absent_peers", {})
    text = ("Implementations requested by the suite but absent here: " + "; ".join(
        f"**{name}** ({reason})" for name, reason in absent.items()) if absent
        else "Every implementation requested by the suite is installed.")
    return text.rstrip(".") + (". Layout: how an apply implementation receives the batch "
                               "(`columns`: X of shape (N, batch), batch contiguous; `rows`: "
                               "every signal contiguous).")


def _sections(rows, meta, other, figures) -> list[Section]:
    """The sections of both documents: headline, claims, figures, details, machine."""
    claims = meta["suite"].get("claims") or []
    claims_table = evaluate_claims(claims, rows[rows["status"] == "ok"]) if claims else None
    verdicts = [] if claims_table is None else claims_table["verdict"].tolist()
    headline = headline_table(rows, claims, verdicts)
    text = _HEADLINE_TEXT
    if claims_table is None:
        headline = headline.drop(columns="claims")
        text = text[:text.index(" Claims:")]
    sections = [Section("Headline", text, headline, collapse=False)]
    if meta.get("input_problems"):
        sections.append(Section("Input problems", "Rows of rows.csv that could not be used, "
                                "counted by kind.", pd.DataFrame({"problem": meta["input_problems"]})))
    if claims_table is not None:
        sections.append(Section("Paper says / we measure", _CLAIMS_TEXT, claims_table,
                                collapse=False))
    if figures:
        sections.append(Section("Figures", "Each method and implementation has one colour in "
                                "every figure.", figures=figures))
    sections += [
        Section("Details"),
        Section("Apply: reference time and time ratio to each peer",
                "`÷ peer` = reference time / peer time, median [IQR] over paired repeats "
                "(< 1: the reference is faster). Every output is checked against an exact "
                "result computed independently of all implementations (`oracle` column of the "
                "rows).", apply_table(rows), level=3),
        Section("Factorization accuracy", "Median [IQR] over seeds; `err / bound` = relative "
                "error divided by the lower-bound certificate (≥ 1).", factorize_table(rows),
                level=3),
        Section("Factorization time", "Median [IQR] over repeats, interleaved in one process.",
                factorize_time_table(rows), level=3),
        Section("Problems", "Rows that are not valid measurements (absent peers, errors, "
                "outputs that differ from the exact result) and outputs left unchecked (no "
                "affordable independent reference).", problems_table(rows), level=3),
        Section("Warnings", "Warnings raised during tasks, recorded in the `warnings` column.",
                warnings_table(rows), level=3),
    ]
    if other is not None:
        other_rows, other_meta = other
        comparison = compare_runs(rows, other_rows)
        sections.append(Section(f"Against {other_meta['suite']['name']} run of "
                                f"{other_meta.get('run', {}).get('started')}",
                                "Timings are compared on CPU time ÷ the calibration workload of "
                                "the same repeat, corrected for the drift of the peers of each "
                                "task, within a band from the repeats and the run-to-run spread; "
                                "errors seed by seed (docs/benchmarking.md, \"Comparing runs\"). "
                                + comparison.summary(), comparison.display(), level=3))
    sections += [
        Section("Machine", "", machine_table(meta)),
        Section("Implementations", _implementations_text(meta), implementations_table(meta)),
    ]
    return sections


def write_report(run, against=None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (and ``figures/*.png``) into ``run``.

    Parameters
    ----------
    run : path-like
        A folder written by ``fastfact bench``.
    against : path-like, optional
        Another run; adds a run-vs-run table flagging changes beyond the noise band.

    Returns
    -------
    tuple of pathlib.Path
        The Markdown and HTML reports.

    Raises
    ------
    ReportError
        A folder with no rows (or no meta.json), or one the report cannot be written into.
    """
    folder = Path(run)
    rows, meta = load_run(folder)
    other = load_run(against) if against is not None else None
    title = f"fastfact benchmark — {meta['suite']['name']}"
    intro = f"{meta['suite'].get('description', '')} {machine_summary(meta)}".strip()
    markdown_path, html_path = folder / "report.md", folder / "report.html"
    try:
        sections = _sections(rows, meta, other, draw_figures(rows, folder / "figures"))
        write_text_atomic(markdown_path, render_markdown(title, intro, sections, folder))
        write_text_atomic(html_path, render_html(title, intro, sections))
    except OSError as exc:
        raise ReportError(f"cannot write the report into {str(folder)!r}: {exc}") from None
    return markdown_path, html_path
