"""The Jinja2 environment: the project's templates, overridable by an operator's folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2

from pipeline.errors import TemplateError
from pipeline.render.i18n import translations

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def make_environment(locale: str, override_dirs: Sequence[Path] = ()) -> jinja2.Environment:
    """One environment per locale; templates in `override_dirs` win over the defaults."""
    search_path = [str(path) for path in override_dirs] + [str(DEFAULT_TEMPLATES)]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search_path),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("mjml.j2", "html.j2"), default_for_string=True
        ),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return environment


def render_template(environment: jinja2.Environment, name: str, context: dict[str, object]) -> str:
    """Render one template; any template error names the file and line."""
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found in templates/") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}:{_template_line(exc, name)}: {exc}") from exc


def _template_line(exc: BaseException, name: str) -> str:
    """The line of the template in the traceback, where Jinja recorded one."""
    tb = exc.__traceback__
    line = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line
