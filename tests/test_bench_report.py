"""Reports: tables, figures, run-vs-run comparison, claims, and the HTML renders in a browser."""

import base64
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from fastfact.bench.claims import evaluate_claims, fitted_slope, guarantee
from fastfact.bench.report import (
    ReportError,
    apply_table,
    load_run,
    problems_table,
    write_report,
)
from fastfact.bench.results import COLUMNS
from fastfact.bench.runner import run_suite
from fastfact.bench.suite import load_suite

SUITE = """
[suite]
name = "tiny-report"
min_seconds = 0.0005

[[apply]]
transforms = ["hadamard", "dft"]
sizes = [16, 64]
batches = [1, 8]
peers = ["dense", "numpy-fwht", "numpy-fft", "pyfaust"]

[[factorize]]
targets = ["hadamard", "random-butterfly"]
methods = ["hierarchical", "pyfaust-butterfly"]
sizes = [16, 64]
noise = [0.0, 0.1]
seeds = [0, 1]

[[factorize_time]]
targets = ["hadamard"]
methods = ["hierarchical"]
sizes = [16, 64]

[[claims]]
id = "H2"
claim = "exact recovery"
paper = "≤ 1e-12"
measure = "max_rel_error"
where = { kind = "factorize", target = "random-butterfly" }

[[claims]]
id = "H9"
claim = "not in this run"
paper = "—"
measure = "time_slope"
where = { kind = "factorize_time", target = "dft" }
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    (folder / "suite.toml").write_text(SUITE)
    out = run_suite(load_suite(folder / "suite.toml"), folder / "run", quiet=True)
    write_report(out)
    return out


def test_report_files_and_sections(run):
    markdown = (run / "report.md").read_text()
    for heading in ("## Machine", "## Implementations", "## Paper says / we measure",
                    "## Apply: reference time and time ratio to each peer",
                    "## Factorization accuracy", "## Factorization time", "## Figures"):
        assert heading in markdown
    assert "| dft | 64 | 8 | float64 | fastfact |" in markdown  # reference: fastfact
    assert "not measured in this run" in markdown  # the H9 claim has no rows
    figures = re.findall(r"!\[[^]]*\]\((figures/[a-z_]+\.png)\)", markdown)
    assert {"figures/speedup.png", "figures/apply_time.png", "figures/pareto.png",
            "figures/bound_ratio.png", "figures/factorize_time.png"} <= set(figures)
    assert all((run / f).stat().st_size > 5000 for f in figures)


def test_html_is_self_contained(run):
    page = (run / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) >= 5
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "src='figures/" not in page and "<table" in page


def test_peer_bound_ratio_uses_fastfact_certificate(run, tmp_path):
    shutil.copy(run / "meta.json", tmp_path / "meta.json")
    instance = {"kind": "factorize", "target": "gaussian", "chain": "butterfly", "N": 64,
                "noise": 0.0, "dtype": "float64", "status": "ok"}
    rows = pd.DataFrame([
        {**instance, "seed": 0, "impl": "fastfact", "rel_error": 0.15, "lower_bound": 0.1,
         "bound_ratio": 1.5},
        {**instance, "seed": 0, "impl": "pyfaust-butterfly", "rel_error": 0.2},
        {**instance, "seed": 1, "impl": "fastfact", "rel_error": 3e-16, "lower_bound": 1e-16},
        {**instance, "seed": 1, "impl": "pyfaust-butterfly", "rel_error": 5e-16},
    ], columns=COLUMNS)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    loaded, _ = load_run(tmp_path)
    peer = loaded[loaded["impl"] == "pyfaust-butterfly"].set_index("seed")["bound_ratio"]
    assert peer[0] == pytest.approx(2.0)
    assert np.isnan(peer[1])  # a round-off certificate says nothing


def test_unchecked_outputs_are_listed_with_the_problems():
    base = {"kind": "apply", "target": "hadamard", "N": 2**16, "batch": 512, "dtype": "float64",
            "method": "apply", "reference": "fastfact", "seconds": 1.0, "time_ratio": 1.0}
    rows = pd.DataFrame([
        {**base, "impl": "fastfact", "status": "ok", "oracle": "none: N·batch too large"},
        {**base, "impl": "pyfwht", "status": "ok", "oracle": "none: N·batch too large"},
        {**base, "N": 64, "impl": "pyfwht", "status": "ok", "oracle": "exact"},
        {**base, "N": 64, "impl": "ghost", "status": "absent", "error": "not installed"},
    ], columns=COLUMNS)
    table = problems_table(rows)
    assert table[["status", "impl"]].values.tolist() == [
        ["absent", "ghost"], ["unchecked", "fastfact"], ["unchecked", "pyfwht"]]
    assert set(table.loc[table["status"] == "unchecked", "error"]) == {"none: N·batch too large"}


def test_apply_table_compares_each_peer_with_the_rows_reference():
    base = {"kind": "apply", "target": "dft", "N": 64, "batch": 1, "dtype": "float64",
            "method": "apply", "status": "ok", "reference": "numpy-fft"}
    rows = pd.DataFrame([{**base, "impl": "numpy-fft", "seconds": 2e-3, "time_ratio": 1.0},
                         {**base, "impl": "fastfact", "seconds": 1e-3, "time_ratio": 2.0}],
                        columns=COLUMNS)
    table = apply_table(rows)
    assert table.columns.tolist() == ["target", "N", "batch", "dtype", "reference",
                                      "reference ms", "÷ fastfact"]
    assert table.iloc[0]["reference"] == "numpy-fft" and table.iloc[0]["÷ fastfact"].startswith("2")


def test_guarantee_comes_from_the_rows_factor_count():
    assert guarantee(10) == 3.0 and guarantee(2) == 1.0  # two factors: the split is optimal
    assert np.isnan(guarantee(float("nan")))  # rows written before the column existed


def test_claims_measure_the_rows():
    sizes = np.array([64, 128, 256, 512])
    rows = pd.DataFrame({"kind": "factorize_time", "method": "m", "N": sizes,
                         "seconds": 1e-9 * sizes.astype(float) ** 2})
    assert fitted_slope(rows["N"], rows["seconds"]) == pytest.approx(2.0)
    table = evaluate_claims([{"id": "H1", "claim": "c", "paper": "2", "measure": "time_slope",
                              "where": {"kind": "factorize_time"}}], rows)
    assert table["we measure"].item() == "m: slope 2.00 (N = 64…512)"


def test_report_on_a_folder_without_rows(tmp_path):
    with pytest.raises(ReportError, match=r"has no rows\.csv"):
        write_report(tmp_path)
    (tmp_path / "rows.csv").write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(ReportError, match="holds no rows yet"):
        write_report(tmp_path)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_html_report_renders_in_headless_chromium(run, tmp_path):
    import matplotlib.image

    screenshot = tmp_path / "report.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={screenshot}",
                    "--window-size=1400,6000", (run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = matplotlib.image.imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (6000, 1400)
    # figures are colourful: blue/orange lines and filled bands, not just black text on white
    saturation = pixels.max(axis=-1) - pixels.min(axis=-1)
    assert (saturation > 0.3).mean() > 0.002
