"""The Jinja2 environment: the project's templates, overridable by an operator's folder."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import jinja2

from pipeline.errors import TemplateError
from pipeline.render import dates
from pipeline.render.fragment import mjml_safe
from pipeline.render.i18n import translations

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def make_environment(
    locale: str, override_dirs: Sequence[Path] = (), timezone: str = "Europe/Berlin"
) -> jinja2.Environment:
    """One environment per locale and time zone; templates in `override_dirs` win."""
    return _environment(locale, tuple(override_dirs), timezone)


@cache
def _environment(locale: str, override_dirs: tuple[Path, ...], timezone: str) -> jinja2.Environment:
    # Cached so each template is compiled to Python once per process, not once per issue;
    # the loader still notices when an operator edits an override.
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
    environment.filters.update(
        long_date=lambda moment: dates.long_date(moment, locale, timezone),
        short_date=lambda moment: dates.short_date(moment, locale, timezone),
        mjml_safe=mjml_safe,
    )
    environment.globals["event_when"] = lambda item: dates.event_when(
        item.event_start, item.event_end, locale, timezone, all_day=item.event_all_day
    )
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
        raise TemplateError(f"{_template_location(exc, name)}: {exc}") from exc


def _template_location(exc: BaseException, name: str) -> str:
    """`file:line` of the innermost template in the traceback, where Jinja recorded one."""
    tb = exc.__traceback__
    where = f"{name}:?"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
