"""`newsletter preflight` and `newsletter test-send`: check the next issue, or try it out."""

from __future__ import annotations

import asyncio
from typing import Annotated

import sqlalchemy as sa
import typer
from email_validator import EmailNotValidError, validate_email

from pipeline import db
from pipeline.cli.common import ConfigOption, keys_for, open_store, out
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.issue.build import audience, next_issue_content, render_variants
from pipeline.issue.linkcheck import check_links
from pipeline.issue.preflight import Finding, PreflightFailed, preflight
from pipeline.issue.test_send import make_test_message, send_test_message
from pipeline.render.issue import RenderedIssue
from pipeline.tokens import SecretKeys


def _next_variants(
    settings: Config, engine: sa.Engine, preview_keys: SecretKeys | None = None
) -> list[RenderedIssue]:
    with engine.connect() as connection:
        content = next_issue_content(connection, settings, db.now())
        readers = audience(connection, settings.site.locale)
    return render_variants(content, settings, readers, preview_keys)


def preflight_command(
    config: ConfigOption = None,
    links: Annotated[
        bool, typer.Option("--links", help="Also ask every link whether it answers (slow).")
    ] = False,
) -> None:
    """Run the checks that gate a send on the next issue."""
    settings, engine = open_store(config)
    variants = _next_variants(settings, engine)
    findings = preflight(variants, settings)
    if links:
        findings += asyncio.run(check_links(variants, settings))
    _print_findings(findings)
    keys = ", ".join(v.variant_key for v in variants)
    if any(f.is_error for f in findings):
        raise PreflightFailed(findings)
    out.print(f"Preflight passed for {len(variants)} variant(s) ({keys}).")


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        style = "red" if finding.is_error else "yellow"
        out.print(f"[{style}]{finding.level}[/{style}]: {finding.where}: {finding.message}"
                  + (f" [{', '.join(finding.variants)}]" if finding.variants else ""),
                  markup=True, highlight=False)  # fmt: skip


def test_send(
    to: Annotated[str, typer.Option("--to", help="The one address to send the test to.")],
    config: ConfigOption = None,
    locale: Annotated[
        str | None, typer.Option("--locale", help="de or en (default: site.locale).")
    ] = None,
) -> None:
    """Send the next issue to one address, marked [TEST]; nothing is marked as sent."""
    settings, engine = open_store(config)
    # A test mail goes through the real mail service, as a send does; its calendar links
    # are signed, since its items have not gone out.
    keys = keys_for(settings)
    try:
        address = validate_email(to, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ConfigError(f"--to: {exc}") from exc
    chosen = locale or settings.site.locale
    variants = _next_variants(settings, engine, keys)
    variant = next((v for v in variants if v.variant_key == chosen), None)
    if variant is None:
        raise ConfigError(f"--locale: no variant {chosen!r}; choose de or en")
    findings = preflight([variant], settings)
    _print_findings(findings)
    if any(f.is_error for f in findings):
        raise PreflightFailed(findings)
    message = make_test_message(variant, settings, address, db.now())
    asyncio.run(send_test_message(settings, message))
    out.print(f"Test of the next issue ({chosen}) sent to {address}; nothing was marked as sent.")
