"""Argument checkers, the one dtype rule and the ``workers`` convention (layer 0 of docs/architecture.md).

Every public function validates its arguments here before any work, so that bad input raises a
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad value) whose message names
the argument, the value received and what is accepted. This module imports nothing of fastfact.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import sys

import numba
import numpy as np

FLOAT_DTYPES = ("float32", "float64", "complex64", "complex128")
COMPLEX_DTYPES = ("complex64", "complex128")


# ---------------------------------------------------------------------- the dtype rule
def compute_dtype(dtype, what: str) -> np.dtype:
    """The supported dtype that data of ``dtype`` is computed in.

    Bool and integers become float64, float16 becomes float32, float32/64 and complex64/128
    stay (in native byte order); anything else is a TypeError naming ``what``.

    Examples
    --------
    >>> compute_dtype(np.int32, "x"), compute_dtype(np.float16, "x"), compute_dtype(">c8", "x")
    (dtype('float64'), dtype('float32'), dtype('complex64'))
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind == "f" and dtype.itemsize <= 8:
        return np.dtype(np.float32 if dtype.itemsize <= 4 else np.float64)
    if dtype.kind == "c" and dtype.itemsize <= 16:
        return np.dtype(np.complex64 if dtype.itemsize == 8 else np.complex128)  # native byte order
    raise TypeError(
        f"{what} has dtype {dtype}, which fastfact does not support; accepted: "
        f"{', '.join(FLOAT_DTYPES)} (integer and bool input is cast to float64, float16 to float32)"
    )


def double_precision(dtype) -> np.dtype:
    """The double-precision dtype of the same kind: float64 or complex128 (integers: float64)."""
    return np.result_type(compute_dtype(dtype, "data"), np.float64)


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype of the same precision: complex64 for single, complex128 for double."""
    return np.result_type(compute_dtype(dtype, "data"), np.complex64)


def check_dtype(dtype, accepted: tuple[str, ...] = FLOAT_DTYPES, name: str = "dtype") -> np.dtype:
    """``dtype`` as a numpy dtype whose name is one of ``accepted`` (TypeError otherwise)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in accepted:
        raise TypeError(f"{name} must be one of {', '.join(accepted)}, got {dtype!r}")
    return resolved


# ---------------------------------------------------------------------- arrays
def as_array(value, name: str) -> np.ndarray:
    """``value`` as an ndarray: scipy.sparse input densified, masked and ragged input refused.

    Sparse input is densified because every caller reads the whole matrix and returns a dense
    result of at least that size (a KS product of a sparse batch is dense).
    """
    if "scipy.sparse" in sys.modules and sys.modules["scipy.sparse"].issparse(value):
        return value.toarray()
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked array, which fastfact does not support; pass "
                        f"{name}.filled(value) or an ndarray")
    try:
        return np.asarray(value)
    except ValueError as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be an array of numbers, got a {type(value).__name__} that numpy "
                        f"cannot convert: {exc}") from None


def as_kernel_array(array: np.ndarray, dtype) -> np.ndarray:
    """``array`` in ``dtype``, C-contiguous, aligned and writable: the one layout the kernels take.

    No copy when it already is one. Read-only (``np.load(mmap_mode="r")``, ``np.frombuffer``),
    Fortran-ordered, strided, negative-stride, broadcast and unaligned arrays are copied; Numba
    types read-only arrays apart, and the kernels' buffer selection cannot unify the two types.
    """
    return np.require(array, dtype=dtype, requirements=("C", "A", "W"))


def check_matrix(A, name: str = "A", workspace: float = 0.0, purpose: str = "") -> np.ndarray:
    """``A`` as a finite non-empty 2-D matrix in its compute dtype and the kernels' layout.

    No copy is made when ``A`` already is one; the factorization methods never write into it.
    The memory check covers the copy (a broadcast ``A`` is only its strides) and ``workspace``:
    the copies of ``A`` in double precision that ``purpose`` (the caller, for the message)
    allocates next (a single-precision ``A`` is first cast to double: one more), so that nothing
    is copied when they cannot all fit.
    """
    A = as_array(A, name)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {A.shape}")
    if 0 in A.shape:
        raise ValueError(f"{name} must be non-empty, got shape {A.shape}")
    dtype = compute_dtype(A.dtype, name)
    copied = not (A.dtype == dtype and A.flags.c_contiguous and A.flags.aligned and A.flags.writeable)
    double = double_precision(dtype)
    if workspace and double != dtype:
        workspace += 1
    # the copy in the kernels' layout, the finiteness mask and the caller's workspace
    needed = A.size * (dtype.itemsize * copied + 1 + workspace * double.itemsize)
    check_memory(int(needed), f"{name} of shape {A.shape}" + (f" in {purpose}" if purpose else ""))
    A = as_kernel_array(A, dtype)
    if not np.isfinite(A).all():
        bad = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(
            f"{name} contains NaN or Inf (first at index {tuple(int(x) for x in bad)}); "
            "factorization needs finite entries"
        )
    return A


def _describe(value) -> str:
    """``value`` for an error message: arrays by dtype and shape (their repr can be huge)."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return repr(value)


def check_permutation(name: str, perm, size: int, accepted: str = "an integer array") -> np.ndarray | None:
    """None, or ``perm`` as an int64 permutation of ``range(size)``.

    ``accepted`` says, in the TypeError for a non-integer ``perm``, what the caller takes.
    """
    if perm is None:
        return None
    array = as_array(perm, name)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be {accepted} (a permutation of range({size})), got "
                        f"{_describe(perm)}")
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match the operator, got {array.shape}")
    array = array.astype(np.int64)
    if not np.array_equal(np.sort(array), np.arange(size)):
        raise ValueError(f"{name} must be a permutation of range({size}), but it is not a permutation: "
                         "it repeats or skips indices")
    return array


# ---------------------------------------------------------------------- scalars
def _is_int(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (numbers.Integral, np.integer))


def check_random_state(random_state, name: str = "random_state") -> np.random.Generator:
    """``random_state`` as a numpy Generator; the one place seeds are read.

    Accepted: None (fresh entropy), a non-negative int, a ``numpy.random.Generator`` (used as
    is), a ``SeedSequence`` or a ``BitGenerator``. ``name`` is the argument's name in the caller
    (``seed`` in targets and transforms).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(random_state)
    if not _is_int(random_state):
        raise TypeError(f"{name} must be None, an int or a numpy.random.Generator (or SeedSequence), "
                        f"got {random_state!r} of type {type(random_state).__name__}")
    if random_state < 0:
        raise ValueError(f"{name} must be a non-negative int, got {random_state}")
    return np.random.default_rng(int(random_state))


def check_positive_int(name: str, value, allow_zero: bool = False) -> int:
    """``value`` as an int >= 1 (or >= 0 with ``allow_zero``)."""
    accepted = "a non-negative int" if allow_zero else "a positive int"
    if not _is_int(value):
        raise TypeError(f"{name} must be {accepted}, got {value!r} of type {type(value).__name__}")
    if value < (0 if allow_zero else 1):
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return int(value)


def _as_float(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    return float(value)


def check_real(name: str, value) -> float:
    """``value`` as a finite float."""
    value = _as_float(name, value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def check_positive_float(name: str, value, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0 with ``allow_zero``)."""
    value = _as_float(name, value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        accepted = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return value


def check_reals(name: str, value, length: int) -> tuple[float, ...]:
    """``value`` as a tuple of ``length`` finite floats (a list, tuple or 1-D array of them)."""
    accepted = f"a sequence of {length} real numbers"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be {accepted}, got {value!r} of type {type(value).__name__}")
    if len(value) != length:
        raise ValueError(f"{name} must be {accepted}, got {value!r} ({len(value)} of them)")
    return tuple(check_real(f"{name}[{i}]", item) for i, item in enumerate(value))


def check_bool(name: str, value) -> bool:
    """``value`` as a bool: True/False or a numpy bool (a string such as "no" is refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} of type {type(value).__name__}")
    return bool(value)


def check_choice(name: str, value, choices) -> str:
    """``value`` if it is one of ``choices``; the error lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid values: {', '.join(map(repr, choices))}")
    return value


# ---------------------------------------------------------------------- threads
def check_workers(workers) -> int | None:
    """Validate ``workers``: None or a positive int no larger than the threads Numba has."""
    if workers is None:
        return None
    if not _is_int(workers):
        raise TypeError(
            f"workers must be None or a positive int, got {workers!r} of type {type(workers).__name__}"
        )
    available = numba.config.NUMBA_NUM_THREADS
    if not 1 <= workers <= available:
        raise ValueError(
            f"workers must be None or an int in [1, {available}] (the threads Numba can use; "
            f"set NUMBA_NUM_THREADS to change it), got {workers}"
        )
    return int(workers)


@contextlib.contextmanager
def set_workers(workers):
    """Run the block with ``numba.set_num_threads(workers)``, restoring the old value after.

    Parameters
    ----------
    workers : int or None
        Number of threads; None leaves the current setting unchanged.
    """
    workers = check_workers(workers)
    if workers is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(workers)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def parallel_threads(work: int, min_work: int, workers=None) -> int:
    """How many threads a call doing ``work`` should run on: the one policy for going parallel.

    An explicit ``workers`` is honoured as given (a benchmark then measures the thread count it
    records, and tests reach the parallel kernels on small inputs). By default (None) a call
    uses all of Numba's current threads when ``work >= min_work`` and one thread below it, where
    starting the threads, and waiting for one the OS has descheduled, costs more than the work
    they would share.

    Parameters
    ----------
    work : int
        Size of the call, in the unit of ``min_work``.
    min_work : int
        Where the caller's kernels start to gain from threads. It is measured per kernel family
        because it depends on how many parallel regions one call opens (an apply opens one per
        pass; a factorization opens many small ones).
    workers : int or None
        The caller's ``workers`` argument (validated here).
    """
    workers = check_workers(workers)
    if workers is not None:
        return workers
    return numba.get_num_threads() if work >= min_work else 1


# ---------------------------------------------------------------------- memory
# Calls needing less than this are never refused, and /proc is not read for them: the check costs
# nothing where it cannot matter.
MEMORY_CHECK_FLOOR = 1 << 28  # 256 MiB


def _meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in bytes (empty where there is none)."""
    try:
        with open("/proc/meminfo") as file:
            lines = file.readlines()
    except OSError:
        return {}
    info = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields = value.split()
        if fields and fields[0].isdigit():
            info[key] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return info


def _cgroup_headroom() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2, else v1), or None when unlimited."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            with open(f"/sys/fs/cgroup/{limit_file}") as file:
                limit = file.read().strip()
            with open(f"/sys/fs/cgroup/{usage_file}") as file:
                usage = int(file.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # v1 writes "unlimited" as a huge number
            return max(int(limit) - usage, 0)
        return None
    return None


def available_memory() -> tuple[int | None, int | None]:
    """``(available, total)`` bytes of memory on this machine (None where it cannot be read).

    ``available`` is what can still be allocated without swapping: ``MemAvailable`` of
    /proc/meminfo, or free physical pages from ``os.sysconf`` where there is no /proc, capped
    by what the container's cgroup limit leaves.
    """
    info = _meminfo()
    available, total = info.get("MemAvailable"), info.get("MemTotal")
    if available is None:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            page = os.sysconf("SC_PAGE_SIZE")
            available = os.sysconf("SC_AVPHYS_PAGES") * page
            total = os.sysconf("SC_PHYS_PAGES") * page
    headroom = _cgroup_headroom()
    if headroom is not None:
        available = headroom if available is None else min(available, headroom)
    return available, total


def format_bytes(count: float) -> str:
    """``count`` bytes in binary units, three significant digits.

    Examples
    --------
    >>> format_bytes(1000), format_bytes(3 * 2**29), format_bytes(2**50)
    ('1000 B', '1.5 GiB', '1 PiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if count >= 100 else f"{count:.3g} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def check_memory(needed: int, what: str) -> None:
    """Refuse, before allocating anything, work needing more memory than this machine has.

    Parameters
    ----------
    needed : int
        Estimated peak bytes the work allocates (its arrays and temporaries).
    what : str
        The work, as the message names it (``"dft(N=67108864)"``): the argument that sets
        the size should appear in it.

    Raises
    ------
    MemoryError
        When ``needed`` exceeds the available memory (see :func:`available_memory`); the
        message gives both. Nothing is refused below ``MEMORY_CHECK_FLOOR`` or where the
        available memory cannot be read.
    """
    if needed < MEMORY_CHECK_FLOOR:
        return
    available, total = available_memory()
    if available is not None and needed > available:
        of_total = f" of {format_bytes(total)}" if total else ""
        raise MemoryError(f"{what} needs about {format_bytes(needed)} of memory, but this machine "
                          f"has {format_bytes(available)} available{of_total}")
