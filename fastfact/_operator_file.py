"""The ``.npz`` file of :meth:`KSOperator.save` / :meth:`KSOperator.load` (layer 3).

A file holds one ``.npy`` member per array: ``format_version`` (int, shape ``()``),
``patterns`` (int, ``(L, 4)``), ``twiddle_0`` … ``twiddle_{L−1}`` (float32/64 or
complex64/128, the pattern's ``(a, d, b, c)``), ``finite`` (bool, ``()``: whether every twiddle
was finite when saved), and optionally ``perm`` and ``out_perm`` (int, one index per column and
per row). Files of fastfact before ``finite`` existed hold only finite twiddles.

Writing goes through a temporary file in the same folder and an atomic rename, so a failed save
leaves neither a partial file nor a temporary one. Reading checks every member's name, dtype and
shape from its ``.npy`` header (zipfile decompresses only those first bytes), and the memory the
arrays need, before any array data is read: a small file cannot make ``load`` allocate much.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import zipfile
from pathlib import Path

import numpy as np

from fastfact._validation import FLOAT_DTYPES, check_memory
from fastfact.patterns import check_composable

FORMAT_VERSION = 1
_TWIDDLE = re.compile(r"twiddle_(0|[1-9][0-9]*)")
_NAMES = ("format_version", "patterns", "finite", "perm", "out_perm")


def as_path(path, action: str) -> Path:
    """``path`` (str or os.PathLike) as a Path; a TypeError naming the argument otherwise."""
    try:
        return Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"{action} takes a path (str or os.PathLike), got {path!r} of type "
                        f"{type(path).__name__}") from None


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` at ``path``, atomically.

    The temporary file is created with the default permissions (the umask applies), flushed to
    disk, then renamed over ``path``; on any exception it is removed and ``path`` is untouched.
    """
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {str(path)!r}: folder {str(path.parent)!r} "
                                "does not exist")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class _Header:
    """What a member's ``.npy`` header declares, and how many data bytes the member holds."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                self.shape, _, self.dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                self.shape, _, self.dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f".npy format version {version} (expected 1.0 or 2.0)")
            self.data_bytes = info.file_size - member.tell()
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize


class _Reader:
    """Checks the members of one file; every error names the file and the member."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, message: str):
        raise ValueError(f"{str(self.path)!r} is not a KSOperator file: {message}")

    def expect(self, name: str, header: _Header, shape: tuple, kinds: str, accepted: str):
        if header.dtype.kind not in kinds or header.dtype.hasobject:
            self.fail(f"member {name} has dtype {header.dtype}; expected {accepted}")
        if header.shape != tuple(shape):
            self.fail(f"member {name} has shape {header.shape}; expected {tuple(shape)}")
        if header.data_bytes != header.nbytes:
            self.fail(f"member {name} holds {header.data_bytes} bytes of data but its header "
                      f"says {header.nbytes}")

    def headers(self, archive: zipfile.ZipFile) -> dict[str, _Header]:
        headers = {}
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if name == info.filename or (name not in _NAMES and not _TWIDDLE.fullmatch(name)):
                self.fail(f"unexpected member {name!r} (a KSOperator file holds "
                          f"{', '.join(_NAMES)} and twiddle_<k>)")
            if name in headers:
                self.fail(f"member {name!r} appears twice")
            try:
                headers[name] = _Header(archive, info)
            except (ValueError, EOFError, OSError, SyntaxError, zipfile.BadZipFile) as exc:
                self.fail(f"member {name} has no readable .npy header ({exc})")
        for name in ("format_version", "patterns"):
            if name not in headers:
                self.fail(f"no {name!r} member")
        return headers

    def check(self, archive: zipfile.ZipFile) -> dict[str, _Header]:
        headers = self.headers(archive)
        self.expect("format_version", headers["format_version"], (), "iu", "an integer dtype")
        version = int(self.read(archive, "format_version"))
        if version != FORMAT_VERSION:
            raise ValueError(f"{str(self.path)!r} has format version {version}; this fastfact "
                             f"reads version {FORMAT_VERSION}")
        shape = headers["patterns"].shape
        L = shape[0] if len(shape) == 2 and shape[0] >= 1 else 1
        self.expect("patterns", headers["patterns"], (L, 4), "iu", "an integer dtype")
        for ell in range(L):
            if f"twiddle_{ell}" not in headers:
                self.fail(f"it has {L} patterns but lacks twiddle entry 'twiddle_{ell}'")
        for name in headers:
            if _TWIDDLE.fullmatch(name) and int(name[8:]) >= L:
                self.fail(f"unexpected member {name!r}: the file has {L} patterns")
        try:
            patterns = check_composable([tuple(int(v) for v in row)
                                         for row in self.read(archive, "patterns")])
        except (TypeError, ValueError) as exc:
            self.fail(f"member patterns holds no valid chain: {exc}")
        for ell, pattern in enumerate(patterns):
            self.expect(f"twiddle_{ell}", headers[f"twiddle_{ell}"], pattern.twiddle_shape, "fc",
                        f"one of {', '.join(FLOAT_DTYPES)}")
            if headers[f"twiddle_{ell}"].dtype.newbyteorder("=").name not in FLOAT_DTYPES:
                self.fail(f"member twiddle_{ell} has dtype {headers[f'twiddle_{ell}'].dtype}; "
                          f"expected one of {', '.join(FLOAT_DTYPES)}")
        sizes = {"perm": patterns[-1].shape[1], "out_perm": patterns[0].shape[0]}
        for name, size in sizes.items():
            if name in headers:
                self.expect(name, headers[name], (size,), "iu", "an integer dtype")
        if "finite" in headers:
            self.expect("finite", headers["finite"], (), "b", "bool")
        return headers

    def read(self, archive: zipfile.ZipFile, name: str) -> np.ndarray:
        try:
            with archive.open(f"{name}.npy") as member:
                return np.lib.format.read_array(member, allow_pickle=False)
        except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
            self.fail(f"member {name} cannot be read ({exc})")


def read(path: Path) -> dict[str, np.ndarray]:
    """The arrays of the KSOperator file at ``path``, every member checked before it is read.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        No file at ``path``.
    ValueError
        Not a zip archive, an unexpected or missing member, a dtype or shape that does not match
        the patterns, a member shorter or longer than its header says, a damaged member.
    MemoryError
        The arrays need more memory than is available (checked before reading them).
    """
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a KSOperator file")
    if not path.exists():
        raise FileNotFoundError(f"no KSOperator file at {str(path)!r}")
    reader = _Reader(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {exc}") from None
    with archive:
        headers = reader.check(archive)
        # the arrays, and the operator's copies of them
        check_memory(2 * sum(h.nbytes for h in headers.values()), f"KSOperator.load({str(path)!r})")
        return {name: reader.read(archive, name) for name in headers}
