"""Implementations that misbehave on purpose (absent, crashing, hanging, exiting), for tests
of the runner's isolation.

Tasks run in worker processes, which build their own registry: the ``fake_peers`` fixture
(``tests/conftest.py``) registers these here and, through a ``sitecustomize`` module on the
workers' ``PYTHONPATH``, in every worker too. Each misbehaves only on the task's own case
(``N >= 64``), never on the tiny warm-up case.
"""

import os
import signal
import time

import numpy as np

from fastfact.impls import Implementation, Outcome, PreparedApply, PreparedFactorization
from fastfact.impls.fwht import fwht

BIG = 64


def _misbehave(how: str):
    if how == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if how == "hang":
        time.sleep(3600)
    if how == "exit":
        os._exit(7)
    if how == "sysexit":
        raise SystemExit("a peer called sys.exit")


class Ghost(Implementation):
    name = "ghost-fwht"
    kind = "apply"
    summary = "not installed here"
    distribution = module = "fastfact_no_such_package"
    transforms = ("hadamard",)
    layout = "rows"


class MisbehavingApply(Implementation):
    kind = "apply"
    transforms = ("hadamard",)
    layout = "columns"

    def __init__(self, how: str):
        super().__init__()
        self.how, self.name = how, f"{how}-fwht"

    def prepare(self, case):
        def call():
            if case.X.shape[0] >= BIG:
                _misbehave(self.how)
            return fwht(case.X)

        return PreparedApply(call)


class MisbehavingFactorize(Implementation):
    kind = "factorize"

    def __init__(self, how: str):
        super().__init__()
        self.how, self.name = how, f"{how}-factorize"

    def prepare(self, case):
        def call():
            if case.A.shape[0] >= BIG:
                _misbehave(self.how)
            return np.array(case.A)

        return PreparedFactorization(call, Outcome)


def implementations() -> list[Implementation]:
    hows = ("segfault", "hang", "exit", "sysexit")
    return [Ghost(), *(MisbehavingApply(how) for how in hows),
            *(MisbehavingFactorize(how) for how in hows)]


def register_all() -> None:
    """Add them to the registry of this process (what the workers' sitecustomize does)."""
    from fastfact.impls._registry import _REGISTRY

    for implementation in implementations():
        _REGISTRY[implementation.kind, implementation.name] = implementation
