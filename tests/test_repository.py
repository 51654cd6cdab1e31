"""The repository itself: run folders that `fastfact bench` writes are ignored by git, the
committed reference runs and asv results are not."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs a git checkout")


def _ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT,
                          check=False).returncode == 0


def test_run_folders_are_ignored():
    """Audit: results/quick-* was neither committed nor ignored."""
    for run in ("quick-20261201T101010Z", "default-20261201T101010Z", "my-suite-20270101T000000Z"):
        assert _ignored(f"results/{run}/rows.csv"), run
        assert _ignored(f"results/{run}/report.html"), run


def test_reference_runs_and_asv_results_are_not_ignored():
    tracked = subprocess.run(["git", "ls-files", "results"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    assert any(path.endswith("/rows.csv") for path in tracked), "no committed reference run"
    assert not _ignored("results/asv/benchmarks.json")
    assert not _ignored("results/README.md")
