"""Running one task of a suite and turning it into result rows.

A task is a JSON-able dict made by :mod:`fastfact.bench.suite`; :func:`execute` runs it and
returns its rows (dicts keyed by :data:`fastfact.bench.results.COLUMNS`). Any exception
becomes one ``status=error`` row, so a sweep never stops on a failing task. Tasks are
self-contained so that they can run in a joblib worker or on a Dask worker.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
import warnings

import numpy as np

from fastfact._validation import double_precision, set_workers
from fastfact.bench import workloads
from fastfact.bench.timing import calibrate, time_interleaved
from fastfact.peers import PeerApply, PeerFactorization, get_peer

__all__ = ["certificate_floor", "execute", "mismatch_tolerance", "solver_call"]

WARM_UP_N = 16  # JIT warm-up size: a power of two and a square (butterfly and monarch)
_warmed: set = set()


def mismatch_tolerance(dtype) -> float:
    """Relative error above which an implementation's output is flagged as wrong."""
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-9


def certificate_floor(dtype) -> float:
    """Lower bounds below this are round-off: their ratio to an error says nothing."""
    return 100 * float(np.finfo(np.dtype(dtype)).eps)


def _relative_error(approximation, exact) -> float:
    exact = np.asarray(exact, dtype=np.result_type(exact, np.float64))
    return float(np.linalg.norm(np.asarray(approximation) - exact) / np.linalg.norm(exact))


def _base_row(task: dict) -> dict:
    return {
        "kind": task["kind"], "target": task.get("transform", task.get("target")),
        "chain": task.get("chain", "butterfly"), "N": task["N"], "batch": task.get("batch"),
        "dtype": task["dtype"], "noise": task.get("noise"),
        "noise_model": task.get("noise_model"), "seed": task["seed"],
        "threads": task["threads"],
    }


@contextlib.contextmanager
def _pinned_threads(threads: int):
    """Numba (``set_workers``) and BLAS (threadpoolctl) limited to ``threads``."""
    from threadpoolctl import threadpool_limits

    with set_workers(threads), threadpool_limits(limits=threads):
        yield


def _random_batch(N: int, batch: int, dtype, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, batch))
    if np.dtype(dtype).kind == "c":
        X = X + 1j * rng.standard_normal((N, batch))
    return np.ascontiguousarray(X.astype(dtype))


def _status(rel_error, dtype) -> tuple[str, str]:
    if rel_error is not None and not rel_error <= mismatch_tolerance(dtype):
        return "mismatch", f"output differs from the exact result (relative error {rel_error:.3g})"
    return "ok", ""


def _timing_rows(base, seconds, numbers, reference, details) -> list[dict]:
    """Rows of a timed comparison: one per implementation and repeat, with paired ratios."""
    rows = []
    for name, samples in seconds.items():
        for repeat, value in enumerate(samples):
            rows.append({
                **base, **details[name], "repeat": repeat, "number": numbers[name],
                "seconds": value, "reference": reference,
                "time_ratio": seconds[reference][repeat] / value,
            })
    return rows


def _problem_rows(base, problems) -> list[dict]:
    return [{**base, **details, "status": status, "error": message}
            for status, message, details in problems]


# ---------------------------------------------------------------------------- apply
def _run_apply(task: dict) -> list[dict]:
    transform = workloads.lookup(workloads.TRANSFORMS, "transform", task["transform"])
    dtype = workloads.working_dtype(task["dtype"], transform.complex_values)
    N, batch = task["N"], task["batch"]
    op = transform.build(N, dtype, task["seed"])
    X = _random_batch(N, batch, task["dtype"], task["seed"])
    exact = transform.reference(op, X.astype(double_precision(X.dtype)))
    base = {**_base_row(task), "method": "apply", "flops": op.flops(batch)}
    prepared = {"fastfact": PeerApply(lambda: op @ X)}
    details = {"fastfact": {"impl": "fastfact"}}
    problems = []
    with _pinned_threads(task["threads"]):
        tiny = transform.build(WARM_UP_N, dtype, 0)
        tiny @ _random_batch(WARM_UP_N, batch, task["dtype"], 0)  # JIT compile, untimed
        for name in task["peers"]:
            peer = get_peer(name)
            reason = peer.unavailable_reason()
            if reason:
                problems.append(("absent", reason, {"impl": name}))
                continue
            try:
                prepared[name] = peer.prepare(transform.name, op, X, task["threads"])
            except Exception as exc:
                problems.append(("error", f"{type(exc).__name__}: {exc}", {"impl": name}))
        for name in list(prepared):
            try:
                output = prepared[name].output_columns(prepared[name].run())
            except Exception as exc:
                if name == "fastfact":
                    raise
                problems.append(("error", f"{type(exc).__name__}: {exc}", {"impl": name}))
                del prepared[name]
                continue
            rel_error = None if exact is None else _relative_error(output, exact)
            status, message = _status(rel_error, dtype)
            details[name] = {"impl": name, "rel_error": rel_error, "status": status,
                             "error": message}
        runs = {name: p.run for name, p in prepared.items()}
        numbers = {name: calibrate(run, task["min_seconds"]) for name, run in runs.items()}
        seconds = time_interleaved(runs, numbers, task["repeats"])
    return _timing_rows(base, seconds, numbers, "fastfact", details) + \
        _problem_rows(base, problems)


# ---------------------------------------------------------------------------- factorize
def solver_call(solver: dict, A, chain, perm, seed: int, threads: int,
                 certificate: bool = True):
    """A zero-argument callable running ``solver`` on ``A`` (fastfact method or peer).

    ``certificate=False`` skips fastfact's lower-bound computation (timed runs: peers do not
    compute one either).
    """
    options = solver["options"]
    if solver["impl"] == "fastfact":
        from fastfact.factorize import factorize

        options = {"certificate": certificate, **options}
        return lambda: factorize(A, chain, method=solver["name"], perm=perm, random_state=seed,
                                 workers=threads, **options)
    peer = get_peer(solver["name"])
    return lambda: peer.factorize(A, chain, perm=perm, seed=seed, **options)


def _outcome(result, A, dtype) -> dict:
    """Error, certificate and the solver's own time, checked against the target ``A``."""
    if isinstance(result, PeerFactorization):
        approximation, lower_bound = result.approximation, None
    else:
        approximation, lower_bound = result.operator.to_dense(), result.lower_bound
    rel_error = _relative_error(approximation, A)
    outcome = {"rel_error": rel_error, "lower_bound": lower_bound,
               "bound_ratio": (rel_error / lower_bound
                               if lower_bound and lower_bound > certificate_floor(dtype)
                               else None),
               "solver_seconds": result.seconds, "status": "ok", "error": ""}
    if not isinstance(result, PeerFactorization) and not np.isclose(
            result.rel_error, rel_error, rtol=1e-6, atol=certificate_floor(dtype)):
        outcome["status"] = "mismatch"
        outcome["error"] = (f"reported rel_error {result.rel_error:.6g} differs from the "
                            f"product's {rel_error:.6g}")
    return outcome


def _problem(task: dict):
    target = workloads.lookup(workloads.TARGETS, "target", task["target"])
    chain = workloads.lookup(workloads.CHAINS, "chain", task["chain"])(task["N"])
    A = workloads.build_target(target, task["N"], task["seed"], task["noise"],
                               task["noise_model"], task["dtype"])
    perm = {None: target.perm, "none": None}.get(task["perm"], task["perm"])
    return target, chain, A, perm


def _warm_up(task: dict, solver: dict, target, perm):
    """Compile a fastfact method's kernels on a tiny target, once per process."""
    key = (solver["name"], task["chain"], task["dtype"], task["target"])
    if solver["impl"] != "fastfact" or key in _warmed:
        return
    N = min(WARM_UP_N, task["N"])
    chain = workloads.CHAINS[task["chain"]](N)
    A = workloads.build_target(target, N, 0, 0.0, task["noise_model"], task["dtype"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # about the warm-up problem, not the task's
        solver_call(solver, A, chain, perm, 0, task["threads"])()
    _warmed.add(key)


def _solver_details(solver: dict) -> dict:
    return {"impl": solver["impl"], "method": solver["label"]}


def _run_factorize(task: dict) -> list[dict]:
    (solver,) = task["solvers"]
    base = {**_base_row(task), **_solver_details(solver)}
    if solver["impl"] != "fastfact":
        reason = get_peer(solver["name"]).unavailable_reason()
        if reason:
            return [{**base, "status": "absent", "error": reason}]
    target, chain, A, perm = _problem(task)
    with _pinned_threads(task["threads"]):
        _warm_up(task, solver, target, perm)
        call = solver_call(solver, A, chain, perm, task["seed"], task["threads"])
        tracemalloc.start()
        try:
            start = time.perf_counter()
            result = call()
            wall = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    outcome = _outcome(result, A, task["dtype"])
    return [{**base, "repeat": 0, "number": 1, "seconds": outcome.pop("solver_seconds"),
             "wall_seconds": wall, "peak_bytes": peak, **outcome}]


def _run_factorize_time(task: dict) -> list[dict]:
    base = _base_row(task)
    target, chain, A, perm = _problem(task)
    runs, details, problems = {}, {}, []
    with _pinned_threads(task["threads"]):
        for solver in task["solvers"]:
            label = solver["label"]
            if solver["impl"] != "fastfact":
                reason = get_peer(solver["name"]).unavailable_reason()
                if reason:
                    problems.append(("absent", reason, _solver_details(solver)))
                    continue
            try:
                _warm_up(task, solver, target, perm)
                call = solver_call(solver, A, chain, perm, task["seed"], task["threads"])
                outcome = _outcome(call(), A, task["dtype"])
                runs[label] = solver_call(solver, A, chain, perm, task["seed"],
                                           task["threads"], certificate=False)
            except Exception as exc:
                problems.append(("error", f"{type(exc).__name__}: {exc}",
                                 _solver_details(solver)))
                runs.pop(label, None)
                continue
            outcome.pop("solver_seconds")
            details[label] = {**_solver_details(solver), **outcome}
        if not runs:
            return _problem_rows(base, problems)
        numbers = {label: calibrate(run, task["min_seconds"]) for label, run in runs.items()}
        seconds = time_interleaved(runs, numbers, task["repeats"])
    fastfact_labels = [label for label in runs if details[label]["impl"] == "fastfact"]
    reference = fastfact_labels[0] if fastfact_labels else next(iter(runs))
    return _timing_rows(base, seconds, numbers, reference, details) + \
        _problem_rows(base, problems)


_RUNNERS = {"apply": _run_apply, "factorize": _run_factorize,
            "factorize_time": _run_factorize_time}


def execute(task: dict) -> list[dict]:
    """Run one task; its rows, or a single ``status=error`` row if it raised.

    Parameters
    ----------
    task : dict
        A task of :attr:`fastfact.bench.suite.Suite.tasks`.

    Returns
    -------
    list of dict
        Result rows, each with the task id, the number of rows of the task (``task_rows``,
        used by ``--resume`` to recognise finished tasks) and the warnings the task raised
        (e.g. a ``ConvergenceWarning``), which are recorded instead of printed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = _run_capturing_errors(task)
    messages = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    for row in rows:
        row.setdefault("status", "ok")
        row.update(task=task["id"], task_rows=len(rows), warnings="; ".join(messages))
    return rows


def _run_capturing_errors(task: dict) -> list[dict]:
    try:
        return _RUNNERS[task["kind"]](task)
    except Exception as exc:
        solvers = task.get("solvers", [])
        method = ", ".join(s["label"] for s in solvers) or "apply"
        impl = solvers[0]["impl"] if len(solvers) == 1 else "fastfact"
        return [{**_base_row(task), "impl": impl, "method": method, "status": "error",
                 "error": f"{type(exc).__name__}: {exc}"}]
