"""What machine and software a benchmark ran on (``meta.json``, ``fastfact info``)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["cpu_model", "format_info", "git_revision", "machine_info"]

_VERSIONED = ("fastfact", "numpy", "scipy", "numba", "pandas")
_THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_NUM_THREADS",
                     "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def git_revision(path: Path | None = None) -> dict:
    """``{"sha", "dirty"}`` of the git checkout holding fastfact, or Nones outside one."""
    path = path or Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=path, capture_output=True, text=True, timeout=10,
                                check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"sha": None, "dirty": None}
    return {"sha": sha, "dirty": bool(status.strip())}


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _numba_threads() -> dict:
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet: start the thread pool to find out
        try:
            from numba.np.ufunc.parallel import _launch_threads

            _launch_threads()
            layer = numba.threading_layer()
        except (ImportError, ValueError, RuntimeError) as exc:
            layer = f"unknown ({exc}; requested: {numba.config.THREADING_LAYER})"
    return {"threading_layer": layer, "num_threads": numba.get_num_threads(),
            "max_threads": numba.config.NUMBA_NUM_THREADS}


def usable_threads() -> int:
    """The most threads a benchmark task can pin: the size of Numba's pool."""
    import numba

    return numba.config.NUMBA_NUM_THREADS


def _blas() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer",
            "architecture")
    return [{key: pool.get(key) for key in keys} for pool in threadpool_info()]


def machine_info() -> dict:
    """Machine, CPU, versions, threads, BLAS, implementations (``peers``: fastfact's own and
    every peer, installed or not) and git revision as one JSON-able dict."""
    from fastfact.impls import status

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": {"model": cpu_model(), "logical_cores": os.cpu_count(), "usable_cores": usable},
        "python": sys.version.split()[0],
        "versions": {name: _version(name) for name in _VERSIONED},
        "numba": _numba_threads(),
        "blas": _blas(),
        "environment": {name: os.environ.get(name) for name in _THREAD_VARIABLES},
        "peers": status(),
        "git": git_revision(),
    }


def format_info(info: dict) -> str:
    """``machine_info()`` as the human-readable text of ``fastfact info``."""
    lines = ["fastfact " + str(info["versions"]["fastfact"]), ""]
    lines.append(f"python      {info['python']}")
    for name in _VERSIONED[1:]:
        lines.append(f"{name:<11} {info['versions'][name] or 'not installed'}")
    cpu = info["cpu"]
    lines += ["", f"platform    {info['platform']}",
              f"cpu         {cpu['model']}",
              f"cores       {cpu['logical_cores']} logical, {cpu['usable_cores']} usable",
              f"numba       threading layer {info['numba']['threading_layer']}, "
              f"{info['numba']['num_threads']} threads (max {info['numba']['max_threads']})"]
    for pool in info["blas"]:
        if "error" in pool:
            lines.append(f"blas        {pool['error']}")
        else:
            details = ", ".join(str(pool[key]) for key in ("threading_layer", "architecture")
                                if pool.get(key))
            lines.append(f"{pool['user_api']:<11} {pool['internal_api']} {pool['version'] or ''}"
                         f" ({pool['num_threads']} threads{', ' + details if details else ''})")
    set_variables = {k: v for k, v in info["environment"].items() if v is not None}
    if set_variables:
        lines.append("environment " + " ".join(f"{k}={v}" for k, v in set_variables.items()))
    lines += ["", "peers"]
    for peer in info["peers"]:
        state = peer["version"] if peer["available"] else f"absent: {peer['reason']}"
        lines.append(f"  {peer['name']:<18} {peer['kind']:<9} {state}")
    git = info["git"]
    if git["sha"]:
        lines += ["", f"git         {git['sha']}{' (dirty)' if git['dirty'] else ''}"]
    return "\n".join(lines)
