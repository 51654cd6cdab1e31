"""``fastfact report``: tables and figures of a run, as ``report.md`` and ``report.html``.

Conventions used throughout: ``time_ratio`` = reference time / peer time, paired repeat by
repeat, where the reference is the implementation named in the ``reference`` column (fastfact's
apply in apply sweeps, the first method of a ``[[factorize_time]]`` sweep); < 1: the reference
is faster. The *speed-up* of the reference over a peer is its inverse, peer time / reference
time (> 1: the reference is faster). Medians come with their interquartile range (IQR) over
the repeats (timings) or over the seeds (errors).

``report.md`` links the figures (:mod:`fastfact.bench.figures`) saved under
``<run>/figures/``; ``report.html`` embeds them (base64 PNG), so it is a single self-contained
file.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import pandas as pd

from fastfact.bench.claims import evaluate_claims
from fastfact.bench.compare import compare_runs
from fastfact.bench.figures import draw_figures
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
def _machine_block(meta: dict) -> list[tuple[str, str]]:
    machine, run = meta.get("machine", {}), meta.get("run", {})
    cpu = machine.get("cpu", {})
    numba = machine.get("numba", {})
    blas = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} "
                     f"threads)" for p in machine.get("blas", []) if "error" not in p)
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    git = machine.get("git", {})
    return [
        ("suite", f"{meta['suite']['name']} ({meta['suite']['source']}, digest "
                  f"{meta['suite']['digest'][:12]})"),
        ("run", f"started {run.get('started')}, finished {run.get('finished') or 'not yet'}"
                f", jobs {run.get('jobs')}, scheduler {run.get('scheduler') or 'none'}"),
        ("cpu", f"{cpu.get('model')} — {cpu.get('logical_cores')} logical cores, "
                f"{cpu.get('usable_cores')} usable"),
        ("threads", f"timing tasks pinned to {meta['suite']['settings']['threads']}; numba "
                    f"{numba.get('threading_layer')} layer, {numba.get('num_threads')} threads"),
        ("blas", blas or "unknown"),
        ("versions", f"python {machine.get('python')}, {versions}"),
        ("git", f"{git.get('sha') or 'not a git checkout'}"
                f"{' (dirty)' if git.get('dirty') else ''}"),
    ]


def _implementation_rows(meta: dict) -> pd.DataFrame:
    found = meta.get("machine", {}).get("peers", [])
    return pd.DataFrame([{
        "implementation": p["name"], "kind": p["kind"], "layout": p.get("layout", ""),
        "status": (p["version"] or "installed") if p["available"] else "ABSENT",
        "note": p["reason"] or p["summary"]} for p in found])


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def _sections(rows, meta, other) -> list[tuple[str, str, pd.DataFrame | None]]:
    """``(title, text, table)`` sections shared by the Markdown and HTML documents."""
    absent = meta.get("absent_peers", {})
    absent_text = ("Implementations requested by the suite but absent here: " + "; ".join(
        f"**{name}** ({reason})" for name, reason in absent.items()) if absent
        else "Every implementation requested by the suite is installed.")
    absent_text += (" Layout: how an apply implementation receives the batch (`columns`: X of "
                    "shape (N, batch), batch contiguous; `rows`: every signal contiguous).")
    sections = [] if not meta.get("input_problems") else [
        ("Input problems", "Rows of rows.csv that could not be used, counted by kind.",
         pd.DataFrame({"problem": meta["input_problems"]}))]
    sections += [
        ("Machine", "", pd.DataFrame(_machine_block(meta), columns=["", "value"])),
        ("Implementations", absent_text, _implementation_rows(meta)),
    ]
    claims = meta["suite"].get("claims")
    if claims:
        sections.append(("Paper says / we measure", "Headline results of docs/algorithms.md §6.",
                         evaluate_claims(claims, rows[rows["status"] == "ok"])))
    sections += [
        ("Apply: reference time and time ratio to each peer",
         "`÷ peer` = reference time / peer time, median [IQR] over paired repeats "
         "(< 1: the reference is faster). Every output is checked against an exact result "
         "computed independently of all implementations (`oracle` column of the rows).",
         apply_table(rows)),
        ("Factorization accuracy", "Median [IQR] over seeds; `err / bound` = relative error "
         "divided by the lower-bound certificate max_s E_s (≥ 1).", factorize_table(rows)),
        ("Factorization time", "Median [IQR] over repeats, interleaved in one process.",
         factorize_time_table(rows)),
        ("Problems", "Rows that are not valid measurements (absent peers, errors, outputs "
         "that differ from the exact result) and outputs left unchecked (no affordable "
         "independent reference).", problems_table(rows)),
        ("Warnings", "Warnings raised during tasks, recorded in the `warnings` column.",
         warnings_table(rows)),
    ]
    if other is not None:
        other_rows, other_meta = other
        comparison = compare_runs(rows, other_rows)
        sections.append((f"Against {other_meta['suite']['name']} run of "
                         f"{other_meta.get('run', {}).get('started')}",
                         "Timings are compared on CPU time ÷ the calibration workload of the "
                         "same repeat, corrected for the drift of the peers of each task, "
                         "within a band from the repeats and the run-to-run spread; errors seed "
                         "by seed (docs/benchmarking.md, \"Comparing runs\"). "
                         + comparison.summary(),
                         comparison.display()))
    return sections


def _markdown(title, sections, figures, folder: Path) -> str:
    parts = [f"# {title}\n"]
    for heading, text, table in sections:
        parts.append(f"## {heading}\n")
        if text:
            parts.append(text + "\n")
        if table is not None:
            parts.append(_markdown_table(table))
    if figures:
        parts.append("## Figures\n")
        parts += [f"![{caption}]({path.relative_to(folder).as_posix()})\n"
                  for caption, path in figures]
    return "\n".join(parts)


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#f0f0f0}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}"""


def _html(title, sections, figures) -> str:
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    for heading, text, table in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if text:
            parts.append(f"<p>{html.escape(text).replace('**', '')}</p>")
        if table is not None:
            parts.append(table.to_html(index=False, border=0) if not table.empty
                         else "<p><em>none</em></p>")
    if figures:
        parts.append("<h2>Figures</h2>")
    for caption, path in figures:
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<figure><img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{data}'><figcaption>{html.escape(caption)}"
                     f"</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


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
    sections = _sections(rows, meta, other)
    markdown_path, html_path = folder / "report.md", folder / "report.html"
    try:
        figures = draw_figures(rows, folder / "figures")
        write_text_atomic(markdown_path, _markdown(title, sections, figures, folder))
        write_text_atomic(html_path, _html(title, sections, figures))
    except OSError as exc:
        raise ReportError(f"cannot write the report into {str(folder)!r}: {exc}") from None
    return markdown_path, html_path
