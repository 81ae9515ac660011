"""The signed links in mails: one-click unsubscribe, preferences, and links that must fail."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from pipeline import db
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from pipeline.tokens import make_confirm_token, make_token
from subscribers import store
from tests.web.conftest import SECRET_KEY, Site, csrf_of


class _EightDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 8 * 24 * 3600


def _pending(site: Site, address: str) -> store.Subscriber:
    consent = store.Consent("form", "test", datetime.now(UTC))
    with site.engine.begin() as connection:
        return store.add(connection, email=address, state="pending", consent=consent)


def test_one_click_unsubscribe_cancels_pending_mail_and_the_next_send(site: Site) -> None:
    staying = site.add_active("bleibt@example.org")
    leaving = site.add_active("geht@example.org")
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    token = make_token(SECRET_KEY, "unsubscribe", leaving.id)
    # What a mail client sends for RFC 8058: a bare form POST, no cookies, no JavaScript.
    answer = post_without_cookies(site, f"/unsubscribe/{token}", "List-Unsubscribe=One-Click")
    assert answer == 200
    assert site.state("geht@example.org") == "unsubscribed"
    with site.engine.connect() as connection:
        states = dict(
            connection.execute(
                sa.select(db.deliveries.c.subscriber_id, db.deliveries.c.state).where(
                    db.deliveries.c.issue_id == built.id
                )
            ).all()
        )
    assert states[leaving.id] == "cancelled" and states[staying.id] == "pending"
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    assert len(site.mails_to("bleibt@example.org")) == 1
    assert site.mails_to("geht@example.org") == []


def post_without_cookies(site: Site, path: str, body: str) -> int:
    with site.client() as client:
        response = client.post(
            path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert "set-cookie" not in response.headers
    return response.status_code


def test_unsubscribe_page_shows_one_button_that_works(site: Site) -> None:
    reader = site.add_active("leser@example.org")
    path = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}"
    with site.client() as client:
        page = client.get(path, params={"lang": "de"})
        assert page.status_code == 200 and page.text.count("<button") == 1
        assert "<script" not in page.text
        done = client.post(path, data={"List-Unsubscribe": "One-Click"}, params={"lang": "de"})
    assert "Sie sind abgemeldet" in done.text
    assert site.state("leser@example.org") == "unsubscribed"


def test_post_without_the_one_click_body_changes_nothing(site: Site) -> None:
    reader = site.add_active("leser@example.org")
    path = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}"
    assert post_without_cookies(site, path, "something=else") == 400
    assert site.state("leser@example.org") == "active"


def test_preferences_save_topics_and_language(site: Site) -> None:
    reader = site.add_active("leser@example.org", topics=["netzwerk"], locale="de")
    path = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        page = client.get(path)
        assert page.status_code == 200 and "Themen" in page.text
        saved = client.post(
            path,
            data={"csrf": csrf_of(page.text), "topics": ["partner", "unbekannt"], "locale": "en"},
        )
        refused = client.post(path, data={"csrf": "forged", "topics": [], "locale": "de"})
    assert saved.status_code == 200 and "Your choices are saved." in saved.text
    assert refused.status_code == 400
    with site.engine.connect() as connection:
        found = store.get(connection, reader.id)
    assert found is not None and found.topics == ("partner",) and found.locale == "en"


def test_forged_tokens_are_refused(site: Site) -> None:
    reader = _pending(site, "leser@example.org")
    forged = make_confirm_token("another-key", reader.id, "nonce")
    with site.client() as client:
        for path in (
            f"/confirm/{forged}",
            f"/unsubscribe/{make_token('another-key', 'unsubscribe', reader.id)}",
            f"/preferences/{make_token('another-key', 'preferences', reader.id)}",
            "/confirm/not-a-token",
        ):
            answer = client.get(path, params={"lang": "de"})
            assert answer.status_code == 400, path
            assert "nicht gültig" in answer.text
    assert site.state("leser@example.org") == "pending"


def test_expired_confirmation_link_explains_itself(site: Site) -> None:
    reader = _pending(site, "spaet@example.org")
    old = URLSafeTimedSerializer(SECRET_KEY, salt="newsletter.confirm", signer=_EightDaysAgo)
    with site.client() as client:
        answer = client.get(f"/confirm/{old.dumps([reader.id, 'nonce'])}", params={"lang": "de"})
    assert answer.status_code == 410 and "abgelaufen" in answer.text and "7 Tage" in answer.text
    assert site.state("spaet@example.org") == "pending"


def test_token_made_for_one_purpose_opens_no_other(site: Site) -> None:
    reader = _pending(site, "leser@example.org")
    unsubscribe = make_token(SECRET_KEY, "unsubscribe", reader.id)
    preferences = make_token(SECRET_KEY, "preferences", reader.id)
    confirm = make_confirm_token(SECRET_KEY, reader.id, "nonce")
    with site.client() as client:
        assert client.get(f"/confirm/{unsubscribe}").status_code == 400
        assert client.get(f"/preferences/{unsubscribe}").status_code == 400
        assert client.get(f"/unsubscribe/{preferences}").status_code == 400
        assert client.get(f"/unsubscribe/{confirm}").status_code == 400
        assert (
            client.post(
                f"/unsubscribe/{confirm}", data={"List-Unsubscribe": "One-Click"}
            ).status_code
            == 400
        )
    assert site.state("leser@example.org") == "pending"


def test_no_page_redirects_to_an_address_given_in_the_request(site: Site) -> None:
    with site.client() as client:
        form = client.get("/subscribe")
        answer = client.post(
            "/subscribe?next=https://evil.example/&lang=de",
            data={"csrf": csrf_of(form.text), "email": "a@example.org", "consent": "yes"},
        )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/subscribe/thanks")
