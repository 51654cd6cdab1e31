"""``fastfact asv-history``: the asv results of many commits as one self-contained HTML page.

``asv publish`` writes pages whose scripts come from the network; offline they show an error.
This command reads the result files of one machine (``<results>/<machine>/*.json``, through
asv's own reader), orders the commits by date and writes ``index.html`` (figures embedded as
base64 PNG, no script) and the figures as ``figures/*.png``:

* a table per commit: for every benchmark, the geometric mean of its values over its
  parameters (the apply and factorization CPU time ÷ calibration, fastfact ÷ each peer, the
  floored error, the bound ratio, …);
* the changes between consecutive commits beyond the benchmark's threshold of
  ``regressions_thresholds`` in ``asv.conf.json`` (asv's rule: the largest threshold whose
  pattern matches the benchmark name, 5 % if none does). Every quantity the suites track
  grows when fastfact gets worse (times, ratios, errors, bytes), so a rise is "worse";
* one figure per benchmark: a panel per value of its first parameter, a line per value of
  the others (their geometric mean per second parameter when a panel would hold more than
  :data:`MAX_LINES` lines).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from fastfact.bench.results import write_text_atomic

__all__ = ["HistoryError", "load_history", "significant_changes", "write_history"]

MAX_LINES = 10
DEFAULT_THRESHOLD = 0.05  # asv's, for benchmarks no pattern of the configuration matches


class HistoryError(ValueError):
    """A results folder that holds no asv history to render."""


def _machine_folder(results: Path, machine: str | None) -> Path:
    machines = sorted(p.parent.name for p in results.glob("*/machine.json"))
    if machine is None:
        if len(machines) != 1:
            raise HistoryError(f"{str(results)!r} holds the machines {machines or 'none'}: "
                               "pass --machine NAME" if machines else
                               f"{str(results)!r} holds no asv machine (no */machine.json)")
        machine = machines[0]
    elif machine not in machines:
        raise HistoryError(f"no machine {machine!r} in {str(results)!r}; machines: "
                           f"{', '.join(machines) or 'none'}")
    return results / machine


def load_history(results, machine: str | None = None) -> pd.DataFrame:
    """One row per commit × benchmark × parameter combination of one machine's asv results.

    Columns: ``commit`` (8 characters), ``date`` (commit date, UTC), ``env``, ``benchmark``,
    ``params`` (a tuple of the parameter values as asv writes them), ``value`` and ``unit``
    (from ``benchmarks.json`` when present). Failed and skipped benchmarks (no value) are
    left out.

    Raises
    ------
    HistoryError
        No machine folder, several without ``machine``, or no result file.
    """
    from asv.results import iter_results

    results = Path(results)
    folder = _machine_folder(results, machine)
    units = {}
    if (results / "benchmarks.json").exists():
        described = json.loads((results / "benchmarks.json").read_text())
        units = {name: entry.get("unit", "") for name, entry in described.items()
                 if isinstance(entry, dict)}
    rows = []
    for result in iter_results(str(folder)):
        date = pd.Timestamp(result.date, unit="ms", tz="UTC")
        for key in result.get_all_result_keys():
            params = result.get_result_params(key)  # [] for an unparametrized benchmark
            values = result.get_result_value(key, params)  # one value per combination
            for combo, value in zip(itertools.product(*params), values, strict=True):
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    rows.append({"commit": result.commit_hash[:8], "date": date,
                                 "env": result.env_name, "benchmark": key, "params": combo,
                                 "value": float(value), "unit": units.get(key, "")})
    if not rows:
        raise HistoryError(f"{str(folder)!r} holds no benchmark results")
    return pd.DataFrame(rows).sort_values(["date", "benchmark"], kind="stable")


def _shown(value: str) -> str:
    """A parameter value as asv writes it (``"'dft'"``), without the quotes of its repr."""
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value


def _threshold(benchmark: str, thresholds: dict) -> float:
    matching = [float(t) for pattern, t in thresholds.items() if re.match(pattern, benchmark)]
    return max(matching) if matching else DEFAULT_THRESHOLD


def _commits(history: pd.DataFrame) -> list[str]:
    return list(history.drop_duplicates("commit").sort_values("date")["commit"])


def significant_changes(history: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Changes of one benchmark value between consecutive commits that hold it, beyond the
    benchmark's threshold: ``benchmark``, ``params``, ``from``, ``to``, ``before``, ``after``,
    ``ratio``, ``threshold``, ``verdict`` (``worse`` when the value grew)."""
    order = {commit: i for i, commit in enumerate(_commits(history))}
    changes = []
    for (benchmark, params, env), series in history.groupby(["benchmark", "params", "env"]):
        series = series.sort_values("commit", key=lambda c: c.map(order))
        limit = _threshold(benchmark, thresholds)
        for (_, before), (_, after) in itertools.pairwise(series.iterrows()):
            if before["value"] <= 0 or after["value"] <= 0:
                continue
            ratio = after["value"] / before["value"]
            if abs(math.log(ratio)) > math.log1p(limit):
                changes.append({"benchmark": benchmark, "params": ", ".join(map(_shown, params)),
                                "env": env, "from": before["commit"], "to": after["commit"],
                                "before": before["value"], "after": after["value"],
                                "ratio": ratio, "threshold": limit,
                                "verdict": "worse" if ratio > 1 else "better"})
    columns = ["benchmark", "params", "env", "from", "to", "before", "after", "ratio",
               "threshold", "verdict"]
    return pd.DataFrame(changes, columns=columns)


def _geometric_mean(values: pd.Series) -> float:
    positive = values[values > 0]
    return float(np.exp(np.log(positive).mean())) if len(positive) else float("nan")


def commit_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per commit: the geometric mean of every benchmark over its parameters (and count)."""
    means = (history.groupby(["commit", "benchmark"])["value"].agg(_geometric_mean)
             .unstack("benchmark"))
    dates = history.groupby("commit")["date"].first()
    means = means.loc[_commits(history)]
    means.columns = [name.split(".", 1)[-1] for name in means.columns]
    means = means.map(lambda v: "—" if math.isnan(v) else f"{v:.4g}")
    means.insert(0, "date", dates.reindex(means.index).dt.strftime("%Y-%m-%d %H:%M"))
    return means.reset_index()


def _lines(panel: pd.DataFrame) -> dict[str, pd.Series]:
    """Line label → value per commit; aggregated by the second parameter when too many."""
    rest = panel["params"].map(lambda p: p[1:])
    if rest.nunique() > MAX_LINES and panel["params"].map(len).max() > 2:
        rest = panel["params"].map(lambda p: p[1:2])
    return {", ".join(map(_shown, key)) or "value": group.groupby("commit")["value"].agg(
        _geometric_mean) for key, group in panel.groupby(rest)}


def draw_history(history: pd.DataFrame, folder: Path) -> list[tuple[str, Path]]:
    """One PNG per benchmark (a panel per first-parameter value); ``(caption, path)`` pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    commits = _commits(history)
    figures = []
    for benchmark, rows in history.groupby("benchmark", sort=True):
        first = rows["params"].map(lambda p: p[0] if p else "")
        panels = list(rows.groupby(first, sort=True))
        columns = min(3, len(panels))
        fig, axes = plt.subplots(math.ceil(len(panels) / columns), columns, squeeze=False,
                                 figsize=(4.8 * columns, 3.4 * math.ceil(len(panels) / columns)),
                                 layout="constrained")
        for ax, (title, panel) in zip(axes.flat, panels, strict=False):
            for label, series in _lines(panel).items():
                series = series.reindex(commits)
                ax.plot(range(len(commits)), series.values, marker="o", markersize=3,
                        label=label)
            ax.set_title(_shown(str(title)) or benchmark, fontsize=9)
            ax.set_xticks(range(len(commits)), commits, rotation=60, fontsize=6)
            if (panel["value"] > 0).all() and panel["value"].max() > 3 * panel["value"].min():
                ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        unit = rows["unit"].iloc[0]
        caption = f"{benchmark}" + (f" ({unit})" if unit else "")
        fig.suptitle(caption, fontsize=10)
        path = folder / f"{benchmark.replace('.', '_')}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        figures.append((caption, path))
    return figures


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1500px}
.wide{overflow-x:auto}table{border-collapse:collapse;font-size:12px;margin:0.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}
th{background:#f0f0f0}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}"""


def _page(title: str, sections: list[tuple[str, str, str]]) -> str:
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    for heading, text, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(text)}</p>{body}")
    parts.append("</body></html>")
    return "\n".join(parts)


def change_summary(changes: pd.DataFrame) -> pd.DataFrame:
    """Per commit and benchmark: how many parameter combinations got worse, and better."""
    counts = changes.groupby(["to", "benchmark", "verdict"]).size().unstack("verdict")
    counts = counts.reindex(columns=["worse", "better"]).fillna(0).astype(int)
    counts.columns.name = None
    return counts.reset_index()


def _table(frame: pd.DataFrame) -> str:
    return (f"<div class='wide'>{frame.to_html(index=False, border=0, float_format=lambda v: f'{v:.4g}')}"
            "</div>")


def write_history(results, out, machine: str | None = None, config=None) -> Path:
    """Write ``out/index.html`` (self-contained) and ``out/figures/*.png``.

    Parameters
    ----------
    results : path-like
        asv's results folder (``results_dir`` of ``asv.conf.json``).
    out : path-like
        Output folder.
    machine : str, optional
        Machine name; required when ``results`` holds several.
    config : path-like, optional
        ``asv.conf.json`` whose ``regressions_thresholds`` decide what a change is.

    Returns
    -------
    pathlib.Path
        The HTML page.
    """
    history = load_history(results, machine)
    thresholds = {}
    if config is not None:
        thresholds = json.loads(Path(config).read_text()).get("regressions_thresholds", {})
    out = Path(out)
    figures = draw_history(history, out / "figures")
    changes = significant_changes(history, thresholds)
    if history["env"].nunique() == 1:
        changes = changes.drop(columns="env")
    commits = _commits(history)
    images = "".join(
        f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'><figcaption>{html.escape(caption)}"
        f"</figcaption></figure>" for caption, path in figures)
    sections = [
        ("Commits", f"{len(commits)} commits, oldest first; each benchmark's geometric mean "
         "over its parameters. Every quantity grows when fastfact gets worse.",
         _table(commit_table(history))),
        ("Changes beyond the thresholds", "Between consecutive commits holding the value; "
         "thresholds from regressions_thresholds of asv.conf.json (5 % where none matches). "
         "Counts of parameter combinations per commit and benchmark; every change below.",
         "<p><em>none</em></p>" if changes.empty else
         f"{_table(change_summary(changes))}<details><summary>{len(changes)} changes"
         f"</summary>{_table(changes)}</details>"),
        ("Figures", "Per benchmark: a panel per value of its first parameter.", images),
    ]
    page = out / "index.html"
    write_text_atomic(page, _page(f"fastfact asv history — {history['benchmark'].nunique()} "
                          f"benchmarks, {len(commits)} commits", sections))
    return page
