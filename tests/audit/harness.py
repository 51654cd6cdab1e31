"""The hostile-user audit: cases, how their outcomes are classified, and how they are run.

A :class:`Case` is one thing a user could do. Its expectation says what must happen:

* ``refuse`` — the input is invalid: a clear error (an accepted type, raised by fastfact, whose
  message names the argument or value) is required; returning anything is a *silent wrong*.
* ``compute`` — the input is valid: the result must pass the oracle (an independent reference);
  any exception is a *crash*.
* ``either`` — an edge case where a clear refusal and a correct result are both fine.
* ``custom`` — the call classifies its own outcome (files, folders, processes) and returns
  ``(outcome, detail)``.

Cases run in a worker process, one at a time, under a time limit (past it: *hang*) and a limit on
the worker's memory (past it: *runaway resource*); the worker is replaced after either.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import resource
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CLEAR, CORRECT = "clear error", "correct result"
DATA_LOSS, SILENT_WRONG, CRASH = "data loss", "silent wrong", "crash"
CRYPTIC, LATE, HANG, RUNAWAY = "cryptic error", "late error", "hang", "runaway resource"
OUTCOMES = (CLEAR, CORRECT, DATA_LOSS, SILENT_WRONG, CRASH, CRYPTIC, LATE, HANG, RUNAWAY)
# What the audit tolerates: the "Done when" of issue 11.
LIMITS = {DATA_LOSS: 0, CRASH: 0, SILENT_WRONG: 0, HANG: 0, CRYPTIC: 5}

PACKAGE = str(Path(__import__("fastfact").__file__).parent)
AUDIT = str(Path(__file__).parent)
TIMEOUT = 60.0
MEMORY_LIMIT = 3 << 30  # growth of the worker's resident memory during one case


@dataclass(frozen=True)
class Case:
    """One hostile or edge use; see the module docstring for ``expect``."""

    name: str
    call: Callable[[], object]
    expect: str
    names: tuple[str, ...] = ()
    oracle: Callable[[object], object] | None = None
    errors: tuple[type, ...] = (ValueError, TypeError)
    timeout: float = TIMEOUT
    slow: bool = False


def refuse(name, call, *names, errors=(ValueError, TypeError), **kwargs) -> Case:
    """Invalid input: a clear error of one of ``errors`` naming one of ``names`` is required."""
    return Case(name, call, "refuse", names=names, errors=errors, **kwargs)


def compute(name, call, oracle, **kwargs) -> Case:
    """Valid input: the result must satisfy ``oracle`` (True, or a string saying what is wrong)."""
    return Case(name, call, "compute", oracle=oracle, **kwargs)


def either(name, call, oracle, *names, errors=(ValueError, TypeError), **kwargs) -> Case:
    """Edge input: a correct result or a clear error."""
    return Case(name, call, "either", names=names, oracle=oracle, errors=errors, **kwargs)


def custom(name, call, **kwargs) -> Case:
    """``call()`` returns ``(outcome, detail)`` itself."""
    return Case(name, call, "custom", **kwargs)


@dataclass
class Result:
    name: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0


# ---------------------------------------------------------------------------- classification
def _raised_in(exc: BaseException) -> str:
    """File of the innermost Python frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].filename if frames else ""


def classify_error(case: Case, exc: BaseException) -> tuple[str, str]:
    message = f"{type(exc).__name__}: {exc}"
    where = _raised_in(exc)
    if case.expect == "compute":
        return CRASH, f"valid input raised {message[:300]} (in {where})"
    if case.expect == "custom":
        return CRASH, f"raised {message[:300]} (in {where})"
    if not where.startswith((PACKAGE, AUDIT)):  # (the interpreter raises for a case's operators)
        return CRASH, f"raised outside fastfact ({where}): {message[:300]}"
    if not isinstance(exc, case.errors):
        return CRASH, f"unexpected {message[:300]}"
    text = str(exc).lower()
    if any(token.lower() in text for token in case.names):
        return CLEAR, message[:200]
    return CRYPTIC, f"message names none of {case.names}: {message[:300]}"


def classify_result(case: Case, result) -> tuple[str, str]:
    if case.expect == "custom":
        outcome, detail = result
        return outcome, detail
    if case.expect == "refuse":
        return SILENT_WRONG, f"invalid input accepted: returned {describe(result)}"
    try:
        verdict = case.oracle(result)
    except Exception as exc:  # the result is not even comparable with the reference
        verdict = f"oracle could not check {describe(result)}: {type(exc).__name__}: {exc}"
    if verdict is True or (isinstance(verdict, np.bool_) and verdict):
        return CORRECT, ""
    return SILENT_WRONG, str(verdict) if verdict is not False else f"wrong {describe(result)}"


def describe(value) -> str:
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {shape} and dtype {dtype}"
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def run_case(case: Case) -> tuple[str, str]:
    """Run one case in this process and classify its outcome."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # (overflow is what some cases test)
        warnings.simplefilter("ignore")
        try:
            result = case.call()
        except BaseException as exc:  # SystemExit and the like are crashes too
            return classify_error(case, exc)
        return classify_result(case, result)


def in_threads(work, arguments) -> list[BaseException]:
    """Run ``work(argument)`` for each of ``arguments`` in its own thread, all at once; the
    exceptions they raised."""
    errors: list[BaseException] = []

    def guarded(argument):
        try:
            work(argument)
        except Exception as exc:  # reported to the caller
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# ---------------------------------------------------------------------------- the worker
def _rss() -> int:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _worker(connection, loader: str) -> None:
    module, _, function = loader.partition(":")
    __import__(module)
    cases = {case.name: case for case in getattr(sys.modules[module], function)()}
    while True:
        name = connection.recv()
        if name is None:
            return
        before = max(_rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        start = time.perf_counter()
        outcome, detail = run_case(cases[name])
        seconds = time.perf_counter() - start
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        if grown > MEMORY_LIMIT:
            outcome, detail = RUNAWAY, f"resident memory grew by {grown / 2**30:.1f} GiB ({detail})"
        connection.send((outcome, detail, seconds, grown > MEMORY_LIMIT // 2))


class Runner:
    """Runs cases by name in a replaceable worker process (spawned: no state leaks between runs)."""

    def __init__(self, loader: str):
        self.loader = loader
        self.process = None

    def _start(self):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, self.loader), daemon=True)
        self.process.start()

    def _stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None

    def _resident(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as file:
                return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0

    def run(self, case: Case) -> Result:
        if self.process is None or not self.process.is_alive():
            self._start()
        self.connection.send(case.name)
        start = time.perf_counter()
        baseline = self._resident()
        while not self.connection.poll(0.05):
            seconds = time.perf_counter() - start
            if not self.process.is_alive():
                code = self.process.exitcode
                self._stop()
                return Result(case.name, CRASH, f"the interpreter died (exit code {code})", seconds)
            if seconds > case.timeout:
                self._stop()
                return Result(case.name, HANG, f"no answer within {case.timeout:.0f} s", seconds)
            if self._resident() - baseline > MEMORY_LIMIT:
                self._stop()
                return Result(case.name, RUNAWAY, f"resident memory grew past "
                                                  f"{MEMORY_LIMIT / 2**30:.0f} GiB", seconds)
        outcome, detail, seconds, replace = self.connection.recv()
        if replace:  # ru_maxrss only grows: a fresh worker measures the next case
            self._stop()
        return Result(case.name, outcome, detail, seconds)

    def close(self):
        if self.process is not None and self.process.is_alive():
            self.connection.send(None)
            self.process.join(5)
        self._stop()


# ---------------------------------------------------------------------------- reports
@dataclass
class Audit:
    results: list[Result] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counted = collections.Counter(r.outcome for r in self.results)
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}

    def over_limits(self) -> dict[str, int]:
        counts = self.counts()
        return {k: counts[k] for k, limit in LIMITS.items() if counts[k] > limit}

    def summary(self) -> str:
        counts = self.counts()
        width = max(map(len, OUTCOMES))
        lines = [f"audit: {len(self.results)} cases"]
        lines += [f"  {outcome:<{width}}  {counts[outcome]:4d}" for outcome in OUTCOMES]
        findings = [r for r in self.results if r.outcome not in (CLEAR, CORRECT)]
        if findings:
            lines.append("findings:")
            lines += [f"  [{r.outcome}] {r.name}: {r.detail}" for r in findings]
        return "\n".join(lines)


def run_all(cases: list[Case], loader: str, progress: bool = False) -> Audit:
    """Run ``cases`` (built by ``loader``, ``"module:function"``, in the worker too)."""
    audit = Audit()
    runner = Runner(loader)
    try:
        for number, case in enumerate(cases, 1):
            result = runner.run(case)
            audit.results.append(result)
            if progress:
                print(f"[{number}/{len(cases)}] {result.outcome:<16} {case.name} "
                      f"({result.seconds:.1f} s)", file=sys.stderr, flush=True)
    finally:
        runner.close()
    return audit
