"""`newsletter serve`: the web endpoints on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from pipeline.cli.common import ConfigOption, keys_for, open_store, out
from pipeline.web.app import create_app


def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve subscribe, confirm, preferences, unsubscribe, webhooks and the archive."""
    settings, engine = open_store(config)
    app = create_app(settings, engine, keys_for(settings, serving_on=host))
    out.print(f"Serving {settings.site.name} on http://{host}:{port} (Ctrl+C stops).")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, access_log=False)
