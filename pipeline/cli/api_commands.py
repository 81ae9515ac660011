"""`newsletter api tokens ...`: bearer tokens of the JSON API at /api/v1."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pipeline.api_tokens import SCOPES, create_token, list_tokens, parse_scopes, revoke_token
from pipeline.cli.common import ConfigOption, JsonOption, open_store, out
from pipeline.db import now

api_app = typer.Typer(help="The JSON API at /api/v1.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens of the API.", no_args_is_help=True)
api_app.add_typer(tokens_app, name="tokens")

Name = Annotated[str, typer.Argument(help="What the token is for, e.g. website-signup.")]


@tokens_app.command("create")
def tokens_create(
    name: Name,
    scope: Annotated[
        str,
        typer.Option(
            "--scope", metavar="S[,S]", help=f"What the token may do: {', '.join(SCOPES)}."
        ),
    ],
    config: ConfigOption = None,
) -> None:
    """Make a token and print it once: only its hash is kept, it cannot be shown again."""
    scopes = parse_scopes(scope)
    _settings, engine = open_store(config)
    token, secret = create_token(engine, name, scopes, now())
    out.print(f"Token {token.name} ({', '.join(sorted(token.scopes))}), shown only now:")
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every token: name, scopes, made, last used, revoked (never the token itself)."""
    _settings, engine = open_store(config)
    found = list_tokens(engine)
    if as_json:
        rows = [
            {
                "name": t.name,
                "scopes": sorted(t.scopes),
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in found
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        out.print("No API tokens yet (`newsletter api tokens create NAME --scope S`).")
    for t in found:
        used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        scopes = ",".join(sorted(t.scopes))
        made = f"made {t.created_at:%Y-%m-%d}"
        out.print(f"{t.name}  {scopes}  {made}  {used}  {state}", highlight=False)


@tokens_app.command("revoke")
def tokens_revoke(name: Name, config: ConfigOption = None) -> None:
    """Stop a token at once, in every running `serve`."""
    _settings, engine = open_store(config)
    token = revoke_token(engine, name, now())
    out.print(f"The token {token.name} no longer works.")
