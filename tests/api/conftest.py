"""The API on a real uvicorn over a real project: SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from pipeline import db
from pipeline.api_tokens import create_token
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, make_site


@dataclass
class Api:
    site: Site

    @property
    def url(self) -> str:
        return f"{self.site.url}/api/v1"

    def token(self, *scopes: str, name: str | None = None) -> str:
        """A new token with `scopes`, as `newsletter api tokens create` makes one."""
        label = name or f"t{abs(hash((scopes, datetime.now(UTC).timestamp())))}"
        return create_token(self.site.engine, label, frozenset(scopes), datetime.now(UTC))[1]

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)


WEBSITE = "https://www.quartiersnetz.example.org"
"""The one origin whose pages may call the API from a browser in these tests."""


def api_site(
    request: pytest.FixtureRequest, project: Project, origins: tuple[str, ...] = ()
) -> Iterator[Api]:
    """The API over `project`; browsers may call it from WEBSITE and `origins`."""
    allowed = [WEBSITE, *origins]
    project.edit_config(
        lambda raw: raw.update(subscriptions={"rate_limit": 3}, api={"cors_origins": allowed})
    )
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        project.edit_config(lambda raw: raw.update(database={"url": url}))
    for site in make_site(project, webhook_secrets={}):
        yield Api(site)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, project: Project) -> Iterator[Api]:
    """The API on each engine."""
    yield from api_site(request, project)


@pytest.fixture(params=["sqlite"])
def sqlite_api(request: pytest.FixtureRequest, project: Project) -> Iterator[Api]:
    """The API on SQLite alone, for what does not depend on the engine."""
    yield from api_site(request, project)


READER = "leser@example.org"
NEXT_ITEM = """---
title: Nachbarschaftsfest im Hof
kind: news
date: 2022-03-10
summary: Ein Beitrag, der erst in der nächsten Ausgabe steht.
link: https://netzwerk-quartier.example.org/neues/hoffest
status: ready
---
"""


def send_one_issue(site: Site) -> int:
    """Collect the sample content and send it to one reader, as `newsletter send` does."""
    site.add_active(READER, name="Lea")
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    return built.number


def queue_next_item(site: Site) -> None:
    (site.project.content_dir / "2022-03-10-hoffest.md").write_text(NEXT_ITEM, encoding="utf-8")
    collect(site.config, site.engine)
