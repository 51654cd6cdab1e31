"""Audit cases of the ``fastfact`` command: arguments, faults, concurrent runs, kills and resumes.

Each case runs the real command in a subprocess. A refusal must exit non-zero with one clear line
on stderr and no traceback; a run killed at any moment and resumed must end with exactly the rows
of a clean run (task ids and row counts: timings differ between runs).
"""

from __future__ import annotations

import collections
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.audit.harness import CLEAR, CORRECT, CRASH, CRYPTIC, DATA_LOSS, HANG, LATE, SILENT_WRONG, custom

HEADER = '[suite]\nname = "cli"\nrepeats = 5\nmin_seconds = 0.0001\n'
SUITE = HEADER + (
    '[[apply]]\ntransforms = ["hadamard"]\nsizes = [16, 32]\npeers = ["numpy-fwht"]\n'
    '[[factorize]]\ntargets = ["hadamard", "random-butterfly", "gaussian"]\n'
    'methods = ["hierarchical", "als"]\n'
    'sizes = [16, 32]\nnoise = [0.0, 0.1]\nseeds = [0, 1]\n')
COMMAND_TIMEOUT = 120


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="audit-cli-"))


def _suite_file(text: str = SUITE) -> Path:
    path = _folder() / "suite.toml"
    path.write_text(text)
    return path


def _start(*args, cwd=None, preexec=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fastfact", *map(str, args)], cwd=cwd or _folder(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec)


def _run(*args, cwd=None, preexec=None, timeout=COMMAND_TIMEOUT):
    process = _start(*args, cwd=cwd, preexec=preexec)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, "", ""
    return process.returncode, out, err


def _refusal(code, out, err, names) -> tuple[str, str]:
    if code is None:
        return HANG, "the command did not finish"
    if "Traceback" in err:
        return CRASH, err.strip().splitlines()[-1][:300]
    if code == 0:
        return SILENT_WRONG, f"exit 0: {out.strip()[-200:]}"
    text = err.strip()
    return (CLEAR if any(n in text for n in names) else CRYPTIC), text[-300:]


def refused(what: str, args, *names, setup=None):
    """``fastfact *args`` must exit non-zero with a clear one-line error naming one of ``names``."""
    def call():
        arguments = setup(args) if setup else args
        return _refusal(*_run(*arguments), names)

    return custom(f"cli/refused: {what}", call, timeout=COMMAND_TIMEOUT + 30, slow=True)


def _rows(folder: Path) -> list[dict]:
    with open(folder / "rows.csv", newline="") as file:
        return list(csv.DictReader(file))


def _tasks(folder: Path) -> collections.Counter:
    return collections.Counter(row["task"] for row in _rows(folder))


_CLEAN: list[collections.Counter] = []


def _clean_tasks() -> collections.Counter:
    """Rows per task of a clean run of :data:`SUITE` (made once per worker)."""
    if not _CLEAN:
        out = _folder() / "clean"
        code, _, err = _run("bench", "--suite", _suite_file(), "--out", out, "--quiet")
        if code != 0:
            raise RuntimeError(f"the clean run failed: {err[-500:]}")
        _CLEAN.append(_tasks(out))
    return _CLEAN[0]


def _compare(folder: Path) -> tuple[str, str]:
    """DATA_LOSS unless ``folder`` holds exactly the clean run's rows per task, no torn line."""
    text = (folder / "rows.csv").read_text()
    if text and not text.endswith("\n"):
        return DATA_LOSS, "a torn last line"
    got, want = _tasks(folder), _clean_tasks()
    missing = sorted(t for t in want if got[t] < want[t])
    extra = sorted(t for t in got if got[t] > want.get(t, 0))
    if missing or extra:
        return DATA_LOSS, (f"{len(missing)} tasks missing rows, {len(extra)} duplicated "
                           f"(e.g. {(missing + extra)[:2]})")
    return CORRECT, ""


def _saved_rows(out: Path) -> int:
    """Rows in ``out``'s rows.csv (-1: no meta.json yet)."""
    if not (out / "meta.json").exists():
        return -1
    try:
        return max(0, (out / "rows.csv").read_text().count("\n") - 1)
    except OSError:
        return 0


def _kill_then_resume(delay: float, sig=signal.SIGKILL, after_rows: int | None = None) -> tuple[str, str]:
    """Kill a run ``delay`` seconds after its start, or once it saved ``after_rows`` rows (0: once
    meta.json is written; the same point under any load), then resume it."""
    out = _folder() / "run"
    suite = _suite_file()
    process = _start("bench", "--suite", suite, "--out", out, "--quiet")
    if after_rows is None:
        time.sleep(delay)
    else:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while process.poll() is None and _saved_rows(out) < after_rows and time.monotonic() < deadline:
            time.sleep(0.01)
    process.send_signal(sig)
    process.communicate(timeout=COMMAND_TIMEOUT)
    saved = (out / "rows.csv").exists() or (out / "meta.json").exists()
    code, _, err = _run("bench", "--suite", suite, "--out", out, "--resume", "--quiet")
    if code is None:
        return HANG, "the resume did not finish"
    if code != 0 and not saved and "Traceback" not in err and "drop --resume" in err:
        # killed before it saved anything (under load, start-up takes seconds): nothing to finish
        return CLEAR, f"killed before anything was saved; {err.strip()[-200:]}"
    if code != 0:
        return (CRASH if "Traceback" in err else CRYPTIC), f"the resume failed: {err.strip()[-300:]}"
    return _compare(out)


def _interrupt() -> tuple[str, str]:
    out = _folder() / "run"
    process = _start("bench", "--suite", _suite_file(), "--out", out, "--quiet")
    # once a row is saved (a fixed delay could land, under load, before anything is: nothing to resume)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while process.poll() is None and _saved_rows(out) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=COMMAND_TIMEOUT)
    if "Traceback" in err:
        return CRASH, f"Ctrl-C printed a traceback of {len(err.splitlines())} lines"
    if "--resume" not in err:
        return CRYPTIC, f"Ctrl-C said nothing of how to resume: {err.strip()[-200:]}"
    return CLEAR, err.strip().splitlines()[-1]


def _concurrent() -> tuple[str, str]:
    out = _folder() / "run"
    suite = _suite_file()
    first = _start("bench", "--suite", suite, "--out", out, "--quiet")
    time.sleep(0.5)
    second = _start("bench", "--suite", suite, "--out", out, "--quiet")
    results = [p.communicate(timeout=COMMAND_TIMEOUT) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    outcome, detail = _compare(out)
    if outcome != CORRECT:
        return outcome, f"two writers (exit codes {codes}): {detail}"
    if codes.count(0) != 1:
        return SILENT_WRONG, f"exit codes {codes}: {results[1][1].strip()[-200:]}"
    return CORRECT, ""


def _resume_without_out() -> tuple[str, str]:
    folder = _folder()
    code, out, err = _run("bench", "--suite", _suite_file(), "--resume", "--quiet", cwd=folder)
    if code == 0:
        return SILENT_WRONG, "--resume without --out started a fresh run"
    return _refusal(code, out, err, ("--out", "--resume"))


def _resume_finished() -> tuple[str, str]:
    out, suite = _folder() / "run", _suite_file()
    _run("bench", "--suite", suite, "--out", out, "--quiet")
    before = json.loads((out / "meta.json").read_text())["run"]["finished"]
    rows = (out / "rows.csv").read_text()
    time.sleep(1.1)  # meta.json times have whole seconds: a rewrite must show
    code, _, err = _run("bench", "--suite", suite, "--out", out, "--resume", "--quiet")
    if code != 0:
        return (CRASH if "Traceback" in err else CRYPTIC), err.strip()[-300:]
    if (out / "rows.csv").read_text() != rows:
        return DATA_LOSS, "resuming a finished run changed its rows"
    if json.loads((out / "meta.json").read_text())["run"]["finished"] != before:
        return SILENT_WRONG, "resuming a finished run rewrote its finished time"
    return CORRECT, ""


def _limit_file_size(limit: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def _disk_full(limit: int) -> tuple[str, str]:
    """Files limited to ``limit`` bytes (meta.json of :data:`SUITE` has about 8 KB, rows.csv 20 KB);
    the resume the error message advises must give the clean run's rows."""
    out, suite = _folder() / "run", _suite_file()
    code, _, err = _run("bench", "--suite", suite, "--out", out, "--quiet", preexec=_limit_file_size(limit))
    first = (CRASH, "a raw traceback") if "Traceback" in err else (CLEAR, err.strip()[-200:])
    if code == 0:
        first = (SILENT_WRONG, "exit 0 although rows could not be written")
    code, _, err = _run("bench", "--suite", suite, "--out", out, "--resume", "--quiet")
    if code != 0:
        return (CRASH if "Traceback" in err else CRYPTIC), f"the resume failed: {err.strip()[-300:]}"
    outcome, detail = _compare(out)
    return (outcome, detail) if outcome != CORRECT else first


def _report_of_run() -> tuple[str, str]:
    out = _folder() / "run"
    code, _, err = _run("bench", "--suite", _suite_file(), "--out", out, "--quiet", "--report")
    if code != 0:
        return (CRASH if "Traceback" in err else CRYPTIC), err.strip()[-300:]
    modes = {name: (out / name).stat().st_mode & 0o777 for name in ("report.md", "report.html", "meta.json")}
    umask = os.umask(0)
    os.umask(umask)
    expected = 0o666 & ~umask
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != expected}
    return (CORRECT, "") if not wrong else (SILENT_WRONG, f"file modes {wrong}, expected {oct(expected)}")


def _failing_task() -> tuple[str, str]:
    """A suite that loads, every task of which fails: the command must not exit 0 silently."""
    text = HEADER + '[methods]\nx = { method = "hierarchical", order = "zigzag" }\n' + (
        '[[factorize]]\ntargets = ["hadamard"]\nmethods = ["x"]\nsizes = [16]\n')
    code, out, err = _run("bench", "--suite", _suite_file(text), "--out", _folder() / "run", "--quiet")
    if code == 0:
        return LATE, "every task failed and fastfact bench exited 0"
    return _refusal(code, out, err, ("order", "zigzag"))


PEER_FAULTS = {
    "segfault": "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
    "SystemExit": "raise SystemExit(3)",
    "hang": "import time; time.sleep(3600)",
    "wrong shape": "return X[:-1]",
}


def _faulty_peer_module(fault: str) -> str:
    """A module that registers an apply peer ``faulty`` that faults on every call."""
    body = PEER_FAULTS[fault]
    body = body if body.startswith("return") else body + "\n            return X"
    return f'''
from fastfact import impls
class Faulty(impls.Implementation):
    name = "faulty"
    kind = "apply"
    summary = "an apply peer that faults (audit)"
    transforms = (impls.ANY_TRANSFORM,)
    layout = "columns"
    def prepare(self, case):
        X = case.X
        def run():
            {body}
        return impls.PreparedApply(run)
impls.register(Faulty())
'''


_CLI = "import sys\nfrom fastfact.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _bench_with_peer(script: str, env: dict) -> tuple[subprocess.Popen, Path, str]:
    suite = _suite_file(HEADER + 'task_timeout = 20\n[[apply]]\ntransforms = ["hadamard", "dft"]\n'
                                 'sizes = [16]\npeers = ["faulty"]\n')
    out = _folder() / "run"
    arguments = ["bench", "--suite", str(suite), "--out", str(out), "--quiet"]
    process = subprocess.Popen([sys.executable, "-c", script, *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=_folder(), env=env)
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        err = None
    return process, out, err


def _faulty_peer(fault: str) -> tuple[str, str]:
    """A peer that faults, registered in every process (a ``sitecustomize`` on ``PYTHONPATH``, as
    the runner's worker processes build their own registry): the sweep must go on, record an error
    row for the peer and keep fastfact's own timings."""
    site = _folder()
    (site / "audit_faulty_peer.py").write_text(_faulty_peer_module(fault))
    (site / "sitecustomize.py").write_text("import audit_faulty_peer  # noqa: F401\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    process, out, err = _bench_with_peer(_CLI, {**os.environ, "PYTHONPATH": path})
    if err is None:
        return HANG, f"a {fault} in a peer hung the sweep (past the task timeout)"
    if not (out / "rows.csv").exists():
        return CRASH, f"a {fault} in a peer stopped the sweep before any row: {err.strip()[-200:]}"
    rows = _rows(out)
    tasks = {row["task"] for row in rows}
    fastfact_rows = [r for r in rows if r["impl"] == "fastfact" and r["status"] == "ok"]
    faulty_errors = [r for r in rows if "faulty" in r["impl"] and r["status"] == "error"]
    if len(tasks) < 2:
        return CRASH, f"a {fault} in a peer stopped the sweep (exit {process.returncode})"
    if len({r["task"] for r in fastfact_rows}) < 2:
        return DATA_LOSS, f"a {fault} in a peer lost fastfact's own timings: " + "; ".join(
            f"{r['impl']}: {r['status']} {r['error'][:120]}" for r in rows)
    if len(faulty_errors) < 2:
        return SILENT_WRONG, f"a {fault} in a peer left no error row for it"
    return CORRECT, ""


def _peer_registered_in_the_caller_only() -> tuple[str, str]:
    """``impls.register`` in the calling script only (docs/benchmarking.md: define ``prepare``,
    ``register`` it): the peer must run, or the suite be refused at load naming it."""
    script = _faulty_peer_module("wrong shape").replace("return X[:-1]", "return X.copy()") + _CLI
    process, out, err = _bench_with_peer(script, dict(os.environ))
    if err is None:
        return HANG, "no answer within 120 s"
    if process.returncode != 0 and not (out / "rows.csv").exists():
        return _refusal(process.returncode, "", err, ("faulty",))
    rows = _rows(out)
    peer = [r for r in rows if "faulty" in r["impl"]]
    if peer and all(r["status"] == "error" for r in rows):
        return LATE, (f"loaded, then every task failed and fastfact bench exited {process.returncode}: "
                      f"{peer[0]['error'][:160]}")
    ok = [r for r in rows if r["impl"] == "faulty" and r["status"] == "ok"]
    return (CORRECT, "") if len(ok) == 2 else (SILENT_WRONG, f"rows: {[r['impl'] for r in rows]}")


def _argument_cases():
    suite = lambda args: ["bench", "--suite", _suite_file(), *args]  # noqa: E731
    yield refused("no command", [], "command", "usage")
    yield refused("unknown command", ["benchmark"], "benchmark", "invalid choice")
    yield refused("bench without --suite", ["bench"], "--suite")
    yield refused("bench --suite unknown", ["bench", "--suite", "quik"], "quik")
    yield refused("bench --suite missing file", ["bench", "--suite", "/nonexistent/s.toml"], "s.toml")
    yield refused("bench --suite malformed", ["bench", "--suite", "x"],
                  "line", setup=lambda a: ["bench", "--suite", _suite_file("[suite\nname=1")])
    yield refused("bench --jobs abc", ["--jobs", "abc"], "--jobs", setup=suite)
    yield refused("bench --jobs 0", ["--jobs", "0"], "--jobs", setup=suite)
    yield refused("bench --jobs -3", ["--jobs", "-3"], "--jobs", setup=suite)
    yield refused("bench --out a file", [], "output", setup=lambda a: suite(["--out", _suite_file()]))
    yield refused("bench --out under a file", [], "output",
                  setup=lambda a: suite(["--out", _suite_file() / "sub"]))
    yield refused("bench --scheduler unreachable", ["--scheduler", "tcp://127.0.0.1:9", "--out", "o"],
                  "scheduler", "distributed", setup=suite)
    yield refused("report without a run", ["report"], "RUN", "run")
    yield refused("report of a missing folder", ["report", "/nonexistent/run"], "rows.csv", "run")
    yield refused("report of an empty folder", [], "rows.csv", setup=lambda a: ["report", _folder()])
    yield refused("report --against a missing folder", [], "rows.csv",
                  setup=lambda a: ["report", _folder(), "--against", "/nonexistent"])
    yield refused("info --bogus", ["info", "--bogus"], "--bogus")
    yield custom("cli/info --json is JSON", _info_json, timeout=COMMAND_TIMEOUT, slow=True)
    yield custom("cli/--help exits 0", lambda: (CORRECT, "") if _run("--help")[0] == 0 else (CRASH, "exit"),
                 timeout=COMMAND_TIMEOUT, slow=True)


def _info_json():
    code, out, err = _run("info", "--json")
    if code != 0:
        return CRASH, err.strip()[-300:]
    info = json.loads(out)
    return (CORRECT, "") if "peers" in info else (SILENT_WRONG, "no peers in fastfact info --json")


def cases():
    yield from _argument_cases()
    slow = {"timeout": 3 * COMMAND_TIMEOUT, "slow": True}
    for number, delay in enumerate([0.3, 1.0, 2.0, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 12.0, 15.0, 20.0], 1):
        yield custom(f"cli/SIGKILL #{number} at {delay} s then --resume",
                     lambda d=delay: _kill_then_resume(d), **slow)
    for rows in (0, 1, 5, 12, 25, 40, 49):
        yield custom(f"cli/SIGKILL after {rows} saved rows then --resume",
                     lambda r=rows: _kill_then_resume(0.0, after_rows=r), **slow)
    yield custom("cli/SIGTERM then --resume", lambda: _kill_then_resume(4.0, signal.SIGTERM), **slow)
    yield custom("cli/Ctrl-C", _interrupt, **slow)
    yield custom("cli/two runs into one --out", _concurrent, **slow)
    yield custom("cli/--resume without --out", _resume_without_out, **slow)
    yield custom("cli/--resume of a finished run", _resume_finished, **slow)
    yield custom("cli/disk full, then --resume", lambda: _disk_full(6000), **slow)
    yield custom("cli/disk full after some rows, then --resume", lambda: _disk_full(12000), **slow)
    yield custom("cli/--report writes files with the umask's mode", _report_of_run, **slow)
    yield custom("cli/a suite whose every task fails", _failing_task, **slow)
    for fault in PEER_FAULTS:
        yield custom(f"cli/a peer that faults: {fault}", lambda f=fault: _faulty_peer(f), **slow)
    yield custom("cli/a peer registered in the calling process only", _peer_registered_in_the_caller_only,
                 **slow)
