"""Benchmark suites, runner, machine metadata and reports (layer 7 of docs/architecture.md).

``fastfact bench --suite quick`` runs :func:`run_suite` on :func:`load_suite("quick")
<load_suite>`; ``fastfact report RUN`` calls :func:`write_report`.

The names below are loaded on first use (module ``__getattr__``), so that importing one
submodule, e.g. ``fastfact.bench.machine``, does not load pandas, matplotlib or the runner.
"""

import importlib

_HOMES = {
    "BenchError": "runner",
    "ReportError": "report",
    "Suite": "suite",
    "SuiteError": "suite",
    "load_suite": "suite",
    "run_suite": "runner",
    "shipped_suites": "suite",
    "write_report": "report",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
