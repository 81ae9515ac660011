"""Rate limits live in the database: shared by every `serve` process, kept across restarts,
counted per IPv4 address or IPv6 /64 and per address mailed, and told by X-Forwarded-For
only from `site.trusted_proxies`. A busy SQLite answers 503 with Retry-After, never 500."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from pipeline import db
from pipeline.config import RateLimit
from pipeline.sign_up import RESEND_AFTER
from pipeline.tokens import make_token
from pipeline.web.limits import Limiter
from subscribers import store
from subscribers.schema import sign_ups
from tests.conftest import TEST_SECRET_KEY, Project, serve_command
from tests.desk.conftest import EDITOR
from tests.web.conftest import Site, csrf_of, make_site, post_sign_up


def _limit_sign_ups(project: Project, count: int = 3, **site: object) -> None:
    def change(raw: dict[str, object]) -> None:
        raw["subscriptions"] = {"rate_limit": count}
        raw["rate_limits"] = {"mails_to_address": {"count": 2, "window_s": 3600}}
        raw["site"].update(site)  # type: ignore[attr-defined]

    project.edit_config(change)


def _served(project: Project) -> Iterator[str]:
    with serve_command(project) as (url, _process):
        yield url


def _sign_up_at(url: str, address: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=30) as client:
        return post_sign_up(client, address, headers)


def test_two_serve_processes_share_one_limit(project: Project) -> None:
    _limit_sign_ups(project)
    project.run("db", "upgrade")
    with serve_command(project) as (first, _), serve_command(project) as (second, _):
        codes = [
            _sign_up_at(url, f"leser{n}@example.org").status_code
            for n, url in enumerate([first, second, first, second])
        ]
        refused = _sign_up_at(second, "leser9@example.org")
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429 and "Zu viele Anmeldungen" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 600


def test_a_restart_keeps_the_count(project: Project) -> None:
    _limit_sign_ups(project)
    project.run("db", "upgrade")
    for url in _served(project):
        assert [_sign_up_at(url, f"a{n}@example.org").status_code for n in range(3)] == [200] * 3
    for url in _served(project):
        assert _sign_up_at(url, "danach@example.org").status_code == 429


def _forwarded(client_ip: str) -> dict[str, str]:
    """What a reverse proxy on this host adds for its client."""
    return {"X-Forwarded-For": client_ip}


def test_seven_addresses_of_one_ipv6_64_are_limited_together(site: Site) -> None:
    with site.client() as client:
        codes = [
            post_sign_up(
                client, f"v6-{n}@example.org", _forwarded(f"2001:db8:1:2::{n}")
            ).status_code
            for n in range(1, 8)
        ]
        # Another /64 of the same /48 is another customer: its own count.
        neighbour = post_sign_up(client, "nachbar@example.org", _forwarded("2001:db8:1:3::1"))
    assert codes == [200, 200, 200, 429, 429, 429, 429]
    assert neighbour.status_code == 200
    with site.engine.connect() as connection:
        ips = set(connection.execute(sa.select(sign_ups.c.ip)).scalars())
    # The sign-up keeps the client's own address, not the proxy's.
    assert ips == {"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:3::1"}


def test_entries_left_of_the_client_do_not_evade_the_limit(site: Site) -> None:
    # The client writes what it likes into X-Forwarded-For; the proxy appends the address
    # it saw. Only the rightmost untrusted entry is the client.
    with site.client() as client:
        codes = [
            post_sign_up(
                client, f"s{n}@example.org", _forwarded(f"198.51.100.{n}, 203.0.113.7")
            ).status_code
            for n in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


def test_a_forwarded_for_that_names_no_address_is_counted_as_unknown(site: Site) -> None:
    # Only a client on a trusted address itself can get its own entry read: still no 500.
    junk = "<script>" + "x" * 300
    with site.client() as client:
        answer = post_sign_up(client, "komisch@example.org", _forwarded(f"{junk}, 127.0.0.1"))
    assert answer.status_code == 200
    with site.engine.connect() as connection:
        assert connection.execute(sa.select(sign_ups.c.ip)).scalar_one() == "unknown"


def test_an_untrusted_peers_forwarded_for_is_ignored(project: Project) -> None:
    # The proxy is named, but requests come straight from 127.0.0.1: not from it.
    _limit_sign_ups(project, trusted_proxies=["10.0.0.1"])
    for site in make_site(project, webhook_secrets={}):
        with site.client() as client:
            codes = [
                post_sign_up(client, f"u{n}@example.org", _forwarded(f"192.0.2.{n}")).status_code
                for n in range(5)
            ]
        with site.engine.connect() as connection:
            ips = set(connection.execute(sa.select(sign_ups.c.ip)).scalars())
    assert codes == [200, 200, 200, 429, 429]
    assert ips == {"127.0.0.1"}


def test_one_address_gets_few_confirmation_mails_whoever_asks(project: Project) -> None:
    _limit_sign_ups(project)
    for site in make_site(project, webhook_secrets={}):
        answers = []
        with site.client() as client:
            for n in range(6):
                # Each from another network, each after the pending sign-up's resend pause.
                later = datetime.now(UTC) + (n + 1) * RESEND_AFTER
                site.app_context.clock = lambda later=later: later  # type: ignore[attr-defined,misc]
                answer = post_sign_up(client, "opfer@example.org", _forwarded(f"192.0.2.{n}"))
                answers.append((answer.status_code, answer.text))
        # The answer never changes, so it does not tell the cap was reached.
        assert len(set(answers)) == 1 and answers[0][0] == 200
        site.wait_for_mail("opfer@example.org", count=2)
        time.sleep(0.5)
        assert len(site.mails_to("opfer@example.org")) == 2


def test_one_editor_gets_few_sign_in_links_whoever_asks(project: Project) -> None:
    _limit_sign_ups(project)
    project.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    for site in make_site(project, webhook_secrets={}):
        answers = []
        with site.client() as client:
            for n in range(5):
                form = client.get("/desk/sign-in")
                answer = client.post(
                    "/desk/sign-in",
                    data={"csrf": csrf_of(form.text), "email": EDITOR},
                    headers=_forwarded(f"192.0.2.{n}"),
                )
                answers.append((answer.status_code, answer.headers["location"]))
        assert len(set(answers)) == 1 and answers[0][0] == 303
        site.wait_for_mail(EDITOR, count=2)
        time.sleep(0.5)
        assert len(site.mails_to(EDITOR)) == 2


def test_a_busy_database_answers_503_with_retry_after(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    project.run("db", "upgrade")
    engine = project.engine()
    with engine.begin() as connection:
        consent = store.Consent("admin", "test", datetime.now(UTC))
        reader = store.add(connection, email="leser@example.org", state="active", consent=consent)
    engine.dispose()
    unsubscribe = f"/unsubscribe/{make_token(TEST_SECRET_KEY, 'unsubscribe', reader.id)}"
    one_click = {"List-Unsubscribe": "One-Click"}
    with (
        serve_command(project) as (url, _process),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        sign_up_form = {
            "csrf": csrf_of(client.get("/subscribe").text),
            "email": "eilig@example.org",
            "consent": "yes",
        }
        desk_form = {"csrf": csrf_of(client.get("/desk/sign-in").text), "email": EDITOR}
        # What a send does to SQLite: another connection holds the write lock.
        lock = sqlite3.connect(project.root / "newsletter.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            posts = [
                ("/subscribe", sign_up_form),
                ("/desk/sign-in", desk_form),
                (unsubscribe, one_click),
            ]
            with ThreadPoolExecutor(len(posts)) as pool:
                busy = list(
                    pool.map(
                        lambda post: httpx.post(f"{url}{post[0]}", data=post[1], timeout=60),
                        posts,
                    )
                )
        finally:
            lock.rollback()
            lock.close()
        after = [client.post(path, data=data).status_code for path, data in posts]
    for answer in busy:
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) > 0
    assert after == [303, 303, 200]


def test_concurrent_requests_never_get_past_the_limit(engine: sa.Engine) -> None:
    limiter = Limiter(engine, {"sign_up": RateLimit(count=5, window_s=3600)})
    start = threading.Barrier(12)

    def request(_: int) -> int | None:
        start.wait()
        return limiter.take("sign_up", "192.0.2.1")

    with ThreadPoolExecutor(12) as pool:
        waits = list(pool.map(request, range(12)))
    assert waits.count(None) == 5


def test_a_refused_request_is_told_when_a_token_is_back(engine: sa.Engine) -> None:
    now = [1_000_000.0]
    limiter = Limiter(engine, {"sign_up": RateLimit(count=2, window_s=60)}, clock=lambda: now[0])
    assert limiter.take("sign_up", "k") is None and limiter.take("sign_up", "k") is None
    assert limiter.take("sign_up", "k") == 30
    now[0] += 30
    assert limiter.take("sign_up", "k") is None
    assert limiter.take("sign_up", "another key") is None


def test_buckets_untouched_for_a_window_are_pruned(engine: sa.Engine) -> None:
    now = [1_000_000.0]
    limits = {"sign_up": RateLimit(count=2, window_s=600)}
    limiter = Limiter(engine, limits, clock=lambda: now[0])
    for key in ("old-1", "old-2"):
        limiter.take("sign_up", key)
    now[0] += 601
    limiter.take("sign_up", "new")
    with engine.connect() as connection:
        rows = connection.execute(sa.select(db.rate_limit_buckets.c.refilled_at)).scalars().all()
    assert rows == [now[0]]
