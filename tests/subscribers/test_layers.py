"""`subscribers/` imports nothing from `pipeline/`: the pipeline depends on the subscriber
store, never the other way (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import subscribers

PACKAGE = Path(subscribers.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_of_the_subscriber_store_imports_the_pipeline() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 5
    reaching_up = {
        path.name: sorted(m for m in _imported_modules(path) if m.split(".")[0] == "pipeline")
        for path in modules
    }
    assert {name: found for name, found in reaching_up.items() if found} == {}
