"""The asv configuration and suites: well formed, robust to a drifting machine, and the
committed machine description is what ``asv run --machine reference-vm`` writes back."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITES = sorted((ROOT / "benchmarks").glob("bench_*.py"))


def test_asv_configuration():
    config = json.loads((ROOT / "asv.conf.json").read_text())
    assert config["results_dir"] == "results/asv"
    assert config["env_dir"].startswith(".asv") and config["html_dir"].startswith(".asv")
    assert config["benchmark_dir"] == "benchmarks"
    assert config["build_command"] == [
        "python -m build --wheel --no-isolation -o {build_cache_dir} {build_dir}"]
    assert "--no-deps" in config["install_command"][0]
    assert ".asv/" in (ROOT / ".gitignore").read_text().split()
    assert {"ducc0", "fht-cpu"} <= set(config["matrix"]["req"])  # the fastest peers are tracked


def test_accuracy_has_its_own_regression_threshold():
    import re

    thresholds = json.loads((ROOT / "asv.conf.json").read_text())["regressions_thresholds"]

    def threshold(name):  # asv's rule (asv/plugins/regressions.py): the largest match
        return max(float(t) for pattern, t in thresholds.items() if re.match(pattern, name))

    assert threshold("bench_accuracy.Accuracy.track_error_floored") == 0.01
    assert threshold("bench_accuracy.Accuracy.track_bound_ratio") == 0.01
    assert threshold("bench_apply.ApplyMemory.track_peak_bytes") == 0.01
    assert threshold("bench_apply.ApplyFastfact.track_ratio_to_calibration") == 0.1
    assert threshold("bench_factorize.Factorize.time_factorize") == 0.1


def _asv():
    executable = Path(sys.executable).with_name("asv")
    return str(executable) if executable.exists() else shutil.which("asv")


@pytest.mark.skipif(_asv() is None, reason="asv is not installed")
def test_asv_check_passes():
    completed = subprocess.run([_asv(), "check", "--python=same"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No problems found" in completed.stdout


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_suites_use_the_public_api_and_their_own_ruler():
    # asv runs this checkout's suites against every commit of the history: internals move
    for path in [*SUITES, ROOT / "benchmarks" / "common.py"]:
        internal = {m for m in _imports(path) if m.startswith("fastfact.")} - {"fastfact.impls"}
        assert not internal, (path.name, internal)


def test_time_benchmarks_use_the_cpu_timer_and_ratios_are_interleaved():
    code = ("import inspect, time\n"
            "from benchmarks import bench_apply, bench_factorize\n"
            "from benchmarks.common import cpu_ratio, calibration\n"
            "timed = [c for m in (bench_apply, bench_factorize) for _, c in inspect.getmembers(m)\n"
            "         if inspect.isclass(c) and any(n.startswith('time_') for n in dir(c))]\n"
            "assert timed and all(c.timer is time.process_time for c in timed), timed\n"
            "slow = lambda: sum(range(20000))\n"
            "fast = lambda: sum(range(5000))\n"
            "assert 2 < cpu_ratio(slow, fast) < 8\n"
            "calibration()()\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_suites_track_the_registry():
    code = ("import fastfact as ff\n"
            "from fastfact import impls\n"
            "from benchmarks.bench_apply import PEERS\n"
            "from benchmarks.common import UNTRACKED_METHODS, factorize_variants\n"
            "variants = factorize_variants()\n"
            "tracked = set(ff.available_methods()) - set(UNTRACKED_METHODS)\n"
            "assert {m for m, _ in variants.values()} == tracked\n"
            "assert set(UNTRACKED_METHODS) <= set(ff.available_methods())\n"
            "assert variants['hierarchical-balanced'] == ('hierarchical', {'order': 'balanced'})\n"
            "peers = {i.name for i in impls.implementations('apply')} - {'fastfact'}\n"
            "assert set(PEERS) == peers, set(PEERS) ^ peers\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def _register(home, detected=None):
    """Run benchmarks.asv_machine with HOME=home (and asv's detection patched if given)."""
    patch = ("" if detected is None else
             f"import asv.machine as m; m.Machine.get_defaults = staticmethod(lambda: {detected!r})\n")
    code = patch + "import sys, benchmarks.asv_machine as b; sys.exit(b.main())"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"HOME": str(home), "PATH": "/usr/bin"})


def test_committed_machine_is_written_back_byte_for_byte(tmp_path):
    pytest.importorskip("asv")
    committed = ROOT / "results" / "asv" / "reference-vm" / "machine.json"
    here = json.loads(committed.read_text())
    completed = _register(tmp_path, {**here, "os": "Linux 6.18.44-fc-v669", "ram": "25276502016",
                                     "machine": "vm"})  # another day's kernel and free memory
    assert completed.returncode == 0, completed.stderr
    # what `asv run --machine reference-vm` does (asv/commands/run.py): load, then save
    code = ("import sys\nfrom asv.machine import Machine\n"
            "Machine.load(machine_name='reference-vm', interactive=True).save(sys.argv[1])\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "results")], check=True,
                   timeout=120, env={"HOME": str(tmp_path), "PATH": "/usr/bin"})
    written = tmp_path / "results" / "reference-vm" / "machine.json"
    assert written.read_bytes() == committed.read_bytes()


def test_another_computer_is_not_registered_as_the_reference_machine(tmp_path):
    pytest.importorskip("asv")
    completed = _register(tmp_path, {"machine": "laptop", "os": "Linux", "arch": "x86_64",
                                     "cpu": "Intel Core i7", "num_cpu": "8", "ram": "16 GiB"})
    assert completed.returncode == 1
    assert "not 'reference-vm'" in completed.stderr and "cpu 'AMD EPYC' committed" in completed.stderr
    assert not (tmp_path / ".asv-machine.json").exists()
