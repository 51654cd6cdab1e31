"""The ratio script on a tiny grid: every side checked against fastfact, one table row each."""

import numba
import pytest

import fastfact as ff
from tests.benchmarks import ratio_grid as grid
from tests.benchmarks import ratios


def _table(groups):
    lines = []
    for group in groups:
        times = ratios.time_interleaved(group.sides, repeats=1, min_seconds=0.0, timer=group.timer)
        assert set(times) == set(group.sides) and min(times.values()) > 0
        lines += ratios.table_rows(group, times)
    return lines


def test_every_section_gives_checked_rows_with_a_verdict():
    pytest.importorskip("fht_cpu")
    pytest.importorskip("ducc0")
    groups = [*grid.transform_groups("hadamard", [16], [1, 4]),
              *grid.transform_groups("dft", [16], [4]),
              *grid.butterfly_groups([16], [1, 64]),
              *grid.large_block_groups(["vit-like (1,48,48,16)(16,48,48,1)"], 4)]
    lines = _table(groups)
    # hadamard: 2 dtypes × 2 batches × fht-cpu; dft: 2 dtypes × (ducc0, scipy-fft);
    # butterfly B=1: 2 vs-hadamard rows, B=64: 2 + 2 sparse + f32-vs-f64; large block: 1
    assert len(lines) == 4 + 4 + 2 + 5 + 1
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == 5, line
        assert float(cells[3]) > 0
        assert cells[4].endswith(("meets", "floor only", "misses")), line


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_thread_rows_compare_two_threads_with_one():
    (line,) = _table(grid.thread_groups([("hadamard float64 N=2^12", ff.hadamard(2**12), 64)]))
    assert "2 threads" in line and "1 thread" in line


def test_thread_rows_refuse_work_below_the_parallel_threshold():
    with pytest.raises(ValueError, match="below 2"):
        list(grid.thread_groups([("small", ff.hadamard(16), 4)]))


def test_bounds_name_the_verdict():
    assert ratios._bound_text(0.7, grid.FHT_BOUND).endswith("meets")
    assert ratios._bound_text(0.5, grid.FHT_BOUND).endswith("floor only")
    assert ratios._bound_text(0.3, grid.FHT_BOUND).endswith("misses")
    assert ratios._bound_text(0.9, grid.SCIPY_FFT_BOUND).endswith("misses")
