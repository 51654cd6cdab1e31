"""The ``fastfact`` command line: info, bench and report, and its error messages."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import fastfact
from fastfact.cli import main

TINY = """
[suite]
name = "cli"
min_seconds = 0.0005

[[apply]]
transforms = ["hadamard"]
sizes = [16]
peers = ["numpy-fwht"]
"""


def test_info_lists_versions_threads_blas_and_peers(capsys):
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"fastfact {fastfact.__version__}")
    for word in ("python", "numpy", "scipy", "numba", "pandas", "cpu", "cores",
                 "threading layer", "blas", "peers", "numpy-fwht", "pyfaust-butterfly"):
        assert word in text


def test_info_json():
    completed = subprocess.run([sys.executable, "-m", "fastfact", "info", "--json"],
                               check=True, capture_output=True, text=True, timeout=120)
    info = json.loads(completed.stdout)
    assert info["versions"]["fastfact"] == fastfact.__version__
    assert info["cpu"]["logical_cores"] >= 1
    assert {p["name"] for p in info["peers"]} >= {"dense", "scipy-fft"}


def test_bench_then_report(tmp_path, capsys):
    suite = tmp_path / "cli.toml"
    suite.write_text(TINY)
    out = tmp_path / "run"
    assert main(["bench", "--suite", str(suite), "--out", str(out), "--quiet"]) == 0
    assert f"next: fastfact report {out}" in capsys.readouterr().out
    assert main(["report", str(out)]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (out / "report.md").exists() and (out / "report.html").exists()


def test_bench_report_flag_and_default_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cli.toml").write_text(TINY)
    assert main(["bench", "--suite", "cli.toml", "--quiet", "--report"]) == 0
    (run,) = (tmp_path / "results").iterdir()
    assert run.name.startswith("cli-") and run.name.endswith("Z")
    assert (run / "report.html").exists()
    assert "report.html" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["bench", "--suite", "nope"], "unknown suite 'nope'; shipped suites: default, paper, quick"),
    (["bench", "--suite", "quick", "--jobs", "0"], "--jobs must be a positive number"),
    (["report", "."], "has no rows.csv"),
])
def test_errors_are_one_line_with_exit_status_2(argv, message, capsys, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("fastfact: error: ") and message in error
    assert not (tmp_path / "results").exists()  # nothing written on a refused run


def test_jobs_must_be_an_integer(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--suite", "quick", "--jobs", "two"])
    assert exit_info.value.code == 2
    assert "--jobs takes an integer, got 'two'" in capsys.readouterr().err


def test_subcommand_is_required(capsys):
    with pytest.raises(SystemExit):
        main([])
    assert "COMMAND" in capsys.readouterr().err


SLOW = """
[suite]
name = "slow"
min_seconds = 0.02

[[apply]]
transforms = ["hadamard"]
sizes = [16, 32]
batches = [1, 4]
peers = ["dense", "numpy-fwht"]
"""


def _finished_tasks(out) -> int:
    rows = out / "rows.csv"
    if not rows.exists():
        return 0
    return len({line.split(",")[1] for line in rows.read_text().splitlines()[1:]})


def test_ctrl_c_says_what_is_saved_and_how_to_finish_the_run(tmp_path):
    """Audit: Ctrl-C printed a 25-line traceback."""
    (tmp_path / "slow.toml").write_text(SLOW)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "fastfact", "bench", "--suite", "slow.toml", "--out",
               str(out), "--quiet"]
    # its own process group, which a terminal's Ctrl-C signals as a whole (workers too)
    process = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                               stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _finished_tasks(out) < 1:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)
        _, error = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in error
    saved = _finished_tasks(out)
    assert error.splitlines() == [
        f"fastfact: interrupted: {saved} of 4 tasks are finished and saved in "
        f"{out / 'rows.csv'}; finish the run with:",
        f"  fastfact bench --suite slow.toml --out {out} --resume --quiet"]
    resume = error.splitlines()[1].split()[2:]
    subprocess.run([sys.executable, "-m", "fastfact", "bench", *resume], cwd=tmp_path,
                   check=True, capture_output=True, timeout=300)
    assert _finished_tasks(out) == 4


def test_ctrl_c_elsewhere_exits_130_without_a_traceback(capsys, monkeypatch):
    import fastfact.bench.machine as machine

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(machine, "machine_info", interrupted)
    assert main(["info"]) == 130
    assert capsys.readouterr().err == "fastfact: interrupted\n"
