"""Audit cases of ``KSOperator.save`` / ``load``: round trips, hostile files, failed writes."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import fastfact as ff
from fastfact import KSOperator
from tests.audit.harness import (
    CLEAR,
    CORRECT,
    CRYPTIC,
    DATA_LOSS,
    SILENT_WRONG,
    compute,
    custom,
    in_threads,
    refuse,
)
from tests.audit.oracles import close, dense

OPERATORS = {
    "dft64": lambda: ff.dft(64),
    "hadamard8 float32": lambda: ff.hadamard(8, dtype=np.float32),
    "random complex64": lambda: ff.random_butterfly(16, dtype=np.complex64, seed=2),
    "transposed chain": lambda: ff.random_butterfly(8, seed=1).T,
    "permuted both sides": lambda: ff.KSOperator(
        ff.random_butterfly(8, seed=3).twiddles, ff.butterfly_chain(8), perm=np.arange(8)[::-1],
        out_perm=ff.bit_reversal(8)),
    "NaN built with check_finite=False": lambda: ff.KSOperator(
        [t * np.nan for t in ff.hadamard(4).twiddles], ff.butterfly_chain(4), check_finite=False),
}


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="audit-files-"))


def _round_trip(build, name="op.npz"):
    op = build()
    path = _folder() / name
    op.save(path)
    loaded = KSOperator.load(path)
    same = (loaded.patterns == op.patterns and loaded.dtype == op.dtype
            and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(loaded.twiddles, op.twiddles))
            and np.array_equal(loaded.perm, op.perm) and np.array_equal(loaded.out_perm, op.out_perm))
    return same or "the loaded operator differs"


def _members(op) -> dict:
    path = _folder() / "m.npz"
    op.save(path)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _npz(arrays: dict, compressed=False) -> Path:
    path = _folder() / "crafted.npz"
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def _bomb(extra_name: str | None, shape=(1 << 24,)) -> Path:
    """A saved 8x8 butterfly plus a member of compressed zeros (128 MiB) under ``extra_name``."""
    arrays = _members(ff.random_butterfly(8, seed=0))
    path = _folder() / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            if name == extra_name:
                continue
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        if extra_name:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                          "shape": shape})
            with archive.open(f"{extra_name}.npy", "w", force_zip64=True) as member:
                member.write(header.getvalue())
                chunk = bytes(1 << 24)
                for _ in range(int(np.prod(shape)) * 8 // len(chunk)):
                    member.write(chunk)
    return path


def _load_cases():
    base = _members(ff.random_butterfly(8, seed=0))

    def variant(**changes):
        arrays = {**base, **changes}
        return {k: v for k, v in arrays.items() if v is not None}

    hostile = {
        "missing file": lambda: _folder() / "absent.npz",
        "a folder": _folder,
        "empty file": lambda: _write(b""),
        "text file": lambda: _write(b"hello"),
        "a .npy, not an .npz": lambda: _npy(),
        "truncated zip": lambda: _write(_npz(base).read_bytes()[:200]),
        "flipped byte in the data": lambda: _corrupt(_npz(base)),
        "other arrays": lambda: _npz({"weights": np.ones(3)}),
        "no format_version": lambda: _npz(variant(format_version=None)),
        "format_version 2": lambda: _npz(variant(format_version=np.array(2))),
        "format_version a string": lambda: _npz(variant(format_version=np.array("1"))),
        "format_version a vector": lambda: _npz(variant(format_version=np.array([1, 1]))),
        "patterns missing": lambda: _npz(variant(patterns=None)),
        "patterns float": lambda: _npz(variant(patterns=base["patterns"].astype(float))),
        "patterns 1-D": lambda: _npz(variant(patterns=base["patterns"].ravel())),
        "patterns with a zero": lambda: _npz(variant(patterns=base["patterns"] * 0)),
        "patterns negative": lambda: _npz(variant(patterns=-base["patterns"])),
        "patterns not composable": lambda: _npz(variant(patterns=base["patterns"][::-1].copy())),
        "patterns huge": lambda: _npz(variant(patterns=np.array([[1, 2**40, 2**40, 1]] * 3))),
        "twiddle missing": lambda: _npz(variant(twiddle_1=None)),
        "twiddle of wrong shape": lambda: _npz(variant(twiddle_0=np.ones(16))),
        "twiddle int": lambda: _npz(variant(twiddle_0=np.ones((1, 4, 2, 2), int))),
        "twiddle object (pickle)": lambda: _pickled(variant()),
        "twiddle NaN in a finite file": lambda: _npz(variant(twiddle_2=base["twiddle_2"] * np.nan)),
        "extra twiddle": lambda: _npz(variant(twiddle_3=np.ones((8, 1, 2, 2)))),
        "extra member": lambda: _npz(variant(notes=np.array("hi"))),
        "perm float": lambda: _npz(variant(perm=np.arange(8.0))),
        "perm wrong length": lambda: _npz(variant(perm=np.arange(4))),
        "perm not a permutation": lambda: _npz(variant(perm=np.zeros(8, int))),
        "out_perm not a permutation": lambda: _npz(variant(out_perm=np.ones(8, int))),
        "finite not bool": lambda: _npz(variant(finite=np.array(1.0))),
        "zip bomb in an extra member": lambda: _bomb("payload"),
        "a member without .npy": lambda: _bare_member(_npz(base)),
        "duplicate members": lambda: _duplicate_member(_npz(base)),
        "zip bomb as a twiddle": lambda: _bomb("twiddle_0"),
    }
    for what, make in hostile.items():
        errors = (ValueError, TypeError, FileNotFoundError, IsADirectoryError, MemoryError)
        yield refuse(f"files/load refused: {what}", lambda m=make: KSOperator.load(m()), "npz", "ksoperator",
                     "folder", errors=errors, timeout=60)
    yield compute("files/load of a compressed file", lambda: KSOperator.load(_npz(base, compressed=True)),
                  lambda got: close(got.to_dense(), ff.random_butterfly(8, seed=0).to_dense()))
    for what, path in [("None", None), ("an int", 3), ("a list", ["a.npz"])]:
        yield refuse(f"files/load(path={what})", lambda p=path: KSOperator.load(p), "path", "load")


def _bare_member(path: Path) -> Path:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("finite", b"")
    return path


def _duplicate_member(path: Path) -> Path:
    import warnings

    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        archive.writestr("twiddle_0.npy", b"")
    return path


def _write(data: bytes) -> Path:
    path = _folder() / "file.npz"
    path.write_bytes(data)
    return path


def _npy() -> Path:
    path = _folder() / "array.npz"
    with open(path, "wb") as file:
        np.save(file, np.ones(3))
    return path


def _corrupt(path: Path) -> Path:
    """Flip a byte in the last entries of the first member's data (the CRC no longer matches)."""
    with zipfile.ZipFile(path) as archive:
        second = archive.infolist()[1].header_offset
    data = bytearray(path.read_bytes())
    data[second - 5] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _pickled(arrays) -> Path:
    arrays = dict(arrays, twiddle_0=np.array([{"x": 1}] * 16, dtype=object).reshape(1, 4, 2, 2))
    return _npz(arrays)


def _save_cases():
    for what, build in OPERATORS.items():
        yield compute(f"files/round trip: {what}", lambda b=build: _round_trip(b),
                      lambda got: got is True or got)
    yield compute("files/round trip without .npz suffix", lambda: _round_trip(OPERATORS["dft64"], "operator"),
                  lambda got: got is True or got)
    yield compute("files/round trip to a unicode path", lambda: _round_trip(OPERATORS["dft64"], "opé ñ.npz"),
                  lambda got: got is True or got)
    yield compute("files/save over an existing file", _overwrite, lambda got: got is True or got)
    yield compute("files/save through a str path", _str_path, lambda got: got is True or got)
    yield custom("files/save into a read-only folder", _read_only_folder)
    yield custom("files/save into a missing folder", _missing_folder)
    yield custom("files/failed write leaves the old file and no temporary", _failed_write)
    yield custom("files/concurrent saves to one path", _concurrent_saves, timeout=60)
    for what, path in [("None", None), ("an int", 3), ("a file object", io.BytesIO())]:
        yield refuse(f"files/save(path={what})", lambda p=path: ff.dft(8).save(p), "path", "save")
    yield compute("files/load then apply equals the saved operator", _loaded_applies,
                  lambda got: got is True or got)


def _overwrite():
    path = _folder() / "op.npz"
    ff.hadamard(8).save(path)
    ff.dft(16).save(path)
    return KSOperator.load(path).shape == (16, 16) or "the old operator was loaded"


def _str_path():
    path = str(_folder() / "op.npz")
    ff.dft(8).save(path)
    return KSOperator.load(path).shape == (8, 8) or "differs"


def _read_only_folder():
    folder = _folder()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: nothing to learn here
            return CORRECT, "the folder is writable for this user"
        try:
            ff.dft(8).save(folder / "op.npz")
        except PermissionError as exc:
            return (CLEAR if str(folder) in str(exc) else CRYPTIC), str(exc)
        return SILENT_WRONG, "saved into a read-only folder"
    finally:
        folder.chmod(stat.S_IRWXU)


def _missing_folder():
    path = _folder() / "absent" / "op.npz"
    try:
        ff.dft(8).save(path)
    except FileNotFoundError as exc:
        return (CLEAR if "absent" in str(exc) else CRYPTIC), str(exc)
    return SILENT_WRONG, "saved into a missing folder"


def _failed_write():
    folder = _folder()
    path = folder / "op.npz"
    ff.hadamard(8).save(path)
    before = path.read_bytes()
    original = np.lib.format.write_array

    def failing(*args, **kwargs):
        raise OSError(28, "No space left on device")

    np.lib.format.write_array = failing
    try:
        ff.dft(16).save(path)
    except OSError:
        pass
    finally:
        np.lib.format.write_array = original
    left = sorted(p.name for p in folder.iterdir())
    if path.read_bytes() != before:
        return DATA_LOSS, "the old file was damaged by a failed save"
    if left != ["op.npz"]:
        return SILENT_WRONG, f"files left behind: {left}"
    return CORRECT, ""


def _concurrent_saves():
    path = _folder() / "op.npz"
    ops = [ff.random_butterfly(64, seed=s) for s in range(4)]

    def save(op):
        for _ in range(5):
            op.save(path)

    errors = in_threads(save, ops)
    if errors:
        return CRYPTIC, f"a concurrent save raised {errors[0]!r}"
    loaded = KSOperator.load(path)
    if not any(np.array_equal(loaded.to_dense(), op.to_dense()) for op in ops):
        return DATA_LOSS, "the file holds none of the saved operators"
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "op.npz"]
    return (CORRECT, "") if not leftovers else (SILENT_WRONG, f"left behind: {leftovers}")


def _loaded_applies():
    op = ff.random_butterfly(32, dtype=np.complex128, seed=4)
    path = _folder() / "op.npz"
    op.save(path)
    x = np.random.default_rng(0).standard_normal((32, 20))
    return close(KSOperator.load(path) @ x, dense(op) @ x)


def cases():
    yield from _load_cases()
    yield from _save_cases()
