"""The palette keeps body text readable: WCAG contrast of at least 4.5:1, light and dark."""

from __future__ import annotations

import pytest

from pipeline.config import Colors
from pipeline.errors import ConfigError
from pipeline.render.palette import (
    DARK,
    DARK_TEXT_ON_BACKGROUND,
    MINIMUM_CONTRAST,
    TEXT_ON_BACKGROUND,
    contrast_ratio,
)
from tests.conftest import Project


def test_contrast_ratio_matches_wcags_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("foreground", "background"), TEXT_ON_BACKGROUND)
def test_default_light_palette_is_readable(foreground: str, background: str) -> None:
    colors = Colors().model_dump()
    assert contrast_ratio(colors[foreground], colors[background]) >= MINIMUM_CONTRAST


@pytest.mark.parametrize(("foreground", "background"), DARK_TEXT_ON_BACKGROUND)
def test_dark_mode_palette_is_readable(foreground: str, background: str) -> None:
    assert contrast_ratio(DARK[foreground], DARK[background]) >= MINIMUM_CONTRAST


def test_config_refuses_colours_readers_cannot_read(project: Project) -> None:
    project.edit_config(lambda raw: raw["site"].update(colors={"muted": "#aaaaaa"}))
    with pytest.raises(ConfigError, match=r"site\.colors: .*muted #aaaaaa on card #ffffff"):
        project.config()
