"""Checks of parsed TOML tables whose errors name the file and the key (used by suites)."""

from __future__ import annotations

__all__ = ["TableChecker"]


class TableChecker:
    """Checks values of parsed TOML tables; :meth:`fail` raises the error of ``error_class``
    as ``"<source>: <where>: <message>"``.

    Parameters
    ----------
    source : str
        The file (or ``shipped:<name>``) the tables come from.
    error_class : type of Exception
        What :meth:`fail` raises.
    """

    def __init__(self, source: str, error_class: type[Exception]):
        self.source, self.error_class = source, error_class

    def fail(self, where: str, message: str):
        raise self.error_class(f"{self.source}: {where}: {message}")

    def check_keys(self, table: dict, where: str, accepted: set, required: set = frozenset()):
        if not isinstance(table, dict):
            self.fail(where, f"must be a table, got {type(table).__name__}")
        unknown = sorted(set(table) - accepted)
        if unknown:
            self.fail(where, f"unknown key {unknown[0]!r}; accepted keys: "
                             f"{', '.join(sorted(accepted))}")
        missing = sorted(required - set(table))
        if missing:
            self.fail(where, f"missing required key {missing[0]!r}")

    def names(self, table, key, where, registry, what, default=None) -> list[str]:
        values = self.typed_list(table, key, where, str, default)
        for value in values:
            if value not in registry:
                self.fail(f"{where}.{key}", f"unknown {what} {value!r}; known: "
                                            f"{', '.join(sorted(registry))}")
        return values

    def name(self, table, key, where, registry, what, default) -> str:
        value = table.get(key, default)
        if value not in registry:
            self.fail(f"{where}.{key}", f"unknown {what} {value!r}; known: "
                                        f"{', '.join(sorted(registry))}")
        return value

    def typed_list(self, table, key, where, kind, default=None) -> list:
        values = table.get(key, default)
        if values is None:
            self.fail(where, f"missing required key {key!r}")
        if not isinstance(values, list) or not values:
            self.fail(f"{where}.{key}", f"must be a non-empty list, got {values!r}")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, kind):
                self.fail(f"{where}.{key}", f"expected {self.kind_name(kind)} values, "
                                            f"got {value!r}")
        if len(set(values)) != len(values):
            self.fail(f"{where}.{key}", f"values must be distinct, got {values}")
        return values

    @staticmethod
    def kind_name(kind) -> str:
        if isinstance(kind, tuple):
            return " or ".join(k.__name__ for k in kind)
        return kind.__name__

    def positive_ints(self, table, key, where, default=None, minimum=1) -> list[int]:
        values = self.typed_list(table, key, where, int, default)
        for value in values:
            if value < minimum:
                self.fail(f"{where}.{key}", f"values must be >= {minimum}, got {value}")
        return values
