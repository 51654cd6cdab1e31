"""Benchmark suites: TOML files naming sweeps, validated up front and expanded into tasks.

A suite file has a ``[suite]`` table (name and timing settings), optional named method
variants in ``[methods.<label>]``, and any number of sweeps:

* ``[[apply]]`` — time fast transforms (``transforms × sizes × batches × dtypes``): the
  ``reference`` implementation (fastfact's apply by default) against ``peers``; timing tasks,
  run serially.
* ``[[factorize]]`` — accuracy of ``methods`` on ``targets × sizes × noise × seeds × dtypes``
  (relative error, lower-bound certificate, the method's own time); run in parallel with
  ``--jobs``/``--scheduler``.
* ``[[factorize_time]]`` — the same grid, but the methods are timed with the timing protocol,
  interleaved in one process, relative to the first one listed; timing tasks.
* ``[[claims]]`` — rows of the "paper says / we measure" table of the report.

Every implementation a suite names comes from the registry of :mod:`fastfact.impls`, and its
options are checked by the implementation itself when the suite loads (``check_options``), so a
misspelt option fails here, naming the file and the table, not in every task.

See ``docs/benchmarking.md`` for the full key reference; the shipped suites
(``fastfact/bench/suites/*.toml``) are examples of every key.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastfact import impls
from fastfact._validation import FLOAT_DTYPES, check_memory
from fastfact.bench import workloads
from fastfact.bench._tables import TableChecker
from fastfact.bench._task_size import apply_bytes, factorize_bytes, transform_chain
from fastfact.bench.machine import usable_threads
from fastfact.bench.results import COLUMNS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Contender", "Suite", "SuiteError", "load_suite", "shipped_suites"]

TIMING_KINDS = ("apply", "factorize_time")
DEFAULT_APPLY_REFERENCE = "fastfact"  # the implementation apply sweeps time the peers against
DTYPES = FLOAT_DTYPES
PERMS = ("none", "bitrev", "search", "unknown")
MIN_REPEATS = 5
DEFAULT_TASK_TIMEOUT = 900.0  # seconds a task may run before it is stopped (an error row)


class SuiteError(ValueError):
    """A suite file that cannot be run; the message names the file and the key."""


@dataclass(frozen=True)
class Contender:
    """An implementation of :mod:`fastfact.impls` with options, as a suite names it.

    Attributes
    ----------
    label : str
        Name used in the suite (the ``method`` column of factorization rows).
    kind : {"apply", "factorize"}
        Registry kind.
    name : str
        Registry name.
    options : dict
        Options passed to the implementation (checked by its ``check_options``).
    """

    label: str
    kind: str
    name: str
    options: dict = field(default_factory=dict)

    def as_dict(self, method: str) -> dict:
        """The contender as a plain dict (tasks are JSON-able and picklable), with the
        columns its rows carry: ``impl``, ``method`` (given) and ``layout``."""
        implementation = impls.get(self.kind, self.name)
        return {"label": self.label, "kind": self.kind, "name": self.name,
                "options": dict(self.options),
                "row": {"impl": implementation.row_impl, "method": method,
                        "layout": implementation.layout}}


@dataclass(frozen=True)
class Suite:
    """A validated suite.

    Attributes
    ----------
    name, description : str
        From ``[suite]``.
    source : str
        Where the suite came from (a path or ``"shipped:<name>"``).
    text : str
        The TOML text (stored in ``meta.json``).
    settings : dict
        ``repeats``, ``min_seconds``, ``threads``, ``seed`` (copied into every task) and
        ``task_timeout`` (seconds a task may take, ``inf`` for no limit; a run setting).
    tasks : list of dict
        One JSON-able dict per task (``id``, ``kind`` and its parameters), in run order.
    claims : list of dict
        The ``[[claims]]`` tables.
    methods : dict of str to Contender
        Every factorization method the sweeps name, by label.
    """

    name: str
    description: str
    source: str
    text: str
    settings: dict
    tasks: list
    claims: list
    methods: dict

    @property
    def digest(self) -> str:
        """SHA-256 of the suite text: two runs are of the same suite iff digests match."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def requested_implementations(self) -> list[tuple[str, str]]:
        """``(kind, name)`` of every implementation the tasks run, sorted."""
        return sorted({(c["kind"], c["name"]) for task in self.tasks for c in task["contenders"]})


def shipped_suites() -> list[str]:
    """Names of the suites shipped with fastfact (``fastfact/bench/suites/*.toml``).

    Examples
    --------
    >>> {"quick", "default", "paper"} <= set(shipped_suites())
    True
    """
    folder = resources.files("fastfact.bench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_suite(name_or_path) -> Suite:
    """Load and validate a suite: a shipped name (``"quick"``) or a path to a TOML file.

    Raises
    ------
    SuiteError
        Unknown suite name, unreadable file, malformed TOML (the message has the line), unknown
        keys, implementations, options, targets, transforms, dtypes, or values of the wrong
        type.

    Examples
    --------
    >>> suite = load_suite("quick")
    >>> suite.name, suite.source
    ('quick', 'shipped:quick')
    >>> sorted({task["kind"] for task in suite.tasks})
    ['apply', 'factorize', 'factorize_time']
    """
    text, source = _read(str(name_or_path))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{source}: malformed TOML: {exc}") from None
    return _Validator(source, SuiteError).suite(document, text)


def _read(name_or_path: str) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists() or "/" in name_or_path:
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise SuiteError(f"cannot read suite file {str(path)!r}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise SuiteError(f"suite file {str(path)!r} is not UTF-8 text, as TOML must be "
                             f"({exc.reason} at byte {exc.start})") from None
    if name_or_path not in shipped_suites():
        raise SuiteError(
            f"unknown suite {name_or_path!r}; shipped suites: {', '.join(shipped_suites())} "
            "(or pass the path of a .toml file)"
        )
    folder = resources.files("fastfact.bench") / "suites"
    return (folder / f"{name_or_path}.toml").read_text(), f"shipped:{name_or_path}"


_SWEEP_KEYS = {
    "apply": {"transforms", "sizes", "batches", "dtypes", "reference", "peers"},
    "factorize": {"targets", "methods", "sizes", "noise", "noise_model", "seeds", "dtypes",
                  "chain", "perm"},
}
_SWEEP_KEYS["factorize_time"] = _SWEEP_KEYS["factorize"]
_SETTINGS = {"repeats": 5, "min_seconds": 0.005, "threads": 1, "seed": 0}  # task settings

def _number_text(value) -> str:
    """``value`` in a task id: the short ``g`` form where it is exact (``0.1``, ``1e-05``),
    else ``repr`` (``0.1000001``), so that distinct values never share an id."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


class _Validator(TableChecker):
    """Checks a parsed suite document; every error names the file and the key."""

    def sizes(self, table, where, chains: dict[str, str]) -> list[int]:
        """The ``sizes`` of a sweep, each one valid for every chain of ``chains`` (``{what the
        message calls it: chain name}``)."""
        sizes = self.positive_ints(table, "sizes", where, minimum=2)
        for what, chain in chains.items():
            for N in sizes:
                try:
                    workloads.CHAINS[chain](N)
                except ValueError as exc:
                    self.fail(f"{where}.sizes", f"N = {N} is not valid for {what}: {exc}")
        return sizes

    def target_sizes(self, targets: list[str], sizes: list[int], perm, where: str) -> None:
        """Every target can be built at every size, with its permutation."""
        for name, N in itertools.product(targets, sizes):
            try:
                workloads.check_target_size(name, N, perm)
            except ValueError as exc:
                self.fail(f"{where}.sizes", str(exc))

    def check_memory(self, tasks: list[dict], where: str, estimate, describe) -> None:
        """Refuse a sweep whose largest task needs more memory than this machine has."""
        largest = max(tasks, key=estimate)
        try:
            check_memory(estimate(largest), f"task {largest['id']} ({describe(largest)})")
        except MemoryError as exc:
            self.fail(where, f"{exc}; lower the sweep's sizes or batches")

    def settings(self, table: dict) -> tuple[str, str, dict]:
        self.check_keys(table, "[suite]", {"name", "description", "task_timeout", *_SETTINGS},
                        {"name"})
        name = table["name"]
        if not isinstance(name, str) or not name or "/" in name:
            self.fail("[suite].name", f"must be a non-empty string without '/', got {name!r}")
        settings = {}
        for key, default in _SETTINGS.items():
            value = table.get(key, default)
            kind = float if isinstance(default, float) else int
            if isinstance(value, bool) or not isinstance(value, (kind, int)):
                self.fail(f"[suite].{key}", f"must be a {kind.__name__}, got {value!r}")
            if not math.isfinite(value) or value < 0 or (value == 0 and key != "seed"):
                self.fail(f"[suite].{key}", f"must be positive and finite, got {value!r}")
            settings[key] = kind(value)
        most = usable_threads()
        if settings["threads"] > most:
            self.fail("[suite].threads", f"this machine runs at most {most} threads (Numba's "
                                         f"NUMBA_NUM_THREADS), got {settings['threads']}")
        if settings["repeats"] < MIN_REPEATS:
            self.fail("[suite].repeats", f"the timing protocol needs >= {MIN_REPEATS} repeats, "
                                         f"got {settings['repeats']}")
        timeout = table.get("task_timeout", DEFAULT_TASK_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or math.isnan(timeout) or timeout <= 0:
            self.fail("[suite].task_timeout", f"must be a positive number of seconds (inf: no "
                                              f"limit), got {timeout!r}")
        return name, str(table.get("description", "")), {**settings,
                                                          "task_timeout": float(timeout)}

    def methods(self, table: dict) -> dict[str, Contender]:
        """Every factorize implementation under its own name, plus the ``[methods]`` labels."""
        known = impls.names("factorize")
        methods = {name: Contender(name, "factorize", name) for name in known}
        if not isinstance(table, dict):
            self.fail("[methods]", "must be a table of tables")
        for label, spec in table.items():
            where = f"[methods.{label}]"
            if "/" in label:
                self.fail(where, "a label must not contain '/' (it separates the parts of "
                                 "task ids)")
            if not isinstance(spec, dict):
                self.fail(where, "must be a table with 'method' (or 'peer') and options")
            if ("method" in spec) == ("peer" in spec):
                self.fail(where, "needs exactly one of the keys 'method' or 'peer'")
            key = "method" if "method" in spec else "peer"
            name = spec[key]
            if name not in known:
                self.fail(f"{where}.{key}", f"unknown {key} {name!r}; factorize implementations: "
                                            f"{', '.join(known)}")
            options = {k: v for k, v in spec.items() if k != key}
            if label in known and (name != label or options):
                self.fail(where, f"the label {label!r} is the name of a factorize "
                                 "implementation; give this configuration another label")
            try:
                impls.get("factorize", name).check_options(options)
            except impls.OptionError as exc:
                self.fail(f"{where}.{exc.option}" if exc.option else where, str(exc))
            methods[label] = Contender(label, "factorize", name, options)
        return methods

    def apply_tasks(self, sweep: dict, where: str, prefix: str, settings: dict) -> list[dict]:
        self.check_keys(sweep, where, _SWEEP_KEYS["apply"], {"transforms", "sizes"})
        transforms = self.names(sweep, "transforms", where, workloads.TRANSFORMS, "transform")
        sizes = self.sizes(sweep, where, {f"the {t} transform ({transform_chain(t)} chain)":
                                          transform_chain(t) for t in transforms})
        batches = self.positive_ints(sweep, "batches", where, [1])
        dtypes = self.names(sweep, "dtypes", where, dict.fromkeys(DTYPES), "dtype", ["float64"])
        known = dict.fromkeys(impls.names("apply"))
        reference = self.name(sweep, "reference", where, known, "apply implementation",
                              DEFAULT_APPLY_REFERENCE)
        peer_list = self.names(sweep, "peers", where, known, "apply peer") \
            if sweep.get("peers") else []
        tasks = []
        for transform in transforms:
            if not impls.get("apply", reference).computes(transform):
                self.fail(f"{where}.reference", f"{reference!r} does not compute {transform!r}")
            names = [reference, *(p for p in peer_list
                                  if p != reference and impls.get("apply", p).computes(transform))]
            contenders = [Contender(name, "apply", name).as_dict("apply") for name in names]
            for N, batch, dtype in itertools.product(sizes, batches, dtypes):
                tasks.append({
                    "id": f"{prefix}/{transform}/N={N}/batch={batch}/{dtype}",
                    "kind": "apply", "transform": transform, "N": N, "batch": batch,
                    "dtype": dtype, "contenders": contenders, **settings,
                })
        self.check_memory(tasks, where, apply_bytes, lambda task: "implementations: " + ", ".join(
            c["name"] for c in task["contenders"]))
        return tasks

    def factorize_tasks(self, sweep, where, prefix, kind, settings, methods) -> list[dict]:
        self.check_keys(sweep, where, _SWEEP_KEYS[kind], {"targets", "methods", "sizes"})
        targets = self.names(sweep, "targets", where, workloads.TARGETS, "target")
        labels = self.names(sweep, "methods", where, methods, "method")
        noise = self.typed_list(sweep, "noise", where, (int, float), [0.0])
        if any(not math.isfinite(level) or level < 0 for level in noise):
            self.fail(f"{where}.noise", f"noise levels must be finite and >= 0, got {noise}")
        seeds = self.positive_ints(sweep, "seeds", where, [0], minimum=0)
        dtypes = self.names(sweep, "dtypes", where, dict.fromkeys(DTYPES), "dtype", ["float64"])
        noise_model = self.name(sweep, "noise_model", where, workloads.NOISE_MODELS,
                                "noise model", "relative")
        chain = self.name(sweep, "chain", where, workloads.CHAINS, "chain", "butterfly")
        sizes = self.sizes(sweep, where, {f"the {chain} chain": chain})
        perm = sweep.get("perm")
        if perm is not None and perm not in PERMS:
            self.fail(f"{where}.perm", f"must be one of {', '.join(PERMS)}, got {perm!r}")
        self.target_sizes(targets, sizes, perm, where)
        base = {"kind": kind, "chain": chain, "noise_model": noise_model, "perm": perm,
                **settings}
        tasks = []
        grid = itertools.product(targets, sizes, noise, seeds, dtypes)
        for target, N, level, seed, dtype in grid:
            key = f"{target}/{chain}/N={N}/noise={_number_text(level)}/seed={seed}/{dtype}"
            params = {**base, "target": target, "N": N, "noise": float(level), "seed": seed,
                      "dtype": dtype}
            if kind == "factorize":  # one accuracy task per method: they run in parallel
                tasks += [{**params, "id": f"{prefix}/{label}/{key}",
                           "contenders": [methods[label].as_dict(label)]} for label in labels]
            else:  # all methods in one task: timed interleaved, relative to the first
                tasks.append({**params, "id": f"{prefix}/{key}",
                              "contenders": [methods[label].as_dict(label) for label in labels]})
        self.check_memory(tasks, where, factorize_bytes, lambda task: "method " + ", ".join(
            c["label"] for c in task["contenders"]))
        return tasks

    def claims(self, claims, methods: dict) -> list[dict]:
        if not isinstance(claims, list):
            self.fail("[[claims]]", "must be an array of tables")
        if not claims:
            return claims
        from fastfact.bench.claims import check_claim  # here: it needs pandas (bench extra)

        for number, claim in enumerate(claims, 1):
            try:
                check_claim(claim, COLUMNS, methods)
            except ValueError as exc:
                self.fail(f"[[claims]] #{number}", str(exc))
        return claims

    def unique_ids(self, tasks: list[dict], where: str, taken: set) -> None:
        """Fail on a task id already in ``taken`` (then add the new ones): results rows are
        matched to tasks by id, on ``--resume`` and in reports."""
        for task in tasks:
            if task["id"] in taken:
                self.fail(where, f"two tasks have the id {task['id']!r}")
            taken.add(task["id"])

    def suite(self, document: dict, text: str) -> Suite:
        accepted = {"suite", "methods", "apply", "factorize", "factorize_time", "claims"}
        self.check_keys(document, "top level", accepted, {"suite"})
        name, description, settings = self.settings(document["suite"])
        task_settings = {key: settings[key] for key in _SETTINGS}
        methods = self.methods(document.get("methods", {}))
        tasks, ids = [], set()
        for kind in ("apply", "factorize", "factorize_time"):
            sweeps = document.get(kind, [])
            if not isinstance(sweeps, list):
                self.fail(kind, f"must be an array of tables ([[{kind}]]), got a single table")
            for number, sweep in enumerate(sweeps, 1):
                where, prefix = f"[[{kind}]] #{number}", f"{kind}#{number}"
                if kind == "apply":
                    new = self.apply_tasks(sweep, where, prefix, task_settings)
                else:
                    new = self.factorize_tasks(sweep, where, prefix, kind, task_settings,
                                               methods)
                self.unique_ids(new, where, ids)
                tasks += new
        if not tasks:
            self.fail("top level", "the suite has no [[apply]], [[factorize]] or "
                                   "[[factorize_time]] sweep")
        named = {c["label"] for task in tasks for c in task["contenders"]
                 if c["kind"] == "factorize"}
        return Suite(name, description, self.source, text, settings, tasks,
                     self.claims(document.get("claims", []), methods),
                     {label: methods[label] for label in sorted(named)})
