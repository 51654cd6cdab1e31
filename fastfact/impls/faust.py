"""FAµST (pyfaust): its Faust operators, its hierarchical butterfly factorization, palm4MSA.

Conventions (checked in ``tests/test_impls.py``): ``pyfaust.wht(N, normed=False)`` is
``scipy.linalg.hadamard(N)``; ``pyfaust.dft(N, normed=False)`` is the natural-order DFT (stored
as butterfly factors times a bit reversal; the default ``normed=True`` divides it by ``√N``).
FAµST's ``'right'`` butterfly peels ``B_0`` off first (our left-to-right order), ``'left'``
peels ``B_{L−1}`` first, ``'bbtree'`` is the balanced tree.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np

from fastfact._validation import check_choice, check_positive_int, double_precision
from fastfact.impls._factors import operator_factors
from fastfact.impls._protocol import (
    ANY_TRANSFORM,
    Implementation,
    Outcome,
    PreparedApply,
    PreparedFactorization,
    import_quietly,
    quiet_stdout,
)
from fastfact.impls._registry import register
from fastfact.patterns import bit_reversal, butterfly_chain

__all__ = ["PyfaustApply", "PyfaustButterfly", "PyfaustPalm4MSA"]

BUTTERFLY_TYPES = ("left", "right", "bbtree")
_PERM_NAMES = {None: None, "bitrev": "bitrev", "search": "default_8"}


class PyfaustApply(Implementation):
    """``faust @ X``: pyfaust's own WHT/DFT Fausts, else a Faust of fastfact's sparse factors."""

    name = "pyfaust"
    kind = "apply"
    summary = "FAµST Faust @ X (pyfaust.wht/dft, else fastfact's factors)"
    distribution = module = "pyfaust"
    transforms = (ANY_TRANSFORM,)
    layout = "rows"  # (N, batch) in Fortran order: every signal contiguous

    def prepare(self, case) -> PreparedApply:
        pyfaust = import_quietly("pyfaust")
        op, X = case.op, case.X
        N = op.shape[1]
        if case.transform == "hadamard" and op.dtype in (np.float32, np.float64):
            faust = pyfaust.wht(N, normed=False, dtype=str(op.dtype))
        elif case.transform == "dft" and op.dtype == np.complex128:
            faust = pyfaust.dft(N, normed=False)
        else:  # any other operator: pyfaust applies fastfact's own sparse factors
            faust = pyfaust.Faust([f.astype(op.dtype) for f in operator_factors(op)])
        operand = np.asfortranarray(X, dtype=np.result_type(faust.dtype, X.dtype))
        return PreparedApply(lambda: faust @ operand)


def _square_butterfly(chain) -> int:
    N = chain[0].shape[0]
    if tuple(chain) != butterfly_chain(N):
        raise ValueError("this peer only factorizes onto the square dyadic butterfly chain "
                         f"butterfly_chain({N}), got {list(chain)}")
    return N


def _timed_quietly(call):
    """``(result, seconds)`` of ``call()`` with FAµST's progress output silenced."""
    with quiet_stdout():
        start = time.perf_counter()
        result = call()
        return result, time.perf_counter() - start


class PyfaustButterfly(Implementation):
    """``pyfaust.fact.butterfly(A, type=…, perm=…)`` ([LZRG22] hierarchical, in C++).

    ``perm``: None, ``"bitrev"``, ``"search"`` (FAµST's ``'default_8'``) or an array with
    ``op @ x == B @ x[perm]``, passed as its inverse (FAµST wants the column indices of P).
    """

    name = "pyfaust-butterfly"
    kind = "factorize"
    summary = "pyfaust.fact.butterfly (hierarchical, FAµST)"
    distribution = "pyfaust"
    module = "pyfaust.fact"
    options: ClassVar[dict] = {"type": lambda value: check_choice("type", value, BUTTERFLY_TYPES)}

    def prepare(self, case) -> PreparedFactorization:
        self.check_options(case.options)
        _square_butterfly(case.chain)
        fact = import_quietly("pyfaust.fact")
        perm = case.perm
        if perm is None or isinstance(perm, str):
            if perm not in _PERM_NAMES:
                raise ValueError(f"perm must be None, 'bitrev', 'search' or an array, got {perm!r}")
            pyfaust_perm = _PERM_NAMES[perm]
        else:
            pyfaust_perm = [int(j) for j in np.argsort(np.asarray(perm))]
        target = np.asarray(case.A)
        if target.dtype not in (np.float32, np.float64, np.complex128):
            target = target.astype(double_precision(target.dtype))
        kind = case.options.get("type", "bbtree")

        def call():
            return _timed_quietly(lambda: fact.butterfly(target, type=kind, perm=pyfaust_perm))

        return PreparedFactorization(call, lambda r: Outcome(r[0].toarray(), seconds=r[1]))


class PyfaustPalm4MSA(Implementation):
    """palm4MSA ([LMG16]) with one fixed-support constraint per factor of the chain.

    ``perm``: None, ``"bitrev"`` or an array (``op @ x == B @ x[perm]``): FAµST factorizes
    ``A Pᵀ = A[:, perm]``.
    """

    name = "pyfaust-palm4msa"
    kind = "factorize"
    summary = "pyfaust.fact.palm4msa on the fixed supports"
    distribution = "pyfaust"
    module = "pyfaust.fact"
    options: ClassVar[dict] = {"iterations": lambda v: check_positive_int("iterations", v)}
    variants: ClassVar[dict] = {}  # not tracked by asv: ≈ 0.3 s per iteration at N = 128, 3 s at N = 512

    def prepare(self, case) -> PreparedFactorization:
        self.check_options(case.options)
        perm = case.perm
        if isinstance(perm, str):
            check_choice("perm", perm, ("bitrev",))
            perm = bit_reversal(np.shape(case.A)[1])
        fact = import_quietly("pyfaust.fact")
        proj = import_quietly("pyfaust.proj")
        factparams = import_quietly("pyfaust.factparams")
        target = np.asarray(case.A)
        if perm is not None:
            perm = np.asarray(perm)
            target = target[:, perm]
        if target.dtype not in (np.float64, np.complex128):
            target = target.astype(double_precision(target.dtype))
        constraints = [proj.supp(p.support().astype(np.float64), normalized=True)
                       for p in case.chain]
        params = factparams.ParamsPalm4MSA(
            constraints,
            factparams.StoppingCriterion(num_its=int(case.options.get("iterations", 200))),
            is_update_way_R2L=True,
        )

        def describe(result) -> Outcome:
            faust, seconds = result
            product = faust.toarray()
            return Outcome(product if perm is None else product[:, np.argsort(perm)],
                           seconds=seconds)

        return PreparedFactorization(lambda: _timed_quietly(lambda: fact.palm4msa(target, params)),
                                     describe)


for _implementation in (PyfaustApply(), PyfaustButterfly(), PyfaustPalm4MSA()):
    register(_implementation)
del _implementation
