"""The kernel plan: pass schedule with named buffer roles, reused scratch, thread safety."""

import threading
import tracemalloc

import numpy as np

from fastfact import KSOperator, Pattern, butterfly_chain, random_butterfly
from fastfact._kernels.codes import (
    P_DST,
    P_HI,
    P_KIND,
    P_LO,
    P_SRC,
    PASS_BLOCK,
    PASS_RADIX2,
    ROLE_INPUT,
    ROLE_OUTPUT,
    ROLE_WORK_A,
    ROLE_WORK_B,
)
from fastfact._kernels.plan import Plan, Scratch
from tests.naive import dense_chain

MIXED_CHAIN = [Pattern(1, 3, 2, 8), Pattern(2, 2, 2, 4), Pattern(4, 2, 2, 2), Pattern(8, 2, 2, 1),
               Pattern(16, 1, 1, 1)]


def _mixed_operator(seed=0):
    rng = np.random.default_rng(seed)
    twiddles = [rng.standard_normal(p.twiddle_shape) for p in MIXED_CHAIN]
    return KSOperator(twiddles, MIXED_CHAIN), twiddles


def test_schedule_fuses_radix2_factors_and_names_the_buffers():
    op, twiddles = _mixed_operator()
    plan = Plan(twiddles, op.patterns, np.float64)
    passes = plan.schedule(64).passes
    # Right-most first: the block factor (16,1,1,1), the radix-2 group 1..3, the block factor 0.
    assert passes[:, P_KIND].tolist() == [PASS_BLOCK, PASS_RADIX2, PASS_BLOCK]
    assert passes[:, P_LO].tolist() == [4, 1, 0]
    assert passes[:, P_HI].tolist() == [4, 3, 0]
    # The radix-2 group works in place in the buffer the first pass wrote.
    assert passes[:, P_SRC].tolist() == [ROLE_INPUT, ROLE_WORK_A, ROLE_WORK_A]
    assert passes[:, P_DST].tolist() == [ROLE_WORK_A, ROLE_WORK_A, ROLE_OUTPUT]
    assert plan.schedule(64) is plan.schedule(64)


def test_all_radix2_chain_runs_in_the_output_in_balanced_passes():
    chain = butterfly_chain(4096)
    plan = Plan([np.ones(p.twiddle_shape) for p in chain], chain, np.float64)
    passes = plan.schedule(64).passes  # 64 floats: 8 fibre rows per KiB of tile
    assert set(passes[:, P_KIND].tolist()) == {PASS_RADIX2}
    assert set(passes[:, P_DST].tolist()) == {ROLE_OUTPUT}
    sizes = (passes[:, P_HI] - passes[:, P_LO] + 1).tolist()
    assert sum(sizes) == 12 and max(sizes) - min(sizes) <= 1
    assert plan.schedule(None).passes.shape[0] == 1  # per sample: one pass, blocked inside


def test_output_permutation_keeps_the_last_pass_out_of_place():
    chain = butterfly_chain(4096)
    plan = Plan([np.ones(p.twiddle_shape) for p in chain], chain, np.float64,
                out_scatter=np.arange(4096)[::-1].copy())
    passes = plan.schedule(512).passes
    assert passes.shape[0] > 1
    assert passes[-1, P_SRC] != ROLE_OUTPUT and passes[-1, P_DST] == ROLE_OUTPUT


def test_block_passes_alternate_work_buffers():
    chain = [Pattern(1, 3, 3, 1)] * 4
    plan = Plan([np.ones(p.twiddle_shape) for p in chain], chain, np.float64)
    assert plan.schedule(16).passes[:, P_DST].tolist() == [ROLE_WORK_A, ROLE_WORK_B, ROLE_WORK_A,
                                                            ROLE_OUTPUT]


def test_scratch_lends_its_buffer_and_allocates_when_it_is_taken():
    scratch = Scratch(np.float32)
    with scratch.take(10) as first:
        assert first.shape == (10,) and first.dtype == np.float32
        with scratch.take(10) as second:  # the buffer is lent out: a fresh one
            assert not np.shares_memory(first, second)
    with scratch.take(4) as again:  # one of the two is kept and reused, though smaller
        assert np.shares_memory(again, first) or np.shares_memory(again, second)
    with scratch.take(100) as bigger:
        pass
    with scratch.take(50) as reused:  # the larger buffer is the one kept
        assert np.shares_memory(reused, bigger)


def test_second_apply_allocates_only_its_output():
    """Work buffers belong to the plan: no per-call allocation beyond the output."""
    op, _ = _mixed_operator()
    x = np.random.default_rng(0).standard_normal((16, 256))
    rows = np.ascontiguousarray(x.T)
    for run in (lambda: op @ x, lambda: op.apply_rows(rows)):
        run()
        tracemalloc.start()
        try:
            run()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= 24 * 256 * 8 + 4096


def test_threads_applying_one_operator_at_once_get_correct_results():
    op, twiddles = _mixed_operator(seed=1)
    dense = dense_chain(twiddles, MIXED_CHAIN)
    big = random_butterfly(256, seed=2)
    inputs = [np.random.default_rng(s).standard_normal((16, 64)) for s in range(4)]
    vectors = [np.random.default_rng(s).standard_normal((9, 256)) for s in range(4)]
    want_big = [v @ big.to_dense().T for v in vectors]
    errors = []
    barrier = threading.Barrier(4)

    def work(t):
        barrier.wait()
        for _ in range(50):
            if not np.allclose(op @ inputs[t], dense @ inputs[t], rtol=1e-12, atol=1e-12):
                errors.append(("cols", t))
            if not np.allclose(big.apply_rows(vectors[t]), want_big[t], rtol=1e-12, atol=1e-10):
                errors.append(("rows", t))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
