"""Codes shared by the kernel plan and the apply kernels.

The plan (:mod:`fastfact._kernels.plan`) describes a chain to the kernels with plain int64
tables; these names say what their entries mean.

Factor forms (how a factor is stored and applied):

* ``FORM_UNIT``: radix-2 (``b = c = 2``), every 2×2 block is ``[[1, w], [1, −w]]``
  (Hadamard, DFT): one multiply per pair, only ``w`` is stored;
* ``FORM_GENERAL``: radix-2 with any 2×2 blocks, the four entries stored as planes;
* ``FORM_BLOCK``: any other ``(b, c)``: small dense blocks in loops;
* ``FORM_GEMM``: large blocks, one BLAS matrix product per ``(i, k)`` on strided views.

Columns ``F_*`` of the factor table (one row per factor, int64). Radix-2 coefficients live
in *planes*: plane ``m`` of factor ``ℓ`` (``m = 0`` is ``w`` for ``FORM_UNIT``; ``t00, t01,
t10, t11`` for ``FORM_GENERAL``) starts at ``F_PLANES + m·F_PLANE`` in the flat coefficient
array, complex planes as a real plane followed by an imaginary plane. Block ``(i, k)`` is
entry ``i·F_TW_I·(d if F_TW_K else 1) + k·F_TW_K`` of a plane: a factor whose coefficients
do not depend on ``i`` (``F_TW_I = 0``) or on ``k`` (``F_TW_K = 0``) stores one copy only
(Hadamard: one block per factor; DFT: ``d`` blocks). ``F_LANES`` locates the *lane form*
of radix-2 factors with ``d`` below the vector width (see :mod:`.radix2_rows`), and
``F_ABCD`` the ``(a, b, c, d)``-ordered copy of a ``FORM_BLOCK`` factor read by the
per-sample kernel (``F_PLANES`` then holds its ``(a, d, b, c)`` copy).
"""

FORM_UNIT = 0
FORM_GENERAL = 1
FORM_BLOCK = 2
FORM_GEMM = 3

# Pass kinds of a schedule.
PASS_RADIX2 = 0  # consecutive radix-2 factors lo..hi of a pure chain, in cache
PASS_BLOCK = 1  # one FORM_BLOCK factor
PASS_GEMM = 2  # one FORM_GEMM factor (run outside Numba)

# Buffer roles: what a pass of the batch-last schedule reads or writes.
ROLE_INPUT = 0  # the caller's input, read only
ROLE_OUTPUT = 1  # the caller's output
ROLE_WORK_A = 2  # the plan's two work buffers, for chains with non-radix-2 factors
ROLE_WORK_B = 3

# Columns of a schedule's pass table (int64, one row per pass, right-most factors first):
# kind, factors lo..hi, the roles of the buffers read and written (batch-last only), and
# whether the rows are read through the input permutation / written through the output one.
P_KIND, P_LO, P_HI, P_SRC, P_DST, P_GATHER, P_SCATTER = range(7)
N_PASS_FIELDS = 7

F_A, F_B, F_C, F_D, F_FORM, F_TW_I, F_TW_K, F_PLANES, F_PLANE, F_LANES, F_LANES_LEN, F_ABCD = range(12)
N_FIELDS = 12
