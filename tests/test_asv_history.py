"""``fastfact asv-history``: asv result files of several commits → one offline HTML page."""

import base64
import json
import re

import pytest

pytest.importorskip("asv")

from fastfact.bench.asv_history import (
    HistoryError,
    load_history,
    significant_changes,
    write_history,
)
from fastfact.cli import main

RATIO = "bench_apply.ApplyFastfact.track_ratio_to_calibration"
ERROR = "bench_accuracy.Accuracy.track_error_floored"
IMPORT = "bench_apply.Import.track_import_cpu_seconds"
COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a",
           "stats_ci_99_b", "stats_q_25", "stats_q_75", "stats_number", "stats_repeat",
           "samples", "profile"]
MACHINE = {"arch": "x86_64", "cpu": "AMD EPYC", "machine": "box", "num_cpu": "2",
           "os": "Linux", "ram": "24 GiB"}


def _result_file(folder, commit, date, ratios, errors, imported):
    """One asv (format 2) result file: ratios[transform], errors[(method, noise)], a scalar."""
    results = {
        RATIO: [list(ratios.values()), [[repr(t) for t in ratios]]],
        ERROR: [list(errors.values()),
                [sorted({repr(m) for m, _ in errors}), sorted({repr(n) for _, n in errors})]],
        IMPORT: [[imported], []],
    }
    data = {"commit_hash": commit * 5, "env_name": "virtualenv-py3.11", "date": date,
            "params": {**MACHINE, "python": "3.11"}, "python": "3.11", "requirements": {},
            "env_vars": {}, "result_columns": COLUMNS, "version": 2,
            "results": {name: [*value, f"v{i}", 0, 1.0] for i, (name, value)
                        in enumerate(results.items())}}
    (folder / f"{commit[:8]}-virtualenv-py3.11.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    (folder / "box").mkdir(parents=True)
    (folder / "box" / "machine.json").write_text(json.dumps({**MACHINE, "version": 1}))
    (folder / "benchmarks.json").write_text(json.dumps({
        RATIO: {"unit": "CPU time ÷ calibration"}, ERROR: {"unit": "error ÷ 100 eps"},
        IMPORT: {"unit": "CPU seconds"}, "version": 2}))
    errors = {("als", "0"): 1.0, ("als", "0.1"): 4e11, ("palm", "0"): 2.0, ("palm", "0.1"): 5e11}
    # three commits, written out of date order; the middle one makes the DFT 1.5× slower
    _result_file(folder / "box", "cccccccc", 3_000_000, {"hadamard": 3.1, "dft": 7.4},
                 errors, 0.54)
    _result_file(folder / "box", "aaaaaaaa", 1_000_000, {"hadamard": 3.0, "dft": 7.5},
                 errors, 0.50)
    _result_file(folder / "box", "bbbbbbbb", 2_000_000, {"hadamard": 3.05, "dft": 11.25},
                 {**errors, ("palm", "0.1"): 5.1e11}, 0.55)
    return folder


def test_history_is_tidy_and_ordered_by_commit_date(results):
    history = load_history(results)
    assert list(history.drop_duplicates("commit")["commit"]) == ["aaaaaaaa", "bbbbbbbb",
                                                                "cccccccc"]
    ratio = history[history["benchmark"] == RATIO]
    assert set(ratio["params"]) == {("'hadamard'",), ("'dft'",)}
    assert set(ratio["unit"]) == {"CPU time ÷ calibration"}
    errors = history[(history["benchmark"] == ERROR) & (history["commit"] == "bbbbbbbb")]
    assert dict(zip(errors["params"], errors["value"], strict=True))[("'palm'", "'0.1'")] == 5.1e11
    assert history.loc[history["benchmark"] == IMPORT, "params"].tolist() == [()] * 3


def test_changes_beyond_the_configured_thresholds(results):
    history = load_history(results)
    thresholds = {r"bench_apply\.ApplyFastfact\.": 0.1, r"bench_accuracy\.": 0.01}
    changes = significant_changes(history, thresholds)
    found = {(row.benchmark, row.params, row["from"], row.to, row.verdict)
             for _, row in changes.iterrows()}
    assert found == {
        (RATIO, "dft", "aaaaaaaa", "bbbbbbbb", "worse"),  # ×1.5
        (RATIO, "dft", "bbbbbbbb", "cccccccc", "better"),
        (ERROR, "palm, 0.1", "aaaaaaaa", "bbbbbbbb", "worse"),  # +2 % > 1 %
        (ERROR, "palm, 0.1", "bbbbbbbb", "cccccccc", "better"),
        (IMPORT, "", "aaaaaaaa", "bbbbbbbb", "worse"),  # +10 % > asv's default 5 %
    }
    assert changes.loc[changes["benchmark"] == RATIO, "threshold"].tolist() == [0.1, 0.1]


def test_page_is_self_contained(results, tmp_path):
    config = tmp_path / "asv.conf.json"
    config.write_text(json.dumps({"results_dir": "results",
                                  "regressions_thresholds": {r"bench_apply\.": 0.1}}))
    page = write_history(results, tmp_path / "out", config=config)
    text = page.read_text()
    assert "<script" not in text and "src='http" not in text
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 3  # one figure per benchmark
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "bench_accuracy_Accuracy_track_error_floored.png",
        "bench_apply_ApplyFastfact_track_ratio_to_calibration.png",
        "bench_apply_Import_track_import_cpu_seconds.png"]
    assert "3 commits" in text and "bbbbbbbb" in text and ">worse<" in text


def test_command_reads_the_configuration(results, tmp_path, capsys, monkeypatch):
    (tmp_path / "asv.conf.json").write_text(json.dumps({"results_dir": "results"}))
    monkeypatch.chdir(tmp_path)
    assert main(["asv-history", "--out", "page"]) == 0
    assert (tmp_path / "page" / "index.html").exists()
    assert "wrote page/index.html" in capsys.readouterr().out


def test_command_errors_name_what_to_pass(results, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["asv-history", str(results), "--machine", "other"]) == 2
    assert "no machine 'other'" in capsys.readouterr().err
    (results / "second").mkdir()
    (results / "second" / "machine.json").write_text(json.dumps({**MACHINE, "version": 1}))
    assert main(["asv-history", str(results)]) == 2
    assert "pass --machine NAME" in capsys.readouterr().err
    assert main(["asv-history"]) == 2  # no asv.conf.json here
    assert "pass the asv results folder" in capsys.readouterr().err


def test_an_empty_machine_folder_is_an_error(tmp_path):
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "machine.json").write_text(json.dumps({**MACHINE, "version": 1}))
    with pytest.raises(HistoryError, match="holds no benchmark results"):
        load_history(tmp_path)
