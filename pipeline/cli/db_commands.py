"""`newsletter db ...`: create and migrate the database."""

from __future__ import annotations

import typer

from pipeline import db, files
from pipeline.cli.common import ConfigOption, out, read_config

db_app = typer.Typer(help="Create or migrate the database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create the database or apply pending migrations."""
    settings = read_config(config)
    engine = db.make_engine(settings.database.url)
    before, after = db.upgrade(engine)
    shown = engine.url.render_as_string(hide_password=True)
    # A store created before its files were private: take the others' access away.
    for path in db.sqlite_files(engine):
        old = files.restrict(path)
        if old is not None:
            new = old & files.file_mode()
            out.print(f"{path} was open to more users (mode {old:o}); now {new:o}.")
    if before == after:
        out.print(f"The database {shown} is up to date (revision {after}).")
    else:
        out.print(f"Upgraded {shown} from {before or 'empty'} to revision {after}.")
