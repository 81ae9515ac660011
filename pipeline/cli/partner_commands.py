"""`newsletter partners ...`: who may send news in, and their personal submission links."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pipeline.cli.common import ConfigOption, JsonOption, keys_for, open_store, out
from pipeline.db import now
from pipeline.partners import add_partner, list_partners, revoke_partner

partners_app = typer.Typer(help="Partners' personal submission links.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The partner's name, as items name it.")]


@partners_app.command("add")
def partners_add(
    name: Name,
    email: Annotated[str, typer.Argument(help="Where receipts and 'your news went out' go.")],
    config: ConfigOption = None,
) -> None:
    """Register a partner and print their personal submission link (keep it private)."""
    settings, engine = open_store(config)
    keys = keys_for(settings)
    partner = add_partner(engine, name, email, now())
    out.print(f"Partner {partner.name} <{partner.email}> added; their submission link:")
    out.print(partner.link(str(settings.site.base_url), keys), soft_wrap=True, highlight=False)


@partners_app.command("list")
def partners_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every partner, active or revoked (links are not shown: `add` gives a new one)."""
    _settings, engine = open_store(config)
    found = list_partners(engine)
    if as_json:
        rows = [
            {
                "name": p.name,
                "email": p.email,
                "added_at": p.created_at.isoformat(),
                "revoked_at": p.revoked_at.isoformat() if p.revoked_at else None,
            }
            for p in found
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        out.print("No partners yet (`newsletter partners add NAME EMAIL`).")
    for p in found:
        state = f"revoked {p.revoked_at:%Y-%m-%d}" if p.revoked_at else "active"
        out.print(f"{p.name}  <{p.email}>  added {p.created_at:%Y-%m-%d}  {state}", highlight=False)


@partners_app.command("revoke")
def partners_revoke(name: Name, config: ConfigOption = None) -> None:
    """Stop a partner's submission link at once (`add` again gives a new one)."""
    _settings, engine = open_store(config)
    partner = revoke_partner(engine, name, now())
    out.print(f"The submission link of {partner.name} no longer works.")
