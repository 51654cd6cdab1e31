"""The hostile-user audit of fastfact (issue 11): every public function and CLI command, fed bad
and edge input, faults and concurrent use; each outcome classified (see :mod:`tests.audit.harness`).

``python -m tests.audit`` runs every case and prints the counts per outcome and the findings;
``tests/test_audit.py`` runs the fast cases in the normal test suite.
"""

from __future__ import annotations

import importlib

AREAS = ("operator", "structure", "files", "factorize", "resources", "bench", "cli")


def all_cases(slow: bool = True) -> list:
    """Every case of every area (the slow ones too unless ``slow=False``), names unique."""
    cases = []
    for area in AREAS:
        cases += list(importlib.import_module(f"tests.audit.cases_{area}").cases())
    names = [case.name for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AssertionError(f"audit case names must be unique: {duplicates}")
    return [case for case in cases if slow or not case.slow]
