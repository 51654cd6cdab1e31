"""Run-vs-run comparison that survives a drifting machine: same-run ratios, noise from repeats.

Absolute wall times of two runs are not comparable on a shared machine: on the 2-core VM under
load, the medians of two quick runs of one commit differ by ×2 (σ of the log 0.73). Every
measurement therefore records the CPU time of the process beside the wall time, and every
timing task times a fixed calibration workload interleaved with its contenders
(:func:`fastfact.bench.timing.calibration_workload`). Runs are compared on the **calibrated
time**, CPU seconds ÷ the calibration's CPU seconds of the same repeat. For each timing row
(task × implementation) and each run:

* ``m`` — the median over repeats of ``log(cpu_seconds / calibration_cpu_seconds)``;
* ``se`` — its standard error from the spread of the repeats, ``1.2533 · 1.4826 · MAD / √n``.

Between the runs, ``δ = m_new − m_old``. What the calibration misses shows up as a common
movement of code that did not change, the peers, and it is shared by the contenders of one task
(they were interleaved): a row's *drift* ``μ`` is the median ``δ`` of the other peers (impl ≠
fastfact) of its task when there are :data:`MIN_TASK_PEERS` of them, else the median ``δ`` of all
peer rows (0 with fewer than :data:`MIN_DRIFT_ROWS`). The *drift spread* ``τ`` is the robust
spread (1.4826 × MAD) of the peers' ``δ − μ``: the run-to-run noise floor, measured on the data.
A row is flagged when ``|δ − μ| > band = max(log 1.05, 3 · max(τ, √(se_new² + se_old²)))``. So
a slowdown of fastfact is judged against same-run peers and the calibration, and the band
widens, rather than flagging noise, when the machine is noisy.

Accuracy rows (``[[factorize]]``) are compared seed by seed (the same seeds give the same
targets): the median over seeds of ``log(err_new / err_old)``, errors floored at the
certificate floor of their dtype (:func:`fastfact.bench.tolerances.certificate_floor`, so that
round-off level errors do not flip), flagged beyond 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fastfact.bench.tolerances import certificate_floor

__all__ = ["BAND_SIGMAS", "ERROR_BAND_FLOOR", "MIN_DRIFT_ROWS", "MIN_TASK_PEERS", "TIME_BAND_FLOOR",
           "TIMING_METRIC", "Comparison", "compare_runs"]

TIME_BAND_FLOOR = 0.05  # calibrated-time changes below 5 % are never flagged
ERROR_BAND_FLOOR = 0.01  # nor are error changes below 1 %
BAND_SIGMAS = 3.0  # the band in standard deviations of the change
MIN_DRIFT_ROWS = 5  # peer rows needed to estimate the drift from the peers alone
MIN_TASK_PEERS = 2  # other peers of a task needed to take its drift from them
TIMING_KINDS = ("apply", "factorize_time")
TIMING_METRIC = "CPU time ÷ calibration"
KEYS = ["kind", "target", "chain", "N", "batch", "dtype", "noise", "impl", "method"]
_MEDIAN_SE = 1.2533  # standard error of a median ÷ that of a mean (normal samples)
_MAD_SIGMA = 1.4826  # σ ÷ median absolute deviation (normal samples)


@dataclass(frozen=True)
class Comparison:
    """The run-vs-run table and the drift estimates it was flagged with.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per compared timing row and accuracy row: ``KEYS``, ``metric``, ``old``,
        ``new``, ``new/old``, ``corrected`` (new/old ÷ drift), ``band ±`` and ``flag``.
    drift : float
        Factor ``e^μ`` by which the calibrated times moved in common (1: none).
    spread : float
        Relative run-to-run noise ``τ`` of calibrated times.
    drift_rows : int
        Timing rows ``μ`` and ``τ`` were estimated from.
    uncalibrated : int
        Timing rows of either run recorded without a calibration (runs of an older
        fastfact): not compared.
    """

    table: pd.DataFrame
    drift: float = 1.0
    spread: float = 0.0
    drift_rows: int = 0
    uncalibrated: int = 0

    def flagged(self) -> pd.DataFrame:
        """The rows beyond their noise band."""
        return self.table[self.table["flag"] != ""] if not self.table.empty else self.table

    def display(self) -> pd.DataFrame:
        """The table with its numbers as text, for the report."""
        if self.table.empty:
            return self.table
        shown = self.table.copy()
        for column in ("old", "new"):
            shown[column] = shown[column].map(lambda v: f"{v:.4g}")
        for column in ("new/old", "corrected"):
            shown[column] = shown[column].map(lambda v: f"{v:.3f}")
        shown["band ±"] = shown["band ±"].map(lambda v: f"{v:.1%}")
        return shown

    def summary(self) -> str:
        """One paragraph for the report: what was compared, the drift, what was flagged."""
        if self.table.empty:
            return "No row of this run has a counterpart in the other one."
        timing = self.table["metric"] == TIMING_METRIC
        flagged = self.table["flag"] != ""
        text = (f"{int(timing.sum())} timing rows compared on {TIMING_METRIC} (same repeat); "
                f"median drift of the peers (what the calibration missed) ×{self.drift:.3f}, "
                f"run-to-run spread {self.spread:.1%} (from {self.drift_rows} peer rows); "
                f"{int((flagged & timing).sum())} flagged. {int((~timing).sum())} accuracy rows "
                f"compared seed by seed; {int((flagged & ~timing).sum())} flagged.")
        if self.uncalibrated:
            text += (f" {self.uncalibrated} timing rows have no calibration (a run of an older "
                     "fastfact) and are not compared.")
        return text


def _median_and_error(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Per group: the median of ``column`` and its standard error ``1.2533·1.4826·MAD/√n``
    (the MAD ignores up to half of the repeats hit by a burst of load; an IQR does not)."""
    grouped = frame.groupby(keys, dropna=False)[column]
    median = grouped.median()
    deviation = (frame[column] - grouped.transform("median")).abs()
    mad = deviation.groupby([frame[k] for k in keys], dropna=False).median()
    count = grouped.size()
    return pd.DataFrame({"median": median,
                         "se": _MEDIAN_SE * _MAD_SIGMA * mad / np.sqrt(count)})


def _calibrated(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Per timing row: quartiles of log(seconds / calibration) over repeats; rows without."""
    timed = rows[rows["kind"].isin(TIMING_KINDS) & (rows["status"] == "ok")]
    calibration = pd.to_numeric(timed["calibration_cpu_seconds"], errors="coerce")
    usable = (calibration > 0) & (timed["cpu_seconds"] > 0)
    values = timed[usable].assign(log_time=np.log(timed["cpu_seconds"][usable]
                                                  / calibration[usable]))
    missing = timed[~usable].groupby(KEYS, dropna=False).ngroups
    return _median_and_error(values, KEYS, "log_time"), missing


def _drift(delta: pd.Series) -> tuple[pd.Series, float, float, int]:
    """``(μ per row, global μ, τ, peer rows)``: see the module docstring."""
    is_peer = delta.index.get_level_values("impl") != "fastfact"
    peers = delta[is_peer]
    if len(peers) < MIN_DRIFT_ROWS:
        spread = (delta - delta.median()).abs().median() if len(delta) else 0.0
        return pd.Series(0.0, index=delta.index), 0.0, _MAD_SIGMA * float(spread), len(delta)
    overall = float(peers.median())
    mu = pd.Series(overall, index=delta.index)
    tasks = delta.index.droplevel(["impl", "method"])
    for task in tasks.unique():
        rows = np.flatnonzero(tasks == task)
        for row in rows:
            others = [r for r in rows if r != row and is_peer[r]]
            if len(others) >= MIN_TASK_PEERS:
                mu.iloc[row] = float(np.median(delta.iloc[others]))
    residual = (delta - mu)[is_peer]
    tau = _MAD_SIGMA * float((residual - residual.median()).abs().median())
    return mu, overall, tau, len(peers)


def _timing_table(new: pd.DataFrame, old: pd.DataFrame) -> tuple[pd.DataFrame, float, float, int]:
    joined = new.add_suffix("_new").join(old.add_suffix("_old"), how="inner")
    if joined.empty:
        return pd.DataFrame(), 0.0, 0.0, 0
    delta = joined["median_new"] - joined["median_old"]
    mu, overall, tau, used = _drift(delta)
    se2 = joined["se_new"] ** 2 + joined["se_old"] ** 2
    band = np.maximum(np.log1p(TIME_BAND_FLOOR), BAND_SIGMAS * np.sqrt(np.maximum(se2, tau**2)))
    corrected = delta - mu
    flag = np.select([corrected > band, corrected < -band], ["slower", "faster"], "")
    table = pd.DataFrame({
        "metric": TIMING_METRIC,
        "old": np.exp(joined["median_old"]), "new": np.exp(joined["median_new"]),
        "new/old": np.exp(delta), "corrected": np.exp(corrected), "band ±": np.expm1(band),
        "flag": flag}, index=joined.index)
    return table, overall, tau, used


def _floored_errors(rows: pd.DataFrame) -> pd.DataFrame:
    done = rows[(rows["kind"] == "factorize") & (rows["status"] == "ok")]
    floor = done["dtype"].map(certificate_floor)
    return done.assign(error=np.maximum(done["rel_error"], floor)).set_index(
        [*KEYS, "seed"])["error"]


def _accuracy_table(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    pairs = pd.DataFrame({"new": _floored_errors(new), "old": _floored_errors(old)}).dropna()
    if pairs.empty:
        return pd.DataFrame()
    pairs["log_ratio"] = np.log(pairs["new"] / pairs["old"])
    grouped = pairs.groupby(KEYS, dropna=False)
    change = grouped["log_ratio"].median()
    band = np.log1p(ERROR_BAND_FLOOR)
    flag = np.select([change > band, change < -band], ["less accurate", "more accurate"], "")
    return pd.DataFrame({
        "metric": "rel. error (paired seeds)", "old": grouped["old"].median(),
        "new": grouped["new"].median(), "new/old": np.exp(change), "corrected": np.exp(change),
        "band ±": ERROR_BAND_FLOOR, "flag": flag}, index=change.index)


def compare_runs(new: pd.DataFrame, old: pd.DataFrame) -> Comparison:
    """Compare the rows of two runs (as read by :func:`fastfact.bench.report.load_run`).

    Parameters
    ----------
    new, old : pandas.DataFrame
        Rows of the run under test and of the run it is compared with.

    Returns
    -------
    Comparison
        The table (timing rows first), the drift estimates and the rows left out.
    """
    new_times, new_missing = _calibrated(new)
    old_times, old_missing = _calibrated(old)
    timing, mu, tau, used = _timing_table(new_times, old_times)
    parts = [part for part in (timing, _accuracy_table(new, old)) if not part.empty]
    table = pd.concat(parts).reset_index() if parts else pd.DataFrame()
    return Comparison(table, float(np.exp(mu)), float(np.expm1(tau)), used,
                      new_missing + old_missing)
