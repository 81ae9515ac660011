"""`newsletter serve`: the web endpoints on uvicorn."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from pipeline.cli.common import ConfigOption, is_development_site, keys_for, open_store, out
from pipeline.config import Config, config_path_from_env
from pipeline.errors import ConfigError
from pipeline.web.app import create_app

# A request waits this long for a send's write lock on SQLite, then gets a 503 (never 500).
BUSY_TIMEOUT_S = 5
# A test hook: how often the editors' list is re-read, in seconds (default once a minute).
RELOAD_ENV = "NEWSLETTER_EDITORS_RELOAD_S"


def _reload_every_s() -> float:
    raw = os.environ.get(RELOAD_ENV, "60")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 60:
        raise ConfigError(f"{RELOAD_ENV}: expected seconds between 0 and 60, not {raw!r}")
    return seconds


def _require_legal_pages(settings: Config, path: Path) -> None:
    """German law expects a sign-up form to link the imprint and the privacy policy."""
    missing = [
        f"site.{key}"
        for key in ("imprint_url", "privacy_url")
        if getattr(settings.site, key) is None
    ]
    if missing:
        raise ConfigError(
            f"{path}: {' and '.join(missing)} must be set for `newsletter serve`: every public "
            "page, the sign-up form and every mail link the imprint and the privacy policy"
        )


def without_startup_garbage() -> None:
    """Keep what start-up made (modules, the app, its templates) out of the collector's
    full passes: they live as long as the process, and walking them all stalled every
    answer for a few hundred ms (bench/clicks.py: p99 at 1,000 redirects/s)."""
    gc.collect()
    gc.freeze()


def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the site: /subscribe, /confirm/TOKEN, /preferences/TOKEN,
    /unsubscribe/TOKEN, /archive (and /archive/N, /archive/feed.xml), /events/ID.ics,
    /media/NAME, /r/TOKEN (tracked links), /o/TOKEN.gif (opens), /submit (partners'
    news, /submit/TOKEN), /webhooks/PROVIDER, /desk (the editors' desk), /healthz."""
    settings, engine = open_store(config, busy_timeout_s=BUSY_TIMEOUT_S)
    _require_legal_pages(settings, config_path_from_env(config))
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    development = is_development_site(settings, serving_on=host)
    shows_links = development and settings.provider.name == "outbox"
    app = create_app(
        settings,
        engine,
        keys_for(settings, serving_on=host),
        config_path=config_path_from_env(config),
        editors_reload_s=_reload_every_s(),
        local_url=url if shows_links else None,
    )
    for line in banner(settings, url, shows_links=shows_links):
        out.print(line, highlight=False, soft_wrap=True)
    without_startup_garbage()
    # The app reads X-Forwarded-For itself, from `site.trusted_proxies` only.
    uvicorn.run(app, host=host, port=port, proxy_headers=False, access_log=False)


def banner(settings: Config, url: str, *, shows_links: bool) -> list[str]:
    """What `serve` says as it starts: where each part of the site is, and on a development
    site where its mails go and how to sign in to the desk."""
    lines = [
        f"Serving {settings.site.name} on {url} (Ctrl+C stops).",
        f"  Sign-up:       {url}/subscribe",
        f"  Archive:       {url}/archive",
        f"  Editors' desk: {url}/desk (sign in with an address listed under `editors:`)",
    ]
    if shows_links:
        lines.append(
            f"Development site: mails are written to {settings.provider.outbox_dir}/, not sent; "
            f"a desk sign-in link is shown here too, for {url}."
        )
    return lines
