"""Fixtures shared by the benchmark-runner tests."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_peers(tmp_path_factory, monkeypatch):
    """The implementations of ``tests/fake_peers.py``, registered here and in the worker
    processes that tasks run in (a ``sitecustomize`` on their ``PYTHONPATH``)."""
    from fastfact.impls._registry import _REGISTRY
    from tests import fake_peers

    for implementation in fake_peers.implementations():
        monkeypatch.setitem(_REGISTRY, (implementation.kind, implementation.name),
                            implementation)
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text("from tests.fake_peers import register_all\n"
                                           "register_all()\n")
    path = [str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    return fake_peers
