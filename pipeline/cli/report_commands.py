"""`newsletter report [ISSUE] [--json] [--csv]`: what an issue did.

Tables in the operator's language (`--lang`, else the site's), at most 80 columns wide;
`--json` with the keys of ../shared/DESIGN.md; `--csv` one row per link and variant.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import ConfigOption, JsonOption, open_store, output_locale
from pipeline.errors import ConfigError
from pipeline.render import dates
from pipeline.render.i18n import translations
from pipeline.report.figures import Clicks, IssueReport
from pipeline.report.issue_report import issue_report
from pipeline.report.words import number, percent, report_words, variant_name

WIDTH = 80
CSV_COLUMNS = (
    "issue",
    "variant",
    "variant_no",
    "position",
    "url",
    "kind",
    "item_id",
    "item",
    "section",
    "clicks",
    "machine_clicks",
    "clicking_readers",
    "agreed",
)

CsvOption = Annotated[bool, typer.Option("--csv", help="Print one CSV row per link and variant.")]


def report(
    issue: Annotated[
        int | None, typer.Argument(help="The issue's number (default: the last issue).")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """What an issue did: delivered, bounced, complaints, unsubscribes, clicks per link and item."""
    if as_json and as_csv:
        raise ConfigError("--json and --csv: choose one")
    settings, engine = open_store(config)
    locale = output_locale(settings)
    with engine.connect() as connection:
        found = issue_report(connection, settings, issue)
    if as_json:
        typer.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    elif as_csv:
        write_csv(found)
    else:
        console = Console(width=WIDTH, highlight=False)
        print_report(found, locale, settings.site.timezone, console)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A text cell a spreadsheet will not run: titles and links come from outside feeds,
    and `=HYPERLINK(...)` in a title would be a formula (OWASP's CSV injection)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(found: IssueReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for variant in found.variants:
        for link in variant.links:
            writer.writerow(
                (
                    found.number,
                    cell(variant.key),
                    variant.number,
                    link.position,
                    cell(link.url),
                    link.kind,
                    "" if link.item_id is None else link.item_id,
                    cell(link.item or ""),
                    cell(link.section or ""),
                    link.clicks.clicks,
                    link.clicks.machine_clicks,
                    link.clicks.clicking_readers,
                    link.clicks.agreed,
                )
            )


def print_report(found: IssueReport, locale: str, timezone: str, out: Console) -> None:
    _ = translations(locale).gettext
    state = report_words(locale)["state"].get(found.state, found.state)
    out.print(
        _("Issue %(number)s: %(subject)s")
        % {"number": found.number, "subject": escape(found.subject)}
    )
    day = dates.long_date(found.created_at, locale, timezone)
    when = f"{day}, {dates.clock_time(found.created_at, locale, timezone)}"
    out.print(_("Built on %(date)s; %(state)s.") % {"date": when, "state": state})
    out.print(_figures_table(found, locale))
    if not found.readers_kept:
        out.print(retention_note(locale))
    if len(found.variants) > 1:
        out.print(_variants_table(found, locale))
    if not found.tracked:
        out.print(_("The links of this issue were not tracked: no clicks were counted."))
    else:
        out.print(_clicks_table(found, locale))
        out.print(_links_table(found, locale))
    if found.opens is not None:
        _print_opens(found, locale, out)


def retention_note(locale: str) -> str:
    return translations(locale).gettext(
        "This issue is older than analytics.retention_days: its clicks no longer name "
        "anyone, so the readers who clicked and the click-through rate are not known any "
        "more (0 of N); the clicks themselves still count."
    )


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold")


def _figures_table(found: IssueReport, locale: str) -> Table:
    """The issue's totals, one figure a row: recipients down to readers who clicked."""
    _ = translations(locale).gettext
    words = report_words(locale)
    figure = words["figure"]
    d, c = found.deliveries, found.clicks
    table = _table(_("The issue in figures"))
    table.add_column(_("Figure"))
    table.add_column(_("Count"), justify="right")
    table.add_column(_("Of which"), overflow="fold")
    rows = [
        (
            figure["recipients"],
            d.recipients,
            _breakdown(locale, skipped=d.skipped, pending=d.pending),
        ),
        (_("Sent"), d.sent, ""),
        (figure["delivered"], d.delivered, _("sent, not bounced or blocked")),
        (figure["failed"], d.failed, _breakdown(locale, unsettled=d.unsettled)),
        (
            figure["bounced"],
            d.bounced,
            _breakdown(locale, hard=d.bounced_hard, soft=d.bounced_soft),
        ),
        (figure["blocked"], d.blocked, ""),
        (figure["complaints"], d.complaints, ""),
        (figure["unsubscribed"], d.unsubscribed, _counted(words["way"], d.unsubscribed_by, locale)),
    ]
    if found.tracked:
        rows += [
            (figure["clicks"], c.clicks, _("by readers")),
            (
                figure["machine_clicks"],
                c.machine_clicks,
                _counted(words["machine"], c.machine_by, locale),
            ),
            (figure["clicking_readers"], c.clicking_readers, agreed_text(c, locale)),
        ]
    for label, count, detail in rows:
        table.add_row(label, number(count, locale), detail)
    return table


def _breakdown(locale: str, **parts: int) -> str:
    """ "hard 2, soft 1" in the report's words, leaving out the noughts."""
    _ = translations(locale).gettext
    names = {
        "skipped": _("skipped"),
        "pending": _("not yet sent"),
        "unsettled": _("unsettled"),
        "hard": _("hard"),
        "soft": _("soft"),
    }
    return ", ".join(f"{names[k]} {number(v, locale)}" for k, v in parts.items() if v)


def _counted(names: dict[str, str], counts: dict[str, int], locale: str) -> str:
    return ", ".join(
        f"{names.get(key, key)} {number(count, locale)}" for key, count in counts.items() if count
    )


def _variants_table(found: IssueReport, locale: str) -> Table:
    _ = translations(locale).gettext
    figure = report_words(locale)["figure"]
    table = _table(_("By variant"))
    table.add_column(_("Variant"), overflow="fold")
    for key in ("recipients", "delivered", "clicks"):
        table.add_column(figure[key], justify="right")
    table.add_column(_("Readers (of N who agreed)"), justify="right")
    for variant in found.variants:
        d, c = variant.deliveries, variant.clicks
        table.add_row(
            escape(variant_name(variant.key, locale)),
            number(d.recipients, locale),
            number(d.delivered, locale),
            number(c.clicks, locale),
            _readers_cell(c, locale),
        )
    return table


def agreed_text(clicks: Clicks, locale: str) -> str:
    """ "12 of 40 who agreed (30 %)": unique readers only among those who agreed."""
    _ = translations(locale).gettext
    return _("%(readers)s of %(agreed)s who agreed (%(rate)s)") % {
        "readers": number(clicks.clicking_readers, locale),
        "agreed": number(clicks.agreed, locale),
        "rate": percent(clicks.click_through_rate, locale),
    }


def _clicks_table(found: IssueReport, locale: str) -> Table:
    _ = translations(locale).gettext
    words = report_words(locale)
    table = _table(_("Clicks by section and item"))
    table.add_column(_("Item"), overflow="fold", ratio=1)
    table.add_column(words["figure"]["clicks"], justify="right")
    table.add_column(_("Machine"), justify="right")
    table.add_column(_("Readers (of N who agreed)"), justify="right")
    for section in found.sections:
        s = section.clicks
        table.add_row(
            f"[bold]{words['section'].get(section.kind, section.kind)}[/bold]",
            number(s.clicks, locale),
            number(s.machine_clicks, locale),
            _readers_cell(s, locale),
        )
        for item in (i for i in found.items if i.section == section.kind):
            table.add_row(
                "  " + _escape(item.title),
                number(item.clicks.clicks, locale),
                number(item.clicks.machine_clicks, locale),
                _readers_cell(item.clicks, locale),
            )
    return table


def _links_table(found: IssueReport, locale: str) -> Table:
    _ = translations(locale).gettext
    table = _table(_("Clicks by link"))
    table.add_column(_("Link"), overflow="fold", ratio=1)
    table.add_column(report_words(locale)["figure"]["clicks"], justify="right")
    table.add_column(_("Machine"), justify="right")
    for link in found.links:
        table.add_row(
            _escape(link.url),
            number(link.clicks.clicks, locale),
            number(link.clicks.machine_clicks, locale),
        )
    return table


def _readers_cell(clicks: Clicks, locale: str) -> str:
    return (
        f"{number(clicks.clicking_readers, locale)}/{number(clicks.agreed, locale)} "
        f"({percent(clicks.click_through_rate, locale)})"
    )


def _print_opens(found: IssueReport, locale: str, out: Console) -> None:
    assert found.opens is not None
    _ = translations(locale).gettext
    opens = found.opens
    out.print(
        _(
            "Opens, shown apart: privacy proxies such as Apple Mail load every image, "
            "so opens say little."
        )
    )
    out.print(
        "  "
        + _(
            "%(opens)s opens, %(machine)s by machines; %(readers)s of %(agreed)s who agreed opened."
        )
        % {
            "opens": number(opens.opens, locale),
            "machine": number(opens.machine_opens, locale),
            "readers": number(len(opens.readers), locale),
            "agreed": number(opens.agreed, locale),
        }
    )


def _escape(text: str) -> str:
    """Titles and URLs are data: rich must not read `[...]` in them as markup."""
    return escape(text)
