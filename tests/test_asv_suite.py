"""The asv configuration and suites: well formed, and asv can discover and check them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_asv_configuration():
    config = json.loads((ROOT / "asv.conf.json").read_text())
    assert config["results_dir"] == "results/asv"
    assert config["env_dir"].startswith(".asv") and config["html_dir"].startswith(".asv")
    assert config["benchmark_dir"] == "benchmarks"
    assert config["build_command"] == [
        "python -m build --wheel --no-isolation -o {build_cache_dir} {build_dir}"]
    assert "--no-deps" in config["install_command"][0]
    assert ".asv/" in (ROOT / ".gitignore").read_text().split()


def _asv():
    executable = Path(sys.executable).with_name("asv")
    return str(executable) if executable.exists() else shutil.which("asv")


@pytest.mark.skipif(_asv() is None, reason="asv is not installed")
def test_asv_check_passes():
    completed = subprocess.run([_asv(), "check", "--python=same"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No problems found" in completed.stdout


def test_suites_enumerate_implementations_from_the_registry():
    code = ("from benchmarks.common import apply_names, factorize_variants\n"
            "from benchmarks.bench_apply import ApplyDFT\n"
            "from fastfact import impls\n"
            "from fastfact.factorization import available_methods\n"
            "variants = factorize_variants()\n"
            "names = {name for name, _ in variants.values()}\n"
            "assert set(available_methods()) <= names, (names, available_methods())\n"
            "assert 'pyfaust-butterfly' in names\n"
            "assert variants['hierarchical-balanced'] == ('hierarchical', {'order': 'balanced'})\n"
            "assert 'pyfaust-palm4msa' not in names  # declares no tracked variant: too slow\n"
            "dft = {i.name for i in impls.implementations('apply') if i.computes('dft')}\n"
            "assert set(ApplyDFT.params[2]) == dft == set(apply_names('dft'))\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
