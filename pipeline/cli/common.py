"""What every command shares: the --config option, opening config and database, output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console

from pipeline import db
from pipeline.config import Config, config_path_from_env, load_config

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


def open_store(path: Path | None) -> tuple[Config, sa.Engine]:
    """Config and database, refusing an out-of-date schema."""
    config = read_config(path)
    engine = db.make_engine(config.database.url)
    db.require_current_schema(engine)
    return config, engine
