"""What every command shares: the --config option, opening config and database, output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console

from pipeline import db
from pipeline.config import Config, config_path_from_env, is_loopback, load_config
from pipeline.environment import SigningKeys, signing_keys

out = Console()
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="config.yaml to use (default: ./config.yaml or $NEWSLETTER_CONFIG)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def read_config(path: Path | None) -> Config:
    return load_config(config_path_from_env(path))


def open_store(
    path: Path | None, busy_timeout_s: float = db.BUSY_TIMEOUT_S
) -> tuple[Config, sa.Engine]:
    """Config and database, refusing an out-of-date schema."""
    config = read_config(path)
    engine = db.make_engine(config.database.url, busy_timeout_s)
    db.require_current_schema(engine)
    return config, engine


@dataclass
class GlobalOptions:
    """Options given before or after the command (`newsletter --dev send`, `send --dev`)."""

    development: bool = False
    lang: str | None = None
    """`--lang de|en`: the language people read the output in (default: site.locale)."""


options = GlobalOptions()


def output_locale(config: Config) -> str:
    """The language of what a command prints for people: `--lang`, else the site's."""
    return options.lang or config.site.locale


def is_development_site(config: Config, *, serving_on: str | None = None) -> bool:
    """`--dev`, or the outbox provider behind `serve` on a loopback address."""
    demo_server = (
        config.provider.name == "outbox" and serving_on is not None and is_loopback(serving_on)
    )
    return options.development or demo_server


def keys_for(config: Config, *, serving_on: str | None = None) -> SigningKeys:
    """The keys a command signs and verifies with. Only a development site may go without."""
    return signing_keys(development=is_development_site(config, serving_on=serving_on))
