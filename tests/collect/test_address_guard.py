"""SSRF: a feed may lead collect only to public addresses, unless the operator configured
the feed itself at a non-public one.

The "public" feed server runs on 127.0.0.2, which `NEWSLETTER_TEST_PUBLIC_NETS` (a test-only
hook) makes count as public; the "internal" server on 127.0.0.1 stays what it is, the
machine itself. Each case goes through the real `newsletter collect`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.collect.conftest import FeedProject, FeedServer, Route, running_server
from tests.collect.helpers import states
from tests.conftest import TEST_SECRET_KEY

GOOD = "Richtfest in der Bahnhofstraße"
INTERNAL = "Kooperation besiegelt"  # the title of atom10.xml's entry
PUBLIC_HOST = "127.0.0.2"
ENVIRONMENT = {
    "NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY,
    "NEWSLETTER_TEST_PUBLIC_NETS": f"{PUBLIC_HOST}/32",
}


@pytest.fixture
def public_server() -> Iterator[FeedServer]:
    with running_server(PUBLIC_HOST) as server:
        yield server


def _configure(feeds: FeedProject, urls: dict[str, str]) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["feeds"] = [
            {"name": name, "url": url, "kind": "news"} for name, url in urls.items()
        ]
        raw["collect"] = {"timeout_s": 5, "max_age_days": None}

    feeds.project.edit_config(change)


def test_redirects_of_a_public_feed_into_internal_addresses_are_refused(
    feeds: FeedProject, public_server: FeedServer
) -> None:
    internal = feeds.server  # on 127.0.0.1: this machine
    internal.routes["/internal.xml"] = Route.feed("atom10.xml")
    port = internal.port
    targets = {
        "Loopback": f"http://127.0.0.1:{port}/internal.xml",
        "Name": f"http://localhost:{port}/internal.xml",  # resolves to 127.0.0.1 / ::1
        "Dezimal": f"http://2130706433:{port}/internal.xml",  # 127.0.0.1 to the resolver
        "Gemappt": f"http://[::ffff:127.0.0.1]:{port}/internal.xml",
        "Null": f"http://0.0.0.0:{port}/internal.xml",
        "Metadaten": "http://169.254.169.254/latest/meta-data/",
    }
    urls = {"Gut": public_server.url("/good.xml")}
    public_server.routes["/good.xml"] = Route.feed("rss20.xml")
    for name, target in targets.items():
        public_server.routes[f"/{name}"] = Route(status=302, headers={"Location": target})
        urls[name] = public_server.url(f"/{name}")
    _configure(feeds, urls)

    result = feeds.project.run("collect", check=False, secrets=ENVIRONMENT)

    assert result.returncode == 1
    for name in targets:
        assert f"error: {name} ({urls[name]}): refused: " in result.stderr, name
        assert "only a feed configured at a non-public address may lead to one" in result.stderr
    assert f"feed Loopback ({urls['Loopback']}): refused: 127.0.0.1 is not a public address" in (
        result.stderr
    )
    assert "refused: localhost (" in result.stderr
    assert internal.seen == [], "no request may reach the internal server"
    assert states(feeds.project) == {GOOD: "queued"}, "the rest of the run goes on"


def test_a_feed_the_operator_configured_internally_may_redirect_internally(
    feeds: FeedProject,
) -> None:
    internal = feeds.server
    internal.routes["/internal.xml"] = Route.feed("atom10.xml")
    internal.routes["/moved"] = Route(
        status=302, headers={"Location": f"http://localhost:{internal.port}/internal.xml"}
    )
    _configure(feeds, {"Intranet": internal.url("/moved")})

    result = feeds.project.run("collect", secrets=ENVIRONMENT)

    assert "refused" not in result.stderr
    assert states(feeds.project) == {INTERNAL: "queued"}


def test_the_first_hop_of_a_public_feed_is_checked_too(
    feeds: FeedProject, public_server: FeedServer
) -> None:
    """A feed configured by a name that resolves to a public address is fetched through
    the guard; the guard refuses what is not public, whichever hop it is."""
    public_server.routes["/good.xml"] = Route.feed("rss20.xml")
    _configure(feeds, {"Gut": public_server.url("/good.xml")})

    feeds.project.run("collect", secrets=ENVIRONMENT)

    assert states(feeds.project) == {GOOD: "queued"}
    (request,) = public_server.requests_to("/good.xml")
    assert request.headers["host"] == f"{PUBLIC_HOST}:{public_server.port}"
