"""Operators' template overrides, and template errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.errors import TemplateError
from pipeline.render.issue import render_issue
from tests.conftest import Project
from tests.render.conftest import make_issue, make_item

ISSUE = make_issue(make_item(1, "report"))


def render(config: Config, templates: Path) -> str:
    return render_issue(
        ISSUE, site=config.site, locale="de", subject="S", override_dirs=[templates]
    ).html


def test_a_template_of_the_same_name_in_the_override_folder_wins(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "header.mjml.j2").write_text(
        "<mj-section><mj-column><mj-text><h1>Unser eigener Kopf</h1></mj-text>"
        "</mj-column></mj-section>\n",
        "utf-8",
    )
    html = render(config, tmp_path)
    assert "Unser eigener Kopf" in html
    assert "Titel 1" in html  # the rest still comes from the built-in templates


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<mj-section>\n<mj-column>\n{% if %}\n</mj-column></mj-section>\n", "Expected an expr"),
        ("<mj-section>\n<mj-column><mj-text>\n{{ site.nam }}\n</mj-text>\n", ".*nam"),
    ],
    ids=["syntax error", "undefined name"],
)
def test_a_broken_template_is_named_with_its_line(
    config: Config, tmp_path: Path, source: str, reason: str
) -> None:
    (tmp_path / "partials").mkdir()
    broken = tmp_path / "partials" / "footer.mjml.j2"
    broken.write_text(source, "utf-8")
    with pytest.raises(TemplateError, match=rf"{broken}:3: {reason}"):
        render(config, tmp_path)


def test_mjml_that_does_not_compile_is_reported(config: Config, tmp_path: Path) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "footer.mjml.j2").write_text("<mj-section><mj-column>\n", "utf-8")
    with pytest.raises(TemplateError, match=r"issue\.mjml\.j2: MJML does not compile"):
        render(config, tmp_path)


def test_the_configured_folder_is_used_by_the_preview(ready_project: Project) -> None:
    (ready_project.root / "mytemplates").mkdir()
    (ready_project.root / "mytemplates" / "issue.txt.j2").write_text(
        "Eigene Textfassung. {{ recipient.unsubscribe_url }}\n{{ site.postal_address }}\n",
        "utf-8",
    )
    ready_project.edit_config(lambda raw: raw["issue"].update(templates_dir="mytemplates"))
    ready_project.run("preview", "--out", "out")
    text = (ready_project.root / "out" / "issue-1.de.txt").read_text("utf-8")
    assert text.startswith("Eigene Textfassung.")
