"""``KSOperator.save``/``load``: exact round trips, atomic writes, and files checked before reading.

``load`` reads the ``.npy`` headers of the members of the ``.npz`` first (names, shapes, dtypes)
and refuses anything a file written by ``save`` would not hold, before any array data is
decompressed: a small file cannot make it allocate much.
"""

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

from fastfact import KSOperator, Pattern, dft, random_butterfly
from fastfact import _validation as validation


def members(op: KSOperator, folder) -> dict:
    """The arrays a saved ``op`` holds, read back with numpy."""
    path = folder / "members.npz"
    op.save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    path.unlink()
    return arrays


def npy_header(shape, dtype=np.float64) -> bytes:
    """The ``.npy`` magic and header of an array of ``shape`` and ``dtype``."""
    out = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue()


def write_npz(path, arrays: dict, bombs: dict = ()):
    """An ``.npz`` of ``arrays`` plus members of compressed zeros: ``bombs[name] = shape``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array))
            archive.writestr(f"{name}.npy", buffer.getvalue())
        for name, shape in dict(bombs).items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                member.write(npy_header(shape))
                chunk = bytes(1 << 24)
                left = int(np.prod(shape)) * 8
                while left:
                    member.write(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))


def load_peak(path) -> tuple[object, int]:
    """``KSOperator.load(path)`` (or the exception it raised) and the peak bytes it traced."""
    tracemalloc.start()
    try:
        try:
            result = KSOperator.load(path)
        except Exception as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BOMB = (1 << 23,)  # 64 MiB of zeros, about 64 KiB compressed


@pytest.fixture
def saved_arrays(tmp_path):
    return members(random_butterfly(8, seed=0), tmp_path)


def test_an_extra_member_is_refused_before_anything_is_read(tmp_path, saved_arrays):
    path = tmp_path / "extra.npz"
    write_npz(path, saved_arrays, bombs={"payload": BOMB})
    assert path.stat().st_size < 1 << 20
    error, peak = load_peak(path)
    assert isinstance(error, ValueError)
    assert "unexpected member 'payload'" in str(error) and "extra.npz" in str(error)
    assert peak < 1 << 20


def test_a_twiddle_of_the_wrong_shape_is_refused_from_its_header(tmp_path, saved_arrays):
    arrays = {k: v for k, v in saved_arrays.items() if k != "twiddle_1"}
    path = tmp_path / "shape.npz"
    write_npz(path, arrays, bombs={"twiddle_1": BOMB})
    error, peak = load_peak(path)
    assert isinstance(error, ValueError)
    assert "twiddle_1 has shape (8388608,); expected (2, 2, 2, 2)" in str(error)
    assert peak < 1 << 20


@pytest.mark.parametrize(("member", "value", "message"), [
    ("perm", np.arange(8.0), "perm has dtype float64; expected an integer dtype"),
    ("perm", np.arange(4), r"perm has shape \(4,\); expected \(8,\)"),
    ("twiddle_0", np.ones((1, 4, 2, 2), dtype=np.int64), "twiddle_0 has dtype int64; expected one of"),
    ("twiddle_0", np.array(["a"] * 16).reshape(1, 4, 2, 2), "twiddle_0 has dtype <U1"),
    ("patterns", np.ones((3, 3), dtype=np.int64), r"patterns has shape \(3, 3\); expected \(3, 4\)"),
    ("patterns", np.ones((2, 4), dtype=np.int64), "unexpected member 'twiddle_2': the file has 2 patterns"),
    ("patterns", np.ones((3, 4)), "patterns has dtype float64; expected an integer dtype"),
    ("format_version", np.array([1, 1]), r"format_version has shape \(2,\); expected \(\)"),
    ("finite", np.array(1.0), "finite has dtype float64; expected bool"),
])
def test_members_are_checked_by_name_dtype_and_shape(tmp_path, saved_arrays, member, value, message):
    path = tmp_path / "bad.npz"
    write_npz(path, {**saved_arrays, member: value, "perm": np.arange(8)} if member != "perm"
              else {**saved_arrays, member: value})
    with pytest.raises(ValueError, match=message):
        KSOperator.load(path)


def test_a_member_shorter_than_its_header_says_is_refused(tmp_path, saved_arrays):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in saved_arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            data = buffer.getvalue()
            archive.writestr(f"{name}.npy", data[:-8] if name == "twiddle_2" else data)
    with pytest.raises(ValueError, match="twiddle_2 holds 120 bytes of data but its header says 128"):
        KSOperator.load(path)


def test_duplicate_members_are_refused(tmp_path, saved_arrays):
    path = tmp_path / "twice.npz"
    write_npz(path, saved_arrays)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("twiddle_0.npy", b"")
    with pytest.raises(ValueError, match="member 'twiddle_0' appears twice"):
        KSOperator.load(path)


def test_an_operator_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "op.npz"
    dft(1024).save(path)
    monkeypatch.setattr(validation, "MEMORY_CHECK_FLOOR", 0)
    monkeypatch.setattr(validation, "available_memory", lambda: (1000, 2000))
    with pytest.raises(MemoryError, match=r"KSOperator.load\('.*op.npz'\) needs about 6\d\d KiB of "
                                          r"memory, but this machine has 1000 B available"):
        KSOperator.load(path)


def test_a_compressed_file_loads(tmp_path):
    op = random_butterfly(16, dtype=np.complex64, seed=1)
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **members(op, tmp_path))
    loaded = KSOperator.load(path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.twiddles, op.twiddles))


# ---------------------------------------------------------------------------- save
def failing_write(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_a_failed_save_leaves_no_temporary_file_and_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "op.npz"
    old = random_butterfly(8, seed=0)
    old.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="No space left on device"):
        random_butterfly(8, seed=1).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["op.npz"]
    assert path.read_bytes() == before


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError):
        random_butterfly(8, seed=1).save(tmp_path / "new.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_the_file_name_and_the_umask(tmp_path):
    path = tmp_path / "operator"  # no .npz suffix is added
    random_butterfly(4, seed=0).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["operator"]
    assert KSOperator.load(path).shape == (4, 4)
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    assert path.stat().st_mode == reference.stat().st_mode


# ---------------------------------------------------------------------------- finiteness
def with_nan(op: KSOperator) -> KSOperator:
    twiddles = [t.copy() for t in op.twiddles]
    twiddles[1][0, 0, 1, 0] = np.nan
    return KSOperator(twiddles, op.patterns, perm=op.perm, check_finite=False)


def test_an_operator_built_with_check_finite_false_round_trips(tmp_path):
    op = with_nan(random_butterfly(8, seed=0))
    path = tmp_path / "nan.npz"
    op.save(path)
    loaded = KSOperator.load(path)
    for a, b in zip(loaded.twiddles, op.twiddles):
        assert np.array_equal(a, b, equal_nan=True)
    finite = KSOperator(random_butterfly(8, seed=0).twiddles, random_butterfly(8, seed=0).patterns,
                        check_finite=False)
    finite.save(path)
    assert KSOperator.load(path).dtype == np.float64


def test_nan_twiddles_load_only_from_a_file_saved_from_such_an_operator(tmp_path):
    op = random_butterfly(8, seed=0)
    arrays = members(op, tmp_path)
    assert bool(arrays["finite"])  # save records that the twiddles were finite
    arrays["twiddle_1"] = members(with_nan(op), tmp_path)["twiddle_1"]
    path = tmp_path / "tampered.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"twiddles\[1\] contains NaN or Inf"):
        KSOperator.load(path)
    del arrays["finite"]  # a file of an earlier fastfact: finite twiddles, always checked
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"twiddles\[1\] contains NaN or Inf"):
        KSOperator.load(path)


def test_derived_operators_round_trip(tmp_path):
    op = KSOperator([np.arange(12.0).reshape(1, 2, 3, 2), np.ones((2, 1, 2, 2))],
                    [Pattern(1, 3, 2, 2), Pattern(2, 2, 2, 1)], out_perm=[2, 0, 1, 5, 4, 3])
    for derived in (op.T, op.H, op.astype(np.complex64)):
        path = tmp_path / "derived.npz"
        derived.save(path)
        assert np.array_equal(KSOperator.load(path).to_dense(), derived.to_dense())


def test_values_the_operator_refuses_are_reported_with_the_file(tmp_path, saved_arrays):
    path = tmp_path / "repeats.npz"
    np.savez(path, **saved_arrays, perm=np.zeros(8, dtype=np.int64))
    with pytest.raises(ValueError, match=r"repeats.npz' holds no valid KSOperator: perm must be a "
                                         r"permutation of range\(8\)"):
        KSOperator.load(path)


def test_a_member_without_the_npy_suffix_is_unexpected(tmp_path, saved_arrays):
    path = tmp_path / "bare.npz"
    write_npz(path, saved_arrays)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("finite", b"")
    with pytest.raises(ValueError, match="unexpected member 'finite'"):
        KSOperator.load(path)
