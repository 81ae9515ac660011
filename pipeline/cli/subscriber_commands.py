"""`newsletter subscribers ...`: the subscriber store."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.bounces.records import last_bounce
from pipeline.cli.common import ConfigOption, JsonOption, open_store, out
from pipeline.errors import NewsletterError
from pipeline.files import open_private
from pipeline.logs import LogFormat, configure
from pipeline.send.ledger import cancel_pending_deliveries
from subscribers import gdpr, import_csv, store, suppression
from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.csv_export import export_csv
from subscribers.import_rows import count_lines
from subscribers.store import iter_all

log = logging.getLogger("newsletter.import")
subscribers_app = typer.Typer(help="The subscriber store.", no_args_is_help=True)
LogFormatOption = Annotated[
    str,
    typer.Option("--log-format", help="`text`, or `json`: one object a line, and no progress bar."),
]


def _log_format(value: str) -> LogFormat:
    if value not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    return "json" if value == "json" else "text"


@contextlib.contextmanager
def _import_progress(path: Path, *, shown: bool) -> Iterator[Callable[[int], None]]:
    """A bar of the sheet's lines on stderr while the import runs, in a terminal only."""
    terminal = Console(stderr=True)
    if not shown or not terminal.is_terminal:
        yield lambda _line: None
        return
    columns = (
        TextColumn(f"importing {path.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=terminal, transient=True) as bar:
        task = bar.add_task("import", total=count_lines(path))
        yield lambda line: bar.update(task, completed=line)


@subscribers_app.command("import")
def subscribers_import(
    csv_path: Annotated[Path, typer.Argument(help="CSV with an `email` column.")],
    config: ConfigOption = None,
    apply: Annotated[bool, typer.Option("--apply", help="Write; without it, only check.")] = False,
    consent_given_by: Annotated[
        str | None, typer.Option(help="Who vouches for the consent of rows without `consent_at`.")
    ] = None,
    log_format: LogFormatOption = "text",
) -> None:
    """Import subscribers from CSV: a dry run unless --apply; one transaction."""
    chosen = _log_format(log_format)
    if chosen == "json":
        configure("json")
    settings, engine = open_store(config)
    with _import_progress(csv_path, shown=chosen == "text") as progress:
        report = import_csv(
            engine,
            csv_path,
            topic_keys=[topic.key for topic in settings.topics],
            consent_given_by=consent_given_by,
            apply=apply,
            progress=progress,
        )
    for problem in report.problems:
        if chosen == "json":
            where = {"file": str(csv_path), "row": problem.row, "column": problem.column}
            log.warning("row refused: %s", problem.reason, extra=where)
        else:
            typer.echo(f"{csv_path}: {problem}", err=True)
    counts = {"added": len(report.added), "known": len(report.known), "refused": report.refused}
    if chosen == "json":
        typer.echo(json.dumps({"file": str(csv_path), "applied": report.applied, **counts}))
    else:
        verb = "Imported" if report.applied else "Would import (dry run; --apply to write)"
        out.print(
            f"{verb} {counts['added']} new subscriber(s) from {csv_path}; "
            f"{counts['known']} already known, {counts['refused']} row(s) refused."
        )
    if report.problems:
        raise typer.Exit(1)


@subscribers_app.command("list")
def subscribers_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List subscribers with their state."""
    _settings, engine = open_store(config)
    with engine.connect() as connection:
        everyone = list(iter_all(connection))
    if as_json:
        rows = [
            {
                "email": s.email,
                "name": s.name,
                "locale": s.locale,
                "topics": list(s.topics),
                "state": s.state,
            }
            for s in everyone
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("email", "name", "locale", "topics", "state")
    for s in everyone:
        table.add_row(s.email, s.name, s.locale, ", ".join(s.topics), s.state)
    out.print(table)


def _address(raw: str) -> str:
    try:
        return normalise_address(raw)
    except InvalidAddress as exc:
        raise NewsletterError(f"{raw!r} is not a valid address: {exc}") from exc


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[str, typer.Argument(help="The address to add.")],
    consent_given_by: Annotated[
        str, typer.Option(help="Who vouches for this person's consent (recorded).")
    ],
    config: ConfigOption = None,
    name: Annotated[str, typer.Option(help="The subscriber's name.")] = "",
    locale: Annotated[str, typer.Option(help="de or en.")] = "de",
    topic: Annotated[list[str] | None, typer.Option(help="A topic key; repeat for more.")] = None,
) -> None:
    """Add one active subscriber whose consent someone vouches for."""
    settings, engine = open_store(config)
    address = _address(email)
    known = {t.key for t in settings.topics}
    unknown = [t for t in topic or [] if t not in known]
    if unknown:
        raise NewsletterError(f"--topic: unknown topic(s) {', '.join(unknown)}")
    if locale not in ("de", "en"):
        raise NewsletterError(f"--locale: {locale!r} is not de or en")
    with engine.begin() as connection:
        if store.find(connection, address) is not None:
            out.print(f"{address} is already in the store: nothing changed.")
            return
        reason = suppression.reason_for(connection, address)
        if reason is not None:
            raise NewsletterError(f"{address} is on the suppression list ({reason}): not added")
        consent = store.Consent("admin", f"vouched for by {consent_given_by}", datetime.now(UTC))
        store.add(
            connection,
            email=address,
            name=name,
            locale=locale,
            topics=topic or [],
            state="active",
            consent=consent,
        )
    out.print(f"Added {address} as an active subscriber.")


@subscribers_app.command("show")
def subscribers_show(
    email: Annotated[str, typer.Argument(help="The address to look up.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One subscriber: state, history, and the bounce that suppressed them."""
    _settings, engine = open_store(config)
    address = _address(email)
    with engine.connect() as connection:
        found = store.find(connection, address)
        if found is None:
            reason = suppression.reason_for(connection, address)
            listed = "" if reason is None else f" (its address is suppressed: {reason})"
            raise NewsletterError(f"{address} is not in the store{listed}")
        history = store.history(connection, found.id)
        suppressed = suppression.reason_for(connection, address)
        bounce = last_bounce(connection, found.id)
        stats = store.stats_consent(connection, found.id)
        consent = store.consent(connection, found.id)
    record = {
        "email": found.email,
        "name": found.name,
        "locale": found.locale,
        "topics": list(found.topics),
        "state": found.state,
        "suppressed": suppressed,
        "consent": None
        if consent is None
        else {
            "at": consent.at.isoformat(),
            "source": consent.source,
            "detail": consent.detail,
            "text_version": consent.text_version,
            "ip": consent.ip,
        },
        "stats_consent": None
        if stats is None
        else {"at": stats.at.isoformat(), "text_version": stats.text_version},
        "history": history,
        "last_bounce": None
        if bounce is None
        else {
            "kind": bounce.kind,
            "source": bounce.source,
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
            "at": bounce.at.isoformat(),
            "issue": bounce.issue,
        },
    }
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    out.print(f"{found.email}: {found.state}", highlight=False)
    if found.name:
        out.print(f"  name: {found.name}", highlight=False)
    out.print(f"  locale: {found.locale}; topics: {', '.join(found.topics) or 'none'}")
    out.print(f"  consent: {_consent_line(consent)}", highlight=False)
    out.print(f"  personalised statistics: {_stats_consent_line(stats)}", highlight=False)
    if suppressed is not None:
        out.print(f"  suppressed: {suppressed}")
    if bounce is not None:
        label = "suppressed by" if found.state in ("bounced", "complained") else "last bounce"
        status = f" {bounce.status}" if bounce.status else ""
        out.print(
            f"  {label}: {bounce.kind}{status} from {bounce.source}, issue {bounce.issue}, "
            f"{bounce.at.isoformat(timespec='minutes')}: {bounce.diagnostic}",
            highlight=False,
        )
    table = Table("at", "state", "cause", title="History")
    for line in history:
        table.add_row(line["at"][:16].replace("T", " "), line["state"], line["cause"])
    out.print(table)


def _consent_line(consent: store.Consent | None) -> str:
    if consent is None:
        return "none recorded"
    version = f", text version {consent.text_version}" if consent.text_version else ""
    return f"{consent.source}, {consent.at:%Y-%m-%d %H:%M} UTC{version}: {consent.detail}"


def _stats_consent_line(stats: store.StatsConsent | None) -> str:
    if stats is None:
        return "not given"
    return f"agreed {stats.at:%Y-%m-%d %H:%M} UTC, text version {stats.text_version}"


@subscribers_app.command("remove")
def subscribers_remove(
    email: Annotated[str, typer.Argument(help="The address to unsubscribe.")],
    config: ConfigOption = None,
) -> None:
    """Unsubscribe an address (kept in the store, mailed no more); see `erase` to delete."""
    _settings, engine = open_store(config)
    address = _address(email)
    with engine.begin() as connection:
        found = store.find(connection, address)
        if found is None:
            raise NewsletterError(f"{address} is not in the store")
        if found.state in ("active", "pending"):
            store.set_state(connection, found.id, "unsubscribed", "removed by an operator")
        cancelled = cancel_pending_deliveries(connection, found.id)
    out.print(f"{address} is unsubscribed; {cancelled} pending deliveries cancelled.")


@subscribers_app.command("export")
def subscribers_export(
    config: ConfigOption = None,
    email: Annotated[
        str | None, typer.Option(help="Print all data held on this one person as JSON (GDPR).")
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="File to write, CSV or with --email JSON (default: standard output)."
        ),
    ] = None,
) -> None:
    """Export every subscriber as CSV (spreadsheet-safe), or one person's data as JSON."""
    _settings, engine = open_store(config)
    with engine.connect() as connection:
        if email is not None:
            record = gdpr.export_person(connection, _address(email))
            if record is None:
                raise NewsletterError(f"no data is held on {email}")
            document = json.dumps(record, ensure_ascii=False, indent=2)
            if out_path is None:
                typer.echo(document)
                return
            with open_private(out_path) as handle:
                handle.write(document + "\n")
            out.print(f"Exported the data held on {email} to {out_path}.")
            return
        if out_path is None:
            export_csv(connection, sys.stdout)
            return
        with open_private(out_path, newline="") as handle:
            count = export_csv(connection, handle)
    out.print(f"Exported {count} subscriber(s) to {out_path}.")


@subscribers_app.command("erase")
def subscribers_erase(
    email: Annotated[str, typer.Argument(help="The address whose data is erased.")],
    config: ConfigOption = None,
) -> None:
    """Erase all data on a person (GDPR); only a salted hash stays, blocking re-import."""
    _settings, engine = open_store(config)
    address = _address(email)
    with engine.begin() as connection:
        held = gdpr.erase(connection, address)
    if held:
        out.print(f"Erased all data on {address}; a salted hash blocks its re-import.")
    else:
        out.print(f"No data was held on {address}; its salted hash now blocks an import.")
