"""Signing in by a mailed link: single use, short-lived, and silent about who is an editor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pipeline.tokens import make_form_token
from pipeline.web.desk.auth import make_sign_in_token
from pipeline.web.desk.pages import SESSION_COOKIE
from tests.conftest import Project
from tests.desk.conftest import EDITOR, magic_link, use_link
from tests.web.conftest import SECRET_KEY, Site, csrf_of, make_site


def test_an_editor_signs_in_through_the_mailed_link(desk: Site) -> None:
    with desk.client() as client:
        link = magic_link(desk, client)
        answer = use_link(client, link)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/desk")
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/desk", "Max-Age=43200"):
            assert attribute.lower() in cookie.lower(), cookie
        client.cookies.set(SESSION_COOKIE, answer.cookies[SESSION_COOKIE])
        queue = client.get("/desk", follow_redirects=False)
        assert queue.status_code == 200
        assert EDITOR in queue.text
        assert "Jahresauftakt" in queue.text or "Werkstatt" in queue.text


def test_a_used_link_does_not_sign_in_again(desk: Site) -> None:
    with desk.client() as client:
        link = magic_link(desk, client)
        assert use_link(client, link).status_code == 303
    with desk.client() as other:
        assert other.get(link).status_code == 400
        form = other.get(link.replace("/desk/sign-in/", "/desk/sign-in/x"))
        assert form.status_code == 400
        # Even a form token for the link's own page does not make it work again.
        path = "/desk/sign-in/" + link.rsplit("/", 1)[1]
        again = other.post(link, data={"csrf": make_form_token(SECRET_KEY, path)})
        assert again.status_code == 400
        assert SESSION_COOKIE not in again.cookies


def test_an_expired_link_is_refused(desk: Site) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=16)
    token = make_sign_in_token(SECRET_KEY, EDITOR, issued)
    with desk.client() as client:
        answer = client.get(f"/desk/sign-in/{token}?lang=en")
        assert answer.status_code == 400
        assert "work once and for 15 minutes" in answer.text
    fresh = make_sign_in_token(SECRET_KEY, EDITOR, datetime.now(UTC))
    with desk.client() as client:
        assert client.get(f"/desk/sign-in/{fresh}").status_code == 200


def test_a_forged_link_is_refused(desk: Site) -> None:
    forged = make_sign_in_token("another-key", EDITOR, datetime.now(UTC))
    with desk.client() as client:
        assert client.get(f"/desk/sign-in/{forged}").status_code == 400


def test_an_address_that_is_no_editors_gets_no_mail_and_the_same_answer(desk: Site) -> None:
    stranger = "neugierig@example.org"
    answers = []
    with desk.client() as client:
        for address in (stranger, EDITOR):
            form = client.get("/desk/sign-in")
            answer = client.post(
                "/desk/sign-in", data={"csrf": csrf_of(form.text), "email": address}
            )
            answers.append((answer.status_code, answer.headers["location"], answer.text))
    assert answers[0] == answers[1]
    desk.wait_for_mail(EDITOR)  # the mails go out in order: the stranger's would be there
    time.sleep(0.2)
    assert desk.mails_to(stranger) == []


def test_a_sign_in_request_without_its_form_token_is_refused(desk: Site) -> None:
    with desk.client() as client:
        answer = client.post("/desk/sign-in", data={"email": EDITOR})
        assert answer.status_code == 400
    time.sleep(0.3)
    assert desk.mails_to(EDITOR) == []


def test_a_flood_of_sign_in_requests_is_stopped(desk: Site) -> None:
    limit = desk.config.rate_limits.desk_sign_in.count
    with desk.client() as client:
        codes = []
        for _ in range(limit + 1):
            form = client.get("/desk/sign-in")
            answer = client.post(
                "/desk/sign-in", data={"csrf": csrf_of(form.text), "email": EDITOR}
            )
            codes.append(answer.status_code)
    assert codes == [303] * limit + [429]
    assert int(answer.headers["Retry-After"]) > 0
    desk.wait_for_mail(EDITOR, count=limit)
    time.sleep(0.3)
    assert len(desk.mails_to(EDITOR)) == limit


def test_on_a_plain_http_site_the_browser_keeps_and_sends_the_cookie(project: Project) -> None:
    def change(raw: dict[str, object]) -> None:
        raw["editors"] = [EDITOR]
        raw["site"]["base_url"] = "http://desk.example.org"  # type: ignore[index]

    project.edit_config(change)
    for site in make_site(project, webhook_secrets={}):
        with site.client() as client:
            answer = use_link(client, magic_link(site, client))
            assert "secure" not in answer.headers["set-cookie"].lower()
            # No cookie handed on by hand: the client's own jar carries the session.
            assert client.get("/desk", follow_redirects=False).status_code == 200
