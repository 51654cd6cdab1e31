"""Benchmark suites, runner, machine metadata and reports (layer 7 of DESIGN.md).

``fastfact bench --suite quick`` runs :func:`run_suite` on :func:`load_suite("quick")
<load_suite>`; ``fastfact report RUN`` calls :func:`write_report`.
"""

from fastfact.bench.report import ReportError, write_report
from fastfact.bench.runner import BenchError, run_suite
from fastfact.bench.suite import Suite, SuiteError, load_suite, shipped_suites

__all__ = [
    "BenchError",
    "ReportError",
    "Suite",
    "SuiteError",
    "load_suite",
    "run_suite",
    "shipped_suites",
    "write_report",
]
