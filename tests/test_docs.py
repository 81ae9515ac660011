"""Docs that cannot drift: the config reference is generated from the config model."""

from __future__ import annotations

from pipeline.config import Config
from pipeline.config_docs import nested_model, reference
from tests.conftest import REPO


def test_configuration_reference_is_current() -> None:
    current = (REPO / "docs" / "configuration.md").read_text("utf-8")
    assert current == reference(), "run: python -m pipeline.config_docs > docs/configuration.md"


def test_every_config_key_is_described() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in _models(Config)
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert missing == []


def _models(model: type) -> list[type]:
    found = [model]
    for field in model.model_fields.values():  # type: ignore[attr-defined]
        nested = nested_model(field.annotation)
        if nested is not None:
            found += _models(nested)
    return found


def test_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
