"""Audit cases of the benchmark layer, in process: suite files, run folders, reports, peers.

A suite file that loads is run (its tasks are tiny): a task that then fails is a *late error*
(the file should have been refused at load). A damaged run folder must give a clear
``ReportError`` or a report that skips the bad rows, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import numpy as np

from fastfact import impls
from fastfact.impls.fwht import fwht
from tests.audit.harness import CLEAR, CORRECT, CRYPTIC, LATE, SILENT_WRONG, custom, refuse

HEADER = '[suite]\nname = "audit"\nrepeats = 5\nmin_seconds = 0.0001\n'
APPLY = '[[apply]]\ntransforms = ["hadamard"]\nsizes = [16]\n'
FACTORIZE = '[[factorize]]\ntargets = ["hadamard"]\nmethods = ["hierarchical"]\nsizes = [16]\n'


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="audit-bench-"))


def _suite_outcome(text: str, names: tuple[str, ...], valid: bool):
    """Load ``text``; if it loads, run every task. Classify as described in the module docstring."""
    from fastfact.bench.suite import SuiteError, load_suite
    from fastfact.bench.tasks import execute

    path = _folder() / "suite.toml"
    path.write_text(text)
    try:
        suite = load_suite(path)
    except SuiteError as exc:
        message = str(exc)
        if valid:
            return CRYPTIC, f"a valid suite was refused: {message}"
        named = str(path) in message and any(n in message for n in names)
        return (CLEAR if named else CRYPTIC), message[:300]
    ids = [task["id"] for task in suite.tasks]
    if len(set(ids)) != len(ids):
        return SILENT_WRONG, f"{len(ids) - len(set(ids))} tasks share an id: a resume mixes them up"
    rows = [row for task in suite.tasks for row in execute(task)]
    failed = [row for row in rows if row.get("status") == "error"]
    if failed:
        return LATE, f"loaded, then {len(failed)} of {len(rows)} rows failed: {failed[0]['error'][:200]}"
    numbers = [row.get("rel_error") for row in rows if row.get("rel_error") is not None]
    if any(not np.isfinite(value) for value in numbers):
        return SILENT_WRONG, "rows with a non-finite rel_error and status ok"
    if not valid:
        return SILENT_WRONG, f"an invalid suite loaded and ran ({len(rows)} rows)"
    return CORRECT, ""


def suite_case(what: str, body: str, *names: str, valid: bool = False, header: str = HEADER):
    return custom(f"bench/suite: {what}", lambda: _suite_outcome(header + body, names, valid), timeout=60)


def _suite_cases():
    bad_bodies = {
        "sizes not a power of two": (APPLY.replace("[16]", "[12]"), "sizes"),
        "size 2**30": (APPLY.replace("[16]", "[1073741824]"), "sizes", "memory"),
        "batch 10**12": (APPLY + "batches = [1000000000000]\n", "batches", "memory"),
        "size 1": (APPLY.replace("[16]", "[1]"), "sizes"),
        "negative noise": (FACTORIZE + "noise = [-0.1]\n", "noise"),
        "NaN noise": (FACTORIZE + "noise = [nan]\n", "noise"),
        "infinite noise": (FACTORIZE + "noise = [inf]\n", "noise"),
        "noise as strings": (FACTORIZE + 'noise = ["0.1"]\n', "noise"),
        "seeds negative": (FACTORIZE + "seeds = [-1]\n", "seeds"),
        "seeds floats": (FACTORIZE + "seeds = [0.5]\n", "seeds"),
        "monarch chain of a non-square size": (FACTORIZE.replace("[16]", "[32]") + 'chain = "monarch"\n',
                                               "sizes"),
        "monarch chain with a target that needs a power of two":
            (FACTORIZE.replace("[16]", "[9]") + 'chain = "monarch"\n', "sizes", "target"),
        "perm search with a monarch size 9": ('[[factorize]]\ntargets = ["gaussian"]\nmethods = '
                                              '["hierarchical"]\nsizes = [9]\nchain = "monarch"\n'
                                              'perm = "search"\n', "perm"),
        "perm unknown": (FACTORIZE + 'perm = "reverse"\n', "perm"),
        "method option unknown": ('[methods]\nx = { method = "hierarchical", speed = 3 }\n'
                                  + FACTORIZE.replace('"hierarchical"', '"x"'), "speed"),
        "method option of a wrong value": ('[methods]\nx = { method = "hierarchical", order = "zigzag" }\n'
                                           + FACTORIZE.replace('"hierarchical"', '"x"'), "order"),
        "iterative option 0": ('[methods]\nx = { method = "als", max_iter = 0 }\n'
                               + FACTORIZE.replace('"hierarchical"', '"x"'), "max_iter"),
        "peer option of a wrong value": ('[methods]\nx = { peer = "pyfaust-butterfly", type = "sideways" }\n'
                                         + FACTORIZE.replace('"hierarchical"', '"x"'), "type"),
        "method label shadows a method": ('[methods]\nals = { method = "hierarchical" }\n' + FACTORIZE,
                                          "als"),
        "unknown transform": (APPLY.replace("hadamard", "walsh"), "transforms"),
        "unknown dtype": (APPLY + 'dtypes = ["float128"]\n', "dtypes"),
        "peer of the wrong kind": (APPLY + 'peers = ["pyfaust-butterfly"]\n', "peers"),
        "duplicate sizes": (APPLY.replace("[16]", "[16, 16]"), "sizes"),
        "empty transforms": (APPLY.replace('["hadamard"]', "[]"), "transforms"),
        "sweep a table, not an array": (APPLY.replace("[[apply]]", "[apply]"), "apply"),
        "no sweep": ("", "sweep"),
        "claims of an unknown measure": ('[[claims]]\nid = "X"\nclaim = "c"\npaper = "p"\nmeasure = "m"\n'
                                         + APPLY, "measure"),
        "claims without id": ('[[claims]]\nclaim = "c"\npaper = "p"\nmeasure = "error"\n' + APPLY, "id"),
    }
    for what, (body, *names) in bad_bodies.items():
        yield suite_case(what, body, *names)
    bad_headers = {  # what: (header, the key the message must name)
        "no [suite]": ("", "suite"),
        "repeats 3": (HEADER.replace("repeats = 5", "repeats = 3"), "repeats"),
        "repeats a string": (HEADER.replace("repeats = 5", 'repeats = "5"'), "repeats"),
        "threads 0": (HEADER + "threads = 0\n", "threads"),
        "threads beyond the machine": (HEADER + "threads = 100000\n", "threads"),
        "min_seconds negative": (HEADER.replace("0.0001", "-1.0"), "min_seconds"),
        "min_seconds NaN": (HEADER.replace("0.0001", "nan"), "min_seconds"),
        "seed negative": (HEADER + "seed = -5\n", "seed"),
        "name with a slash": (HEADER.replace('"audit"', '"a/b"'), "name"),
        "name empty": (HEADER.replace('"audit"', '""'), "name"),
        "unknown setting": (HEADER + "colour = 1\n", "colour"),
    }
    for what, (header, key) in bad_headers.items():
        yield suite_case(f"header {what}", APPLY, key, header=header)
    unicode = HEADER.replace('name = "audit"', 'name = "audit"\ndescription = "ünïcode ✓"')
    valid = {  # what: (header, body)
        "apply of every transform and dtype": (HEADER, APPLY.replace(
            '["hadamard"]', '["hadamard", "dft", "random-butterfly"]')
            + 'dtypes = ["float32", "float64", "complex64", "complex128"]\npeers = ["dense", "numpy-fft"]\n'),
        "factorize every target": (HEADER, FACTORIZE.replace(
            '["hadamard"]', '["hadamard", "dft", "dft-bitrev", "random-butterfly", "gaussian"]')
            + 'noise = [0.0, 0.01]\ndtypes = ["float32", "complex128"]\n'),
        "icassp noise model": (HEADER, FACTORIZE + 'noise = [0.005]\nnoise_model = "icassp"\n'),
        "monarch chain": (HEADER, FACTORIZE.replace('"hadamard"]', '"gaussian"]') + 'chain = "monarch"\n'),
        "factorize_time": (HEADER, FACTORIZE.replace("[[factorize]]", "[[factorize_time]]")),
        "an absent peer": (HEADER, APPLY + 'peers = ["pyfaust"]\n'),
        "noise values that print alike": (HEADER, FACTORIZE + "noise = [0.1, 0.1000001]\n"),
        "unicode description": (unicode, APPLY),
    }
    for what, (header, body) in valid.items():
        yield suite_case(f"valid {what}", body, valid=True, header=header)
    from fastfact.bench.suite import SuiteError, load_suite

    for what, make in {"a folder": lambda: str(_folder()), "binary garbage": lambda: _garbage(),
                       "not UTF-8": lambda: _latin1(), "missing file": lambda: "/nonexistent/x.toml",
                       "unknown shipped name": lambda: "quik"}.items():
        yield refuse(f"bench/suite refused: {what}", lambda m=make: load_suite(m()), "suite",
                     errors=(SuiteError,))


def _garbage() -> str:
    path = _folder() / "garbage.toml"
    path.write_bytes(os.urandom(200))
    return str(path)


def _latin1() -> str:
    path = _folder() / "latin1.toml"
    path.write_bytes((HEADER + APPLY).replace("audit", "audit\xe9").encode("latin-1"))
    return str(path)


# ---------------------------------------------------------------------------- run folders
TINY = HEADER + APPLY + 'peers = ["numpy-fwht"]\n' + FACTORIZE + "noise = [0.0, 0.1]\n"
_RUN: list[Path] = []


def _finished_run() -> Path:
    """A finished run of the tiny suite (made once per worker), copied for each case."""
    from fastfact.bench.runner import run_suite
    from fastfact.bench.suite import load_suite

    if not _RUN:
        path = _folder() / "tiny.toml"
        path.write_text(TINY)
        _RUN.append(run_suite(load_suite(path), _folder() / "run", quiet=True))
    copy = _folder() / "run"
    shutil.copytree(_RUN[0], copy)
    return copy


def _report_outcome(damage, names=("rows.csv", "meta.json", "run")):
    from fastfact.bench.report import ReportError, write_report

    folder = _finished_run()
    detail = damage(folder) or ""
    try:
        paths = write_report(folder)
    except ReportError as exc:
        message = str(exc)
        return (CLEAR if any(n in message for n in names) else CRYPTIC), message[:300]
    finally:
        _writable(folder)
    if not all(Path(p).stat().st_size > 0 for p in paths):
        return SILENT_WRONG, "an empty report"
    return CORRECT, detail


def _writable(folder: Path):
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _edit_rows(edit):
    def damage(folder):
        path = folder / "rows.csv"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(edit(lines)))

    return damage


def _set_field(column, value, line=1):
    from fastfact.bench.results import COLUMNS

    def edit(lines):
        fields = lines[line].rstrip("\n").split(",")
        fields[COLUMNS.index(column)] = value
        lines[line] = ",".join(fields) + "\n"
        return lines

    return _edit_rows(edit)


def _report_cases():
    def write(name, data):
        return lambda folder: (folder / name).write_bytes(data)

    damages = {
        "nan rel_error": _set_field("rel_error", "nan", line=-1),
        "nan seconds": _set_field("seconds", "nan"),
        "inf seconds": _set_field("seconds", "inf"),
        "negative seconds": _set_field("seconds", "-1.0"),
        "text in N": _set_field("N", "sixteen"),
        "unknown kind": _set_field("kind", "teleport"),
        "empty task id": _set_field("task", ""),
        "an extra field": _edit_rows(lambda lines: [*lines[:2], lines[2].rstrip("\n") + ",extra\n",
                                                    *lines[3:]]),
        "a missing field": _edit_rows(lambda lines: [*lines[:2], lines[2].rsplit(",", 1)[0] + "\n",
                                                     *lines[3:]]),
        "a torn last line": _edit_rows(lambda lines: [*lines[:-1], lines[-1][: len(lines[-1]) // 2]]),
        "duplicated rows": _edit_rows(lambda lines: lines + lines[1:]),
        "header only": _edit_rows(lambda lines: lines[:1]),
        "another header": _edit_rows(lambda lines: ["a,b,c\n", *lines[1:]]),
        "0-byte rows.csv": write("rows.csv", b""),
        "binary rows.csv": write("rows.csv", os.urandom(300)),
        "no rows.csv": lambda folder: (folder / "rows.csv").unlink(),
        "no meta.json": lambda folder: (folder / "meta.json").unlink(),
        "meta.json {}": write("meta.json", b"{}"),
        "meta.json a list": write("meta.json", b"[1, 2]"),
        "meta.json not JSON": write("meta.json", b"{not json"),
        "meta.json without the suite text": lambda folder: _edit_meta(
            folder, lambda m: m["suite"].pop("text")),
        "meta.json of claims not a list": lambda folder: _edit_meta(
            folder, lambda m: m["suite"].update(claims=3)),
        "read-only folder": lambda folder: _read_only(folder),
        "report.md is a folder": lambda folder: (folder / "report.md").mkdir(),
        "figures is a file": write("figures", b"x"),
    }
    for what, damage in damages.items():
        yield custom(f"bench/report of a damaged run: {what}", lambda d=damage: _report_outcome(d),
                     timeout=90, slow=True)
    from fastfact.bench.report import ReportError, write_report

    yield refuse("bench/report of a missing folder", lambda: write_report("/nonexistent/run"), "run",
                 "rows.csv",
                 errors=(ReportError,))
    yield refuse("bench/report of a file", lambda: write_report(__file__), "rows.csv", errors=(ReportError,))
    yield refuse("bench/report --against a missing folder",
                 lambda: write_report(_finished_run(), against="/nonexistent/run"), "rows.csv",
                 errors=(ReportError,), timeout=90)
    yield custom("bench/report --against itself", _against_itself, timeout=90, slow=True)
    yield custom("bench/report --against a damaged run", _against_damaged, timeout=90, slow=True)


def _edit_meta(folder, edit):
    path = folder / "meta.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def _read_only(folder: Path):
    for path in [*folder.rglob("*"), folder]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if os.access(folder, os.W_OK):
        return "the folder stays writable for this user (root)"
    return None


def _against_itself():
    from fastfact.bench.report import write_report

    folder = _finished_run()
    markdown, _ = write_report(folder, against=folder)
    return (CORRECT, "") if markdown.stat().st_size else (SILENT_WRONG, "empty report")


def _against_damaged():
    from fastfact.bench.report import ReportError, write_report

    folder, other = _finished_run(), _finished_run()
    (other / "meta.json").write_text("{}")
    try:
        write_report(folder, against=other)
    except ReportError as exc:
        return (CLEAR if "meta.json" in str(exc) else CRYPTIC), str(exc)[:300]
    return CORRECT, "the damaged other run was skipped"


# ---------------------------------------------------------------------------- run_suite API
def _run_suite_cases():
    from fastfact.bench.runner import BenchError, run_suite
    from fastfact.bench.suite import load_suite

    def suite():
        path = _folder() / "s.toml"
        path.write_text(HEADER + APPLY)
        return load_suite(path)

    for jobs, error in [(0, BenchError), (-2, BenchError), (1.5, BenchError), ("2", BenchError),
                        (True, BenchError)]:
        yield refuse(f"bench/run_suite(jobs={jobs!r})",
                     lambda j=jobs: run_suite(suite(), _folder() / "o", jobs=j),
                     "jobs", errors=(error,))
    yield refuse("bench/run_suite into a file", lambda: run_suite(suite(), Path(_garbage())), "output",
                 errors=(BenchError,))
    yield refuse("bench/run_suite scheduler unreachable",
                 lambda: run_suite(suite(), _folder() / "o", scheduler="tcp://127.0.0.1:9"), "scheduler",
                 "distributed", errors=(BenchError,), timeout=60)
    yield refuse("bench/run_suite into a run of another suite", _other_suite, "suite", errors=(BenchError,),
                 timeout=90)
    yield refuse("bench/run_suite twice without resume", _twice, "resume", errors=(BenchError,), timeout=90)
    yield custom("bench/run_suite resume of a finished run keeps its rows", _resume_finished, timeout=90)


def _other_suite():
    from fastfact.bench.runner import run_suite
    from fastfact.bench.suite import load_suite

    folder = _finished_run()
    path = _folder() / "other.toml"
    path.write_text(HEADER.replace("audit", "other") + APPLY)
    return run_suite(load_suite(path), folder, resume=True, quiet=True)


def _twice():
    from fastfact.bench.runner import run_suite
    from fastfact.bench.suite import load_suite

    folder = _finished_run()
    path = _folder() / "tiny.toml"
    path.write_text(TINY)
    return run_suite(load_suite(path), folder, quiet=True)


def _resume_finished():
    from fastfact.bench.runner import run_suite
    from fastfact.bench.suite import load_suite

    folder = _finished_run()
    before = (folder / "rows.csv").read_text()
    finished = json.loads((folder / "meta.json").read_text())["run"]["finished"]
    path = _folder() / "tiny.toml"
    path.write_text(TINY)
    time.sleep(1.1)  # meta.json times have whole seconds: a rewrite must show
    run_suite(load_suite(path), folder, resume=True, quiet=True)
    if (folder / "rows.csv").read_text() != before:
        return SILENT_WRONG, "resuming a finished run changed its rows"
    if json.loads((folder / "meta.json").read_text())["run"]["finished"] != finished:
        return SILENT_WRONG, "resuming a finished run rewrote its finished time"
    return CORRECT, ""


def _peer_cases():
    for what, x in [("not a power of two", np.ones(12)), ("3-D", np.ones((4, 2, 2))),
                    ("strings", np.array(["a"] * 4)), ("empty", np.ones(0))]:
        yield refuse(f"bench/fwht refused: {what}", lambda x=x: fwht(x), "x")
    yield refuse("bench/impls.get unknown", lambda: impls.get("apply", "fftw3"), "fftw3")
    yield refuse("bench/impls.get None", lambda: impls.get("apply", None), "None")
    yield refuse("bench/impls.get of an unknown kind", lambda: impls.get("train", "dense"), "train")
    yield custom("bench/impls.status lists every implementation", lambda: (
        (CORRECT, "") if {p["name"] for p in impls.status()} == set(impls.names())
        else (SILENT_WRONG, "implementations missing from the status")))


def cases():
    yield from _suite_cases()
    yield from _report_cases()
    yield from _run_suite_cases()
    yield from _peer_cases()
