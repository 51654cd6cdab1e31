"""Registry of factorization methods (name -> callable), as in opt_einsum's path registry."""

from __future__ import annotations

from collections.abc import Callable

_METHODS: dict[str, Callable] = {}
_WORKSPACE: dict[str, float] = {}


def register_method(name: str, fn: Callable | None = None, *, workspace: float = 4.0):
    """Register ``fn`` under ``name``; usable as a decorator ``@register_method("als")``.

    ``workspace`` is the method's peak memory in copies of the target in double precision
    (measured: tests/test_memory.py checks it); :func:`fastfact.factorize` refuses a
    target whose workspace exceeds the memory available.
    """

    def decorate(func: Callable) -> Callable:
        if name in _METHODS and _METHODS[name] is not func:
            raise ValueError(f"a factorization method named {name!r} is already registered")
        _METHODS[name] = func
        _WORKSPACE[name] = float(workspace)
        return func

    return decorate if fn is None else decorate(fn)


def get_method(name: str) -> Callable:
    """The method registered under ``name``; a ValueError lists the valid names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"method must be a str, got {name!r} of type {type(name).__name__}")
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; available methods: {', '.join(sorted(_METHODS))}"
        ) from None


def method_workspace(name: str) -> float:
    """Peak memory of a registered method, in copies of the target in double precision."""
    get_method(name)  # a ValueError naming the valid methods
    return _WORKSPACE[name]


def available_methods() -> list[str]:
    """Names of the registered factorization methods, sorted.

    Examples
    --------
    >>> from fastfact import available_methods
    >>> {"hierarchical", "als", "palm", "gradient"} <= set(available_methods())
    True
    """
    return sorted(_METHODS)
