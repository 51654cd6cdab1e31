"""Every way to apply a transform or to factorize a target, behind one protocol (layer 6).

fastfact's own apply and factorization methods and every peer it is compared against are
members of one registry (:func:`get`, :func:`names`, :func:`implementations`), each following
the protocol of :class:`Implementation`: ``unavailable_reason()``, ``check_options(options)``,
``warm_up(case)``, ``prepare(case)`` → a timed ``run()`` and an untimed ``outcome()``. Peers
whose package is not installed stay registered and say why they cannot run: they are reported
as absent, never replaced.

One module per family; adding a peer is one small module that subclasses
:class:`Implementation` and calls :func:`register`, imported below.

Examples
--------
>>> import numpy as np
>>> import fastfact as ff
>>> from fastfact import impls
>>> case = impls.ApplyCase("hadamard", ff.hadamard(4), np.eye(4)[:, :1])
>>> prepared = impls.get("apply", "numpy-fwht").prepare(case)
>>> prepared.run()
array([[1.],
       [1.],
       [1.],
       [1.]])
>>> impls.get("apply", "numpy-fwht").layout
'columns'
"""

from fastfact.impls import (  # noqa: F401  (they register)
    bmm,
    dense,
    faust,
    fft,
    fwht,
    native,
    optimum,
    sparse,
)
from fastfact.impls._protocol import (
    ANY_TRANSFORM,
    ApplyCase,
    FactorizeCase,
    Implementation,
    OptionError,
    Outcome,
    Prepared,
    PreparedApply,
    PreparedFactorization,
    peak_bytes,
)
from fastfact.impls._registry import KINDS, get, implementations, names, register, status

__all__ = [
    "ANY_TRANSFORM",
    "KINDS",
    "ApplyCase",
    "FactorizeCase",
    "Implementation",
    "OptionError",
    "Outcome",
    "Prepared",
    "PreparedApply",
    "PreparedFactorization",
    "get",
    "implementations",
    "names",
    "peak_bytes",
    "register",
    "status",
]
