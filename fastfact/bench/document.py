"""Rendering a report: the same sections as ``report.md`` and as one self-contained HTML page.

A report is a title, an introduction and a list of :class:`Section` (heading, text, optional
table, optional figures). Markdown and HTML show the same sections in the same order; the HTML
embeds the figures (base64 PNG), collapses long tables into ``<details>`` and colours verdicts.
Text may use ``**bold**`` and ```code``` (both renderings understand them).
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["COLLAPSE_ROWS", "Section", "implementations_table", "machine_summary",
           "machine_table", "render_html", "render_markdown"]

COLLAPSE_ROWS = 12  # HTML tables longer than this start collapsed
_VERDICT_CLASSES = {"reproduced": "good", "partial": "mixed", "not reproduced": "bad",
                    "not measured": "none"}


@dataclass
class Section:
    """One section: heading (``level`` 2 or 3), text, optional table, optional figures.

    ``collapse``: whether the HTML may collapse the table when it is long.
    """

    heading: str
    text: str = ""
    table: pd.DataFrame | None = None
    level: int = 2
    figures: list = field(default_factory=list)  # (caption, png path) pairs
    collapse: bool = True


# ---------------------------------------------------------------------------- machine
def machine_table(meta: dict) -> pd.DataFrame:
    """Suite, run, CPU, threads, BLAS, versions and git state of a run."""
    machine, run = meta.get("machine", {}), meta.get("run", {})
    cpu = machine.get("cpu", {})
    numba = machine.get("numba", {})
    blas = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} "
                     f"threads)" for p in machine.get("blas", []) if "error" not in p)
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    git = machine.get("git", {})
    return pd.DataFrame([
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
    ], columns=["", "value"])


def machine_summary(meta: dict) -> str:
    """One line: where and when the run was made."""
    machine, run = meta.get("machine", {}), meta.get("run", {})
    cpu = machine.get("cpu", {})
    sha = (machine.get("git", {}).get("sha") or "no git")[:10]
    return (f"Run of {run.get('started')} on {cpu.get('model')} ({cpu.get('usable_cores')} "
            f"usable cores), timing tasks on {meta['suite']['settings']['threads']} thread(s), "
            f"fastfact at {sha}.")


def implementations_table(meta: dict) -> pd.DataFrame:
    """Every implementation known to the run's machine, with its version or why it is absent."""
    found = meta.get("machine", {}).get("peers", [])
    return pd.DataFrame([{
        "implementation": p["name"], "kind": p["kind"], "layout": p.get("layout", ""),
        "status": (p["version"] or "installed") if p["available"] else "ABSENT",
        "note": p["reason"] or p["summary"]} for p in found])


# ---------------------------------------------------------------------------- Markdown
def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def render_markdown(title: str, intro: str, sections: list[Section], folder: Path) -> str:
    """``report.md``: figures linked relative to ``folder``."""
    parts = [f"# {title}\n", intro + "\n"]
    for section in sections:
        parts.append(f"{'#' * section.level} {section.heading}\n")
        if section.text:
            parts.append(section.text + "\n")
        if section.table is not None:
            parts.append(_markdown_table(section.table))
        parts += [f"![{caption}]({path.relative_to(folder).as_posix()})\n"
                  for caption, path in section.figures]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- HTML
_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em 2em;max-width:1500px;color:#222}
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid #ddd}
h3{font-size:1.1em;margin-top:1.2em}p{max-width:80em;line-height:1.4}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;max-width:42em}
th{background:#f0f0f0;position:sticky;top:0}tr:nth-child(even) td{background:#fafafa}
td.good{background:#dff3df!important}td.mixed{background:#fff1cc!important}
td.bad{background:#f8d7d7!important}td.none{color:#777}
summary{cursor:pointer;color:#245;margin:0.4em 0}code{background:#f3f3f3;padding:0 3px}
figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}"""


def _inline(text: str) -> str:
    """Escaped text with ``**bold**`` and ```code``` rendered."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _cell(column: str, value) -> str:
    """A table cell: verdicts coloured, the cases of a claim's measurement one per line."""
    text = str(value)
    verdict = next((cls for name, cls in _VERDICT_CLASSES.items() if text.startswith(name)),
                   None) if column == "verdict" else None
    attribute = f" class='{verdict}'" if verdict else ""
    content = html.escape(text)
    if column == "we measure":
        content = "<br>".join(html.escape(part) for part in text.split("; "))
    return f"<td{attribute}>{content}</td>"


def _html_table(frame: pd.DataFrame, collapse: bool) -> str:
    if frame.empty:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(str(c), v) for c, v in zip(frame.columns, row))
                   + "</tr>" for row in frame.itertuples(index=False))
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if collapse and len(frame) > COLLAPSE_ROWS:
        return f"<details><summary>{len(frame)} rows (click to expand)</summary>{table}</details>"
    return table


def render_html(title: str, intro: str, sections: list[Section]) -> str:
    """``report.html``: one self-contained page (figures embedded)."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>{_inline(intro)}</p>"]
    for section in sections:
        parts.append(f"<h{section.level}>{html.escape(section.heading)}</h{section.level}>")
        if section.text:
            parts.append(f"<p>{_inline(section.text)}</p>")
        if section.table is not None:
            parts.append(_html_table(section.table, section.collapse))
        for caption, path in section.figures:
            data = base64.b64encode(Path(path).read_bytes()).decode()
            parts.append(f"<figure><img alt='{html.escape(caption)}' "
                         f"src='data:image/png;base64,{data}'></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
