"""The bench scripts stay runnable: each imports against the current code."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import REPO

BENCHES = sorted(
    path.stem for path in (REPO / "bench").glob("*.py") if path.stem not in ("__init__", "memory")
)


@pytest.mark.parametrize("name", BENCHES)
def test_bench_imports(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.main)
