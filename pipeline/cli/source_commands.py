"""`newsletter sources try`: what would be collected from a page, before it is configured."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
import yaml
from pydantic import ValidationError

from pipeline.cli.common import ConfigOption, read_config
from pipeline.collect.listing import PARTS
from pipeline.config import PageSelectors, describe_validation_error

if TYPE_CHECKING:
    from pipeline.collect.item import CollectedItem
    from pipeline.collect.page_try import TryResult
    from pipeline.collect.pages import PageOutcome

sources_app = typer.Typer(
    help="Try a source before it goes into config.yaml.", no_args_is_help=True
)
NAMES = ("entry", *PARTS)
SUMMARY_SHOWN = 160


@sources_app.command("try")
def try_command(
    url: Annotated[str, typer.Argument(help="The page's (or calendar's) address.")],
    selector: Annotated[
        list[str] | None,
        typer.Option(
            "--selector",
            help="NAME=CSS, repeatable; NAME is one of entry, title, link, date, summary, "
            "image (entry, title and link are needed for a page).",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Show what collect would make of a web page with these selectors, or of a calendar.

    Exits 1 when nothing could be read.
    """
    from pipeline.collect.page_try import try_source

    settings = read_config(config)
    selectors = parse_selectors(selector or [])
    result = try_source(url, selectors, settings, datetime.now(UTC))
    if result.error is not None:
        typer.echo(f"error: {url}: {result.error}", err=True)
        raise typer.Exit(1)
    if result.calendar is not None:
        show_calendar(url, result.calendar)
        return
    typer.echo(f"Web page: {result.page_title or '(no title)'}")
    if result.outcome is None:
        typer.echo(
            "Name its parts to see its entries: --selector entry=CSS --selector title=CSS "
            "--selector link=CSS (and date, summary, image if it has them)."
        )
        return
    for line in page_lines(result, ZoneInfo(settings.site.timezone)):
        typer.echo(line)
    if result.outcome.warning:
        typer.echo(f"warning: {result.outcome.warning}", err=True)
    if result.outcome.error:
        typer.echo(f"error: {result.outcome.error}", err=True)
        raise typer.Exit(1)


def parse_selectors(given: list[str]) -> PageSelectors | None:
    """`NAME=CSS` options as selectors; None when none are given."""
    chosen: dict[str, str] = {}
    for option in given:
        name, sign, css = option.partition("=")
        name = name.strip()
        if not sign or not css.strip():
            _refuse(f"{option!r}: give NAME=CSS")
        if name not in NAMES:
            _refuse(f"{name!r} is not one of {', '.join(NAMES)}")
        chosen[name] = css.strip()
    if not chosen:
        return None
    missing = [name for name in ("entry", "title", "link") if name not in chosen]
    if missing:
        _refuse(f"a page needs entry, title and link; missing: {', '.join(missing)}")
    try:
        return PageSelectors.model_validate(chosen)
    except ValidationError as exc:
        _refuse(describe_validation_error(exc))


def _refuse(problem: str) -> NoReturn:
    typer.echo(f"error: --selector {problem}", err=True)
    raise typer.Exit(2)


def show_calendar(url: str, body: bytes) -> None:
    """What `sources try` shows of a calendar: the one place to list its occurrences once
    pipeline/collect/calendars.py reads them."""
    typer.echo(f"Calendar (.ics): {url}")
    typer.echo("Add it to config.yaml under sources.calendars, not sources.pages.")


def page_lines(result: TryResult, timezone: ZoneInfo) -> list[str]:
    """What each selector found, each entry as collect would store it, then the entry
    for config.yaml."""
    outcome = result.outcome
    assert outcome is not None and outcome.listing is not None
    listing, selectors = outcome.listing, outcome.source.selectors
    count = len(listing.entries) + listing.without_title_or_link
    if count == 0:
        return [f"entry   `{selectors.entry}`: matches nothing on the page"]
    lines = [f"entry   `{selectors.entry}`: {count} entries"]
    for part in PARTS:
        css = getattr(selectors, part)
        if css is None:
            lines.append(f"{part:<8}(none) {_unset(part)}")
        else:
            lines.append(f"{part:<8}`{css}`: {_found(listing.found[part], count)}")
    unread = [e.date_text for e in listing.entries if e.date_text and e.date is None]
    if unread:
        lines.append(f"         not read as a date: {', '.join(repr(t) for t in unread[:3])}")
    if listing.without_title_or_link:
        lines.append(f"{listing.without_title_or_link} entries without title or link are left out")
    shown = len(outcome.items)
    lines += ["", f"The first {shown} entries, as collect would store them:"]
    for number, item in enumerate(outcome.items, 1):
        lines += _item_lines(number, item, timezone)
    return [*lines, "", "For config.yaml, under sources.pages:", *_config_entry(outcome)]


def _unset(part: str) -> str:
    return {
        "date": "each entry takes the day it is first seen",
        "summary": "each linked article's main text gives the summary",
        "image": "no images",
    }.get(part, "")


def _found(found: int, count: int) -> str:
    if found == 0:
        return f"matches nothing inside the {count} entries: try it on one entry's HTML"
    return f"found in {found} of {count} entries"


def _item_lines(number: int, item: CollectedItem, timezone: ZoneInfo) -> list[str]:
    day = item.published_at.astimezone(timezone).strftime("%d.%m.%Y")
    summary = item.summary or "(none)"
    if len(summary) > SUMMARY_SHOWN:
        summary = summary[:SUMMARY_SHOWN].rsplit(" ", 1)[0] + " …"
    lines = [
        f"{number}. {item.title}",
        f"   link:    {item.link or '(none)'}",
        f"   date:    {'first seen, ' if item.undated else ''}{day}",
    ]
    lines += textwrap.wrap(summary, 80, initial_indent="   summary: ", subsequent_indent=" " * 12)
    if item.image:
        alt = f" ({item.image_alt})" if item.image_alt else ""
        lines.append(f"   image:   {item.image}{alt}")
    return lines


def _config_entry(outcome: PageOutcome) -> list[str]:
    selectors = outcome.source.selectors.model_dump(exclude_none=True)
    entry = {"name": outcome.source.name, "url": outcome.source.url, "selectors": selectors}
    text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000)
    return ["  " + line for line in text.splitlines()]
