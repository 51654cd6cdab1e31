"""The registry of implementations, keyed by kind and name (as opt_einsum's path registry)."""

from __future__ import annotations

from fastfact.impls._protocol import Implementation

__all__ = ["KINDS", "get", "implementations", "names", "register", "status"]

KINDS = ("apply", "factorize")
_REGISTRY: dict[tuple[str, str], Implementation] = {}


def register(implementation: Implementation) -> Implementation:
    """Add ``implementation``; a ValueError if its kind is unknown or its name is taken."""
    if implementation.kind not in KINDS:
        raise ValueError(f"implementation kind must be one of {KINDS}, got "
                         f"{implementation.kind!r}")
    key = (implementation.kind, implementation.name)
    if key in _REGISTRY:
        raise ValueError(f"a {key[0]} implementation named {key[1]!r} is already registered")
    _REGISTRY[key] = implementation
    return implementation


def get(kind: str, name: str) -> Implementation:
    """The ``kind`` implementation named ``name``; a ValueError lists the known ones otherwise."""
    try:
        return _REGISTRY[kind, name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {kind} implementation {name!r}; known: "
                         f"{', '.join(names(kind)) or 'none'}") from None


def names(kind: str | None = None) -> list[str]:
    """Names of the registered implementations (of one ``kind`` if given), sorted."""
    return sorted({name for k, name in _REGISTRY if kind in (None, k)})


def implementations(kind: str | None = None) -> list[Implementation]:
    """The registered implementations (of one ``kind`` if given), sorted by kind and name."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY) if kind in (None, key[0])]


def status() -> list[dict]:
    """:meth:`Implementation.status` of every registered implementation (installed or not)."""
    return [implementation.status() for implementation in implementations()]
