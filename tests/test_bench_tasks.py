"""Tasks measure what they claim: untraced timings, independent references, peers timed as used."""

import importlib
import tracemalloc

import numpy as np
import pytest

from fastfact.bench import tasks as tasks_module
from fastfact.bench.suite import load_suite
from fastfact.bench.tasks import INTERLEAVED, PREPARING, execute, lost_task
from fastfact.impls import Implementation, Outcome, PreparedApply, PreparedFactorization
from fastfact.impls._registry import _REGISTRY


def _tasks(tmp_path, body: str) -> list[dict]:
    path = tmp_path / "suite.toml"
    path.write_text('[suite]\nname = "t"\nmin_seconds = 0.0002\n' + body)
    return load_suite(path).tasks


def _rows_of(tasks) -> list[dict]:
    return [row for task in tasks for row in execute(task)]


def test_factorization_seconds_come_from_an_untraced_call(tmp_path, monkeypatch):
    """#7 defect 1: the reported time must not be taken under tracemalloc."""
    api = importlib.import_module("fastfact.factorization")
    real = api.factorize
    traced = []

    def probe(*args, **kwargs):
        result = real(*args, **kwargs)
        traced.append(tracemalloc.is_tracing())
        result.seconds = 1000.0 if traced[-1] else 1.0  # marks which call the row reports
        return result

    monkeypatch.setattr(api, "factorize", probe)
    tasks = _tasks(tmp_path, '[[factorize]]\ntargets = ["hadamard"]\nmethods = ["hierarchical"]\n'
                             'sizes = [64]\nnoise = [0.01]\n')
    (row,) = _rows_of(tasks)
    assert row["status"] == "ok", row["error"]
    assert row["seconds"] == 1.0  # the timed call ran with no tracer active
    assert row["wall_seconds"] > 0
    assert True in traced and row["peak_bytes"] > 0  # memory: a separate, traced call


def _corrupt_numpy_fft(monkeypatch):
    real = np.fft.fft
    monkeypatch.setattr(np.fft, "fft", lambda *a, **k: real(*a, **k) * (1 + 1e-6))


def _corrupt_numpy_fwht(monkeypatch):
    from fastfact.impls.fwht import fwht

    def corrupted(x):
        return np.array(x, dtype=np.result_type(x, np.float64)) * (1 + 1e-6)

    monkeypatch.setattr(fwht, "__code__", corrupted.__code__)


def _corrupt_dense(monkeypatch):
    from fastfact.operator import KSOperator

    real = KSOperator.to_dense
    monkeypatch.setattr(KSOperator, "to_dense", lambda self: real(self) * (1 + 1e-6))


@pytest.mark.parametrize(("transform", "peer", "corrupt"), [
    ("dft", "numpy-fft", _corrupt_numpy_fft),
    ("hadamard", "numpy-fwht", _corrupt_numpy_fwht),
    ("random-butterfly", "dense", _corrupt_dense),
])
def test_a_wrong_peer_is_caught_by_a_reference_independent_of_it(tmp_path, monkeypatch,
                                                                  transform, peer, corrupt):
    """#7 defect 2: a reference computed by the peer itself cannot catch the peer's errors."""
    tasks = _tasks(tmp_path, f'[[apply]]\ntransforms = ["{transform}"]\nsizes = [64]\n'
                             f'batches = [3]\npeers = ["{peer}"]\n')
    corrupt(monkeypatch)
    rows = _rows_of(tasks)
    statuses = {row["impl"]: row["status"] for row in rows}
    assert statuses == {"fastfact": "ok", peer: "mismatch"}, rows


def test_pyfftw_is_timed_with_its_input_passed_in(tmp_path, monkeypatch):
    """#7 defect 3: a user calls ``plan(x)``; timing ``plan()`` skips the input copy."""
    builders = pytest.importorskip("pyfftw.builders")
    real = builders.fft
    arguments = []

    def spy(*args, **kwargs):
        plan = real(*args, **kwargs)

        def call(*call_args, **call_kwargs):
            arguments.append(call_args)
            return plan(*call_args, **call_kwargs)

        return call

    monkeypatch.setattr(builders, "fft", spy)
    tasks = _tasks(tmp_path, '[[apply]]\ntransforms = ["dft"]\nsizes = [64]\nbatches = [4]\n'
                             'peers = ["pyfftw"]\n')
    rows = _rows_of(tasks)
    assert {row["status"] for row in rows} == {"ok"}, rows
    shapes = [np.shape(args[0]) if len(args) == 1 else args for args in arguments]
    assert set(shapes) <= {(4, 16), (4, 64)}, shapes  # (the warm-up case has N = 16)
    assert shapes.count((4, 64)) > 5  # the check, the calibration and the timed repeats


def test_rows_record_layout_oracle_and_factors(tmp_path):
    tasks = _tasks(tmp_path, '[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n'
                             'peers = ["numpy-fft", "dense"]\n')
    rows = _rows_of(tasks)
    layouts = {row["impl"]: row["layout"] for row in rows}
    assert layouts == {"fastfact": "columns", "numpy-fft": "rows", "dense": "columns"}
    assert {row["oracle"] for row in rows} == {"dense DFT blocks, exactly reduced roots of unity"}
    assert {row["factors"] for row in rows} == {4}
    assert all(row["rel_error"] < 1e-13 for row in rows)


def test_without_an_affordable_reference_the_rows_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr("fastfact.bench.cases.MAX_REFERENCE_ENTRIES", 100)
    tasks = _tasks(tmp_path, '[[apply]]\ntransforms = ["hadamard"]\nsizes = [64]\n'
                             'batches = [2]\npeers = ["numpy-fwht"]\n')
    rows = _rows_of(tasks)
    assert {row["status"] for row in rows} == {"ok"}
    assert all(row["rel_error"] is None for row in rows)  # no peer stands in for it
    assert {row["oracle"] for row in rows} == {"none: N·batch = 128 is above 100"}


def test_time_ratios_refer_to_the_first_contender_that_ran(tmp_path):
    tasks = _tasks(tmp_path, '[[factorize_time]]\ntargets = ["hadamard"]\n'
                             'methods = ["als", "hierarchical"]\nsizes = [16]\n')
    rows = _rows_of(tasks)
    assert {row["reference"] for row in rows} == {"als"}
    assert all(row["time_ratio"] == 1.0 for row in rows if row["method"] == "als")
    assert all(row["lower_bound"] is not None for row in rows)  # checked with a certificate


def test_factorize_rows_carry_the_bounds_that_are_proved(tmp_path):
    """Accuracy rows: the full certificate (max_s E_s) and, for the comb trees only, the
    proved upper bound (docs/algorithms.md §4.6)."""
    tasks = _tasks(tmp_path, '[methods]\nhier-l2r = { method = "hierarchical" }\n'
                             'hier-balanced = { method = "hierarchical", order = "balanced" }\n'
                             '[[factorize]]\ntargets = ["random-butterfly"]\n'
                             'methods = ["hier-l2r", "hier-balanced"]\nsizes = [64]\nnoise = [0.1]\n')
    rows = {row["method"]: row for row in _rows_of(tasks)}
    comb, balanced = rows["hier-l2r"], rows["hier-balanced"]
    assert comb["status"] == balanced["status"] == "ok"
    assert comb["lower_bound"] <= comb["rel_error"] <= comb["upper_bound"]
    assert comb["upper_bound"] <= np.sqrt(5) * comb["lower_bound"] * (1 + 1e-9)
    assert balanced["upper_bound"] is None
    assert balanced["lower_bound"] == pytest.approx(comb["lower_bound"], rel=1e-12)


class _Misbehaving(Implementation):
    """A Hadamard peer that misbehaves as ``mode`` says after ``after`` good calls, or once
    the interleaved timing starts (``after=None``)."""

    kind = "apply"
    transforms = ("hadamard",)
    layout = "columns"

    def __init__(self, name, mode, after):
        super().__init__()
        self.name, self.mode, self.after = name, mode, after
        self.timing = False

    def prepare(self, case):
        from fastfact.impls.fwht import fwht

        calls = []

        def call():
            calls.append(1)
            fine = not self.timing if self.after is None else len(calls) <= self.after
            if fine or case.X.shape[0] < 64:  # the warm-up case is always fine
                return fwht(case.X)
            if self.mode == "exit":
                raise SystemExit(3)
            if self.mode == "shape":
                return fwht(case.X)[:-1]
            raise ValueError(f"failed on call {len(calls)}")

        return PreparedApply(call)


@pytest.mark.parametrize(("mode", "after", "message"), [
    ("shape", 0, "could not be broadcast"),  # wrong shape on the checked call
    ("exit", 0, "SystemExit: 3"),  # SystemExit must not abort the task or the run
    ("fail", 2, "failed on call 3"),  # in the calibration (call 1: checked, 2: outcome())
    ("fail", None, "ValueError: failed on call"),  # during the interleaved timing
])
def test_a_failing_peer_is_blamed_and_the_reference_keeps_its_timings(tmp_path, monkeypatch,
                                                                       mode, after, message):
    """Audit: a misbehaving peer left one error row blamed on fastfact, and no timings."""
    peer = _Misbehaving("misbehaving", mode, after)
    monkeypatch.setitem(_REGISTRY, ("apply", peer.name), peer)
    real = tasks_module.time_interleaved

    def timing_starts(*args, **kwargs):
        peer.timing = True
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks_module, "time_interleaved", timing_starts)
    tasks = _tasks(tmp_path, '[[apply]]\ntransforms = ["hadamard"]\nsizes = [64]\n'
                             'peers = ["misbehaving", "numpy-fwht"]\n')
    rows = _rows_of(tasks)
    failed = [row for row in rows if row["status"] != "ok"]
    assert [(row["impl"], row["status"]) for row in failed] == [(peer.name, "error")]
    assert message in failed[0]["error"]
    timed = [row for row in rows if row["status"] == "ok"]
    assert {row["impl"] for row in timed} == {"fastfact", "numpy-fwht"}
    assert len(timed) == 2 * 5 and all(row["seconds"] > 0 for row in timed)
    assert {row["task_rows"] for row in rows} == {len(rows)}


class _NaNFactorization(Implementation):
    name = "nan-factorization"
    kind = "factorize"

    def prepare(self, case):
        return PreparedFactorization(lambda: np.full_like(case.A, np.nan), Outcome)


def test_a_factorization_with_non_finite_entries_is_not_ok(tmp_path, monkeypatch):
    """Audit: a factorize peer returning NaN was stored as status=ok, rel_error=nan."""
    monkeypatch.setitem(_REGISTRY, ("factorize", "nan-factorization"), _NaNFactorization())
    tasks = _tasks(tmp_path, '[[factorize]]\ntargets = ["hadamard"]\n'
                             'methods = ["nan-factorization"]\nsizes = [16]\n')
    (row,) = _rows_of(tasks)
    assert row["status"] == "error"
    assert "non-finite" in row["error"]


def test_after_a_crash_the_task_runs_again_without_the_culprit(tmp_path):
    tasks = _tasks(tmp_path, '[[apply]]\ntransforms = ["hadamard"]\nsizes = [16]\n'
                             'peers = ["numpy-fwht", "dense"]\n')
    (task,) = tasks
    reason = "the worker process died of signal SIGSEGV"
    retry = lost_task(task, reason, "numpy-fwht")
    assert retry["id"] == task["id"] and [c["label"] for c in retry["contenders"]] == \
        ["fastfact", "dense"]
    rows = execute(retry)
    crashed = [row for row in rows if row["impl"] == "numpy-fwht"]
    assert [row["status"] for row in crashed] == ["error"]
    assert crashed[0]["error"] == f"{reason} while running numpy-fwht"
    assert {row["impl"] for row in rows if row["status"] == "ok"} == {"fastfact", "dense"}
    assert {row["task_rows"] for row in rows} == {len(rows)}
    # the last contender left, or no culprit known: the rows of the task, one per contender
    rows = lost_task(lost_task(retry, reason, "dense"), reason, "fastfact")
    assert [(row["impl"], row["status"], row["task_rows"]) for row in rows] == \
        [("numpy-fwht", "error", 3), ("dense", "error", 3), ("fastfact", "error", 3)]
    rows = lost_task(task, "timed out after 1 s", INTERLEAVED)
    assert [row["impl"] for row in rows] == ["fastfact", "numpy-fwht", "dense"]
    assert rows[0]["error"] == "timed out after 1 s during the interleaved timing"
    assert lost_task(task, "killed", PREPARING)[0]["error"] == "killed while preparing the task"
    assert lost_task(task, "its Dask task failed", None)[0]["error"] == "its Dask task failed"
def test_rows_record_the_realized_noise_norm(tmp_path):
    """Claims compare errors with the noise actually added (H5), not with the noise parameter."""
    tasks = _tasks(tmp_path, '[[factorize]]\ntargets = ["dft"]\nmethods = ["hierarchical"]\n'
                             'sizes = [8, 64]\nnoise = [0.0, 0.005]\nnoise_model = "icassp"\n'
                             '[[factorize]]\ntargets = ["hadamard"]\nmethods = ["hierarchical"]\n'
                             'sizes = [16]\nnoise = [0.1]\n')
    norms = {(row["target"], row["N"], row["noise"]): row["noise_norm"] for row in _rows_of(tasks)}
    assert norms[("dft", 8, 0.0)] == 0.0 and norms[("dft", 64, 0.0)] == 0.0
    # icassp: ‖noise‖ ≈ 0.1·N against ‖F_N‖ = N, with the spread of a draw of 2N² Gaussians
    assert norms[("dft", 8, 0.005)] == pytest.approx(0.1, rel=0.25)
    assert norms[("dft", 64, 0.005)] == pytest.approx(0.1, rel=0.05)
    assert norms[("dft", 8, 0.005)] != norms[("dft", 64, 0.005)]  # realized, not nominal
    # relative model: ‖noise‖ = 0.1 ‖A‖, measured against the noisy target
    assert norms[("hadamard", 16, 0.1)] == pytest.approx(0.1, rel=0.02)
