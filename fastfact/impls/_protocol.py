"""The protocol every implementation follows: cases in, a prepared run out, an outcome after.

An :class:`Implementation` is asked, in this order: :meth:`~Implementation.unavailable_reason`
(can it run here?), :meth:`~Implementation.check_options` (when a suite loads),
:meth:`~Implementation.warm_up` (once per kind of case, untimed), then
:meth:`~Implementation.prepare` for each case. The :class:`Prepared` object it returns has a
``run()`` that does the timed work and nothing else, and an ``outcome()`` that reports, untimed,
what the run produced (:class:`Outcome`). Peak memory is measured by :func:`peak_bytes`, in a
separate call of ``run()`` under ``tracemalloc``, never in a timed one.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import sys
import tracemalloc
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

__all__ = [
    "ANY_TRANSFORM",
    "ApplyCase",
    "FactorizeCase",
    "Implementation",
    "OptionError",
    "Outcome",
    "Prepared",
    "PreparedApply",
    "PreparedFactorization",
    "import_quietly",
    "peak_bytes",
    "quiet_stdout",
]

ANY_TRANSFORM = "*"
LAYOUTS = ("columns", "rows")


class OptionError(ValueError):
    """An option an implementation does not accept, or a value it rejects.

    Attributes
    ----------
    option : str or None
        The offending option, when one is to blame.
    """

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class ApplyCase:
    """Apply ``op`` to the batch ``X``: what an apply implementation is prepared for.

    Attributes
    ----------
    transform : str
        Name of the transform ``op`` represents (``"hadamard"``, ``"dft"``, …): a specialised
        library computes it from its own definition, not from ``op``.
    op : KSOperator
        The operator (fastfact's form of the transform).
    X : numpy.ndarray, shape (N, batch)
        The input, C-contiguous.
    threads : int
        Threads the implementation may use.
    options : dict
        The implementation's options (checked by ``check_options``).
    """

    transform: str
    op: object
    X: np.ndarray
    threads: int = 1
    options: dict = field(default_factory=dict)

    def rows(self) -> np.ndarray:
        """``X`` as a C-contiguous ``(batch, N)`` copy: every signal contiguous."""
        return np.ascontiguousarray(self.X.T)

    def for_timing(self) -> ApplyCase:
        """The case timed after the checked run: the same one."""
        return self

    def warm_key(self) -> tuple:
        """What a warm-up depends on: transform, dtypes, batch size, options."""
        return (self.transform, self.op.dtype.str, self.X.dtype.str, self.X.shape[1],
                repr(sorted(self.options.items())))


@dataclass(frozen=True)
class FactorizeCase:
    """Approximate ``A`` by a product of factors supported on ``chain``.

    Attributes
    ----------
    A : numpy.ndarray
        The target matrix.
    chain : tuple of Pattern
        Supports ``π_0 … π_{L−1}``.
    perm : None, str or numpy.ndarray
        Column permutation (``op @ x == B @ x[perm]``), ``"bitrev"`` or ``"search"``.
    seed : int
        Seed of random starts.
    threads : int
        Threads the implementation may use.
    options : dict
        The implementation's options (checked by ``check_options``).
    certificate : bool or str
        Whether an implementation that can certify its error does so, and how (fastfact's
        ``factorize(certificate=...)``: "full" gives ``max_s E_s`` and, where proved, an upper
        bound; False for timed runs).
    """

    A: np.ndarray
    chain: tuple
    perm: object = None
    seed: int = 0
    threads: int = 1
    options: dict = field(default_factory=dict)
    certificate: bool | str = "full"

    def for_timing(self) -> FactorizeCase:
        """The case timed after the checked run: no certificate (the peers compute none)."""
        return replace(self, certificate=False)

    def warm_key(self) -> tuple:
        """What a warm-up depends on: dtype, shape, chain, kind of perm, options."""
        perm = self.perm if self.perm is None or isinstance(self.perm, str) else "array"
        return (self.A.dtype.str, self.A.shape, tuple(self.chain), perm,
                repr(sorted(self.options.items())), self.certificate)


@dataclass(frozen=True)
class Outcome:
    """What a prepared run produced, reported after it (untimed).

    Attributes
    ----------
    output : numpy.ndarray
        Apply: ``Y`` in the ``(N, batch)`` orientation of ``op @ X``. Factorize: the dense
        product of the factors, permutation included.
    reported_error : float, optional
        The relative error the implementation reports about itself (checked against the one
        recomputed from ``output``).
    lower_bound : float, optional
        A certified lower bound on the relative error of any factorization on the chain.
    upper_bound : float, optional
        A proved upper bound on the relative error of this result (fastfact's orthonormalized
        comb trees, docs/algorithms.md §4.6).
    seconds : float, optional
        The implementation's own timing of the call (validation excluded), if it keeps one.
    """

    output: np.ndarray
    reported_error: float | None = None
    lower_bound: float | None = None
    upper_bound: float | None = None
    seconds: float | None = None


class Prepared:
    """A case with all setup done: ``run()`` is the timed work, ``outcome()`` reports it."""

    def run(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def outcome(self) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError


class PreparedApply(Prepared):
    """An apply: ``run`` is the call itself; ``outcome()`` calls it again, untimed.

    Parameters
    ----------
    call : callable
        ``call()`` transforms the prepared batch and returns the output.
    orientation : {"columns", "rows"}
        Shape of the output of ``call``: ``(N, batch)`` or ``(batch, N)``.
    """

    def __init__(self, call: Callable[[], object], orientation: str = "columns"):
        if orientation not in LAYOUTS:
            raise ValueError(f"orientation must be one of {LAYOUTS}, got {orientation!r}")
        self.run = call
        self._orientation = orientation

    def outcome(self) -> Outcome:
        output = np.array(self.run())  # a copy: some libraries reuse their output buffer
        return Outcome(output.T if self._orientation == "rows" else output)


class PreparedFactorization(Prepared):
    """A factorization: ``run()`` calls it and keeps the result for ``outcome()``.

    Parameters
    ----------
    call : callable
        ``call()`` factorizes and returns the implementation's own result object.
    describe : callable
        ``describe(result) -> Outcome``.
    """

    def __init__(self, call: Callable[[], object], describe: Callable[[object], Outcome]):
        self._call, self._describe = call, describe
        self._result = None

    def run(self) -> None:
        self._result = self._call()

    def outcome(self) -> Outcome:
        if self._result is None:
            raise RuntimeError("outcome() reports a run: call run() first")
        return self._describe(self._result)


def peak_bytes(run: Callable[[], object]) -> int:
    """Peak bytes allocated through Python and numpy by one ``run()`` (``tracemalloc``).

    For a separate, untimed call: the tracer slows allocation-heavy code several times.
    """
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Implementation:
    """One way to apply a transform or to factorize a target.

    Subclasses set the class attributes and define :meth:`prepare`; options are declared in
    ``options`` (name → validator raising on a bad value) unless :meth:`check_options` is
    overridden.

    Attributes
    ----------
    name : str
        Registry name, as suites write it.
    kind : {"apply", "factorize"}
        What it does.
    summary : str
        One line for reports.
    impl : str
        Value of the ``impl`` column of its rows (``"fastfact"`` for fastfact's own; a peer's
        name otherwise). Defaults to ``name``.
    distribution : str or None
        Distribution (pip) name of the package doing the work; its version is reported.
    module : str or None
        Module whose import tells whether the implementation can run here (None: always).
    transforms : tuple of str
        Apply: the transforms it computes (``"*"``: any KS operator).
    layout : {"columns", "rows", ""}
        Apply: the batch layout it is given (``"columns"``: ``X`` of shape ``(N, batch)`` in C
        order, the batch contiguous; ``"rows"``: every signal contiguous, ``(batch, N)`` in C
        order or equivalently ``(N, batch)`` in Fortran order). Empty for factorizations.
    options : mapping of str to callable
        Accepted options and their validators.
    variants : mapping of str to dict, optional
        Named option sets the asv suites track (default: the implementation with no options).
    """

    name: str = ""
    kind: str = ""
    summary: str = ""
    impl: str | None = None
    distribution: str | None = "numpy"
    module: str | None = None
    transforms: tuple[str, ...] = ()
    layout: str = ""
    options: ClassVar[Mapping[str, Callable[[object], object]]] = {}
    variants: ClassVar[Mapping[str, dict] | None] = None

    def __init__(self):
        self._warmed: set = set()

    @property
    def row_impl(self) -> str:
        """The ``impl`` column of this implementation's rows."""
        return self.impl or self.name

    def unavailable_reason(self) -> str | None:
        """Why it cannot run here (``"<package> not installed (…)"``), or None."""
        if self.module is None:
            return None
        try:
            import_quietly(self.module)
        except ImportError as exc:
            return f"{self.distribution} not installed ({exc})"
        return None

    def version(self) -> str | None:
        """Version of the package behind it, or None when absent or unknown."""
        if self.distribution is None or self.unavailable_reason() is not None:
            return None
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    def computes(self, transform: str) -> bool:
        """Whether this apply implementation computes ``transform``."""
        return ANY_TRANSFORM in self.transforms or transform in self.transforms

    def check_options(self, options: Mapping) -> None:
        """Raise :class:`OptionError` for an unknown option or a value the validator rejects."""
        for key, value in options.items():
            if key not in self.options:
                accepted = ", ".join(sorted(self.options)) or "none"
                raise OptionError(f"{self.name} has no option {key!r}; accepted: {accepted}", key)
            try:
                self.options[key](value)
            except (TypeError, ValueError) as exc:
                raise OptionError(f"{self.name}: {exc}", key) from None

    def tracked_variants(self) -> dict[str, dict]:
        """``label -> options`` of the cases the asv suites track."""
        return dict(self.variants) if self.variants is not None else {self.name: {}}

    def warm_up(self, case) -> None:
        """Compile, plan and fill caches on a tiny ``case``, once per :meth:`warm_key`."""
        key = case.warm_key()
        if key in self._warmed:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # about the tiny case, not the task's
            self.prepare(case).run()
        self._warmed.add(key)

    def prepare(self, case) -> Prepared:  # pragma: no cover - interface
        """All setup for ``case`` (untimed); the returned object's ``run()`` is timed."""
        raise NotImplementedError

    def status(self) -> dict:
        """``{"name", "kind", "impl", "layout", "available", "version", "reason", "summary"}``."""
        reason = self.unavailable_reason()
        return {"name": self.name, "kind": self.kind, "impl": self.row_impl,
                "layout": self.layout, "available": reason is None, "version": self.version(),
                "reason": reason, "summary": self.summary}


def import_quietly(module: str):
    """Import ``module`` with its import-time warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


@contextlib.contextmanager
def quiet_stdout():
    """Silence what compiled libraries print on file descriptor 1 (pyfaust's progress)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (some test runners): nothing to silence
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
