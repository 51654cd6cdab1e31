"""Reports: tables, figures, run-vs-run comparison, claims, and the HTML renders in a browser."""

import base64
import html
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

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
where = { kind = "factorize", target = "random-butterfly", noise = 0.0, impl = "fastfact" }
criteria = [{ quantity = "max_rel_error", max = 1e-12 }]

[[claims]]
id = "H9"
claim = "not in this run"
paper = "—"
measure = "time_slope"
where = { kind = "factorize_time", target = "dft" }
criteria = [{ quantity = "slope", min = 1.7, max = 2.3 }]
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
    assert "| H2 | exact recovery |" in markdown and "| reproduced (1 of 1 checks hold) |" in markdown
    assert "| no matching rows in this run | not measured |" in markdown  # H9 has no rows
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


def test_headline_puts_fastfact_against_its_best_peer_with_verdicts():
    from fastfact.bench.headline import headline_table

    apply = {"kind": "apply", "target": "dft", "batch": 64, "dtype": "float64",
             "reference": "fastfact", "status": "ok", "method": "apply"}
    fact = {"kind": "factorize", "target": "hadamard", "chain": "butterfly", "noise": 0.0,
            "noise_model": "relative", "dtype": "float64", "status": "ok"}
    rows = pd.DataFrame([
        *({**apply, "N": N, "impl": impl, "seconds": s} for N, impl, s in [
            (64, "fastfact", 1e-6), (64, "ducc0", 5e-7),
            (1024, "fastfact", 2e-5), (1024, "ducc0", 1e-5), (1024, "dense", 4e-4)]),
        {**fact, "N": 256, "impl": "fastfact", "method": "hier", "rel_error": 1e-15,
         "seconds": 0.01},
        {**fact, "N": 256, "impl": "fastfact", "method": "als", "rel_error": 1e-14,
         "seconds": 0.02},
        {**fact, "N": 256, "impl": "pyfaust-butterfly", "method": "pyfaust", "rel_error": 2e-15,
         "seconds": 0.04},
    ], columns=COLUMNS)
    rows["batch"] = rows["batch"].fillna(0).astype(int)  # as load_run gives them
    claims = [{"id": "H12", "where": {"kind": "apply"}}, {"id": "H2", "where": {"method": "hier"}}]
    table = headline_table(rows, claims, ["partial (1 of 2 checks hold)", "reproduced (…)"])
    assert table.to_dict("records") == [
        {"workload": "apply dft, batch 64, float64", "N": 1024, "fastfact": "fastfact 20 µs",
         "best peer": "ducc0 10 µs", "peer ÷ fastfact": "time ×0.5", "claims": "H12 ◐"},
        {"workload": "factorize hadamard, exact, float64", "N": 256,
         "fastfact": "hier 1e-15 in 10 ms", "best peer": "pyfaust 2e-15 in 40 ms",
         "peer ÷ fastfact": "error ×2, time ×4", "claims": "H2 ✓"},
    ]


def test_markdown_and_html_show_the_same_sections_in_the_same_order(run):
    markdown = (run / "report.md").read_text()
    page = (run / "report.html").read_text()
    md_headings = re.findall(r"^#{2,3} (.+)$", markdown, flags=re.M)
    html_headings = [html.unescape(h) for h in re.findall(r"<h[23]>(.+?)</h[23]>", page)]
    assert md_headings == html_headings
    assert md_headings[:3] == ["Headline", "Paper says / we measure", "Figures"]
    assert md_headings.index("Details") < md_headings.index("Machine")
    assert "class='good'>reproduced" in page and "class='none'>not measured" in page


def test_long_tables_are_collapsed_in_html(run):
    from fastfact.bench.document import COLLAPSE_ROWS

    page = (run / "report.html").read_text()
    collapsed = re.findall(r"<details><summary>(\d+) rows", page)
    assert collapsed and all(int(n) > COLLAPSE_ROWS for n in collapsed)
    shown = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    assert all(table.count("<tr>") - 1 <= COLLAPSE_ROWS
               for table in re.findall(r"<table>.*?</table>", shown, flags=re.S))


def test_every_figure_uses_one_colour_per_method():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastfact.bench import figures

    rows = pd.DataFrame([
        {"kind": "factorize_time", "method": m, "impl": "fastfact", "N": N, "seconds": s * N,
         "target": "hadamard", "chain": "butterfly", "noise": 0.01, "dtype": "float64"}
        for m, s in [("hier-l2r", 1.0), ("hier-r2l", 2.0)] for N in (64, 128)]
        + [{"kind": "factorize_time", "method": "pyfaust", "impl": "pyfaust-butterfly",
            "N": 64, "seconds": 1.0, "target": "hadamard", "chain": "butterfly",
            "noise": 0.01, "dtype": "float64"}], columns=COLUMNS)
    style = figures.Style.of(rows)
    assert style.colour == figures.Style.of(rows.iloc[::-1]).colour
    assert style.colour["fastfact"] == "#000000" and style.marker == {0.01: "o"}
    assert len(set(style.colour.values())) == len(style.colour)
    fig, ax = plt.subplots()
    figures._plot_time(ax, rows, style)
    lines = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert lines == {k: style.colour[k] for k in ("hier-l2r", "hier-r2l", "pyfaust")}
    notes = sorted(text.get_text() for text in ax.texts)
    assert notes == ["slope 1.00", "slope 1.00", "slope needs ≥ 2 sizes"]  # never "slope nan"
    plt.close(fig)


def test_the_sqrt_line_is_drawn_only_where_an_upper_bound_is_proved():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastfact.bench import figures

    def panel(upper_bound):
        return pd.DataFrame([
            {"kind": "factorize", "method": m, "impl": "fastfact", "N": N, "factors": 6,
             "bound_ratio": 1.2, "upper_bound": upper_bound if m == "hier-l2r" else None,
             "target": "gaussian", "chain": "butterfly", "noise": 0.1, "dtype": "float64"}
            for m in ("hier-l2r", "hier-balanced") for N in (64, 256)], columns=COLUMNS)

    labels = {}
    for name, upper_bound in (("comb", 0.5), ("none", None)):
        rows = panel(upper_bound)
        fig, ax = plt.subplots()
        figures._plot_bound_ratio(ax, rows, figures.Style.of(rows))
        labels[name] = [line.get_label() for line in ax.get_lines()]
        plt.close(fig)
    sqrt_line = "√(L−1): proved for the orthonormalized comb trees only"
    assert sqrt_line in labels["comb"]
    assert labels["none"] == ["hier-balanced", "hier-l2r"]  # no bound proved: no √(L−1) line


def test_slope_labels_stay_inside_the_axes_and_apart():
    """Audit: the label of the top line was pushed above the axes and cut off (quick run,
    factorization time: pyfaust-balanced just above pyfaust-l2r at N = 1024)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastfact.bench import figures

    rows = pd.DataFrame([
        {"kind": "factorize_time", "method": m, "impl": "fastfact", "N": N, "seconds": s,
         "target": "hadamard", "chain": "butterfly", "noise": 0.01, "dtype": "float64"}
        for m, points in [("low", {64: 1e-3, 1024: 3e-2}), ("top", {64: 4e-3, 1024: 0.5}),
                          ("near-top", {64: 4e-2, 128: 0.49})] for N, s in points.items()],
        columns=COLUMNS)
    fig, ax = plt.subplots()
    figures._plot_time(ax, rows, figures.Style.of(rows))
    low, high = np.log10(ax.get_ylim())
    heights = sorted(np.log10(text.xy[1]) for text in ax.texts)
    assert len(heights) == 3 and heights[-1] < high and heights[0] > low
    assert np.diff(heights).min() >= 0.06 * (high - low) * (1 - 1e-9)
    plt.close(fig)
