"""Subscribers through the API as the website's sign-up box and an operator's script meet
it: always a double opt-in, the public token's answer telling nothing, each wrong field
named, idempotent retries, and the GDPR erase."""

from __future__ import annotations

import time

from tests.api.conftest import WEBSITE, Api
from tests.web.conftest import confirm_link, press_button, sign_up

SIGN_UP = {"email": "anna@example.org", "name": "Anna", "locale": "de", "consent": True}


def test_a_sign_up_waits_for_the_mailed_button(api: Api) -> None:
    token = api.token("subscribers:write")
    with api.client(token) as client:
        answer = client.post("/subscribers", json=SIGN_UP | {"topics": ["veranstaltungen"]})
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["state"] == "pending"
        assert answer.headers["location"] == f"/api/v1/subscribers/{body['id']}"
        # Nobody is mailed an issue on a caller's word: the reader presses the mailed button.
        assert api.site.state("anna@example.org") == "pending"
        link = confirm_link(api.site, "anna@example.org")
        with api.site.client() as browser:
            assert press_button(browser, link).status_code == 200
        record = client.get(f"/subscribers/{body['id']}").json()
    assert record["state"] == "active"
    assert record["topics"] == ["veranstaltungen"]
    assert record["confirmed_at"] is not None
    assert record["name"] == "Anna"


def test_the_public_token_gets_one_answer_for_every_address(sqlite_api: Api) -> None:
    site = sqlite_api.site
    site.add_active("known@example.org")
    token = sqlite_api.token("subscribers:signup")
    with sqlite_api.client(token) as client:
        answers = [
            client.post("/subscribers", json=SIGN_UP | {"email": address})
            for address in ("new@example.org", "known@example.org")
        ]
        assert {a.status_code for a in answers} == {202}
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["id"] is None
        # Its scope is the sign-up alone: it reads nobody.
        assert (
            client.get("/subscribers/lookup", params={"email": "known@example.org"}).status_code
            == 403
        )
    site.wait_for_mail("new@example.org")
    time.sleep(0.3)
    assert site.mails_to("known@example.org") == [], "an active reader is not mailed again"


def test_each_wrong_field_is_named(sqlite_api: Api) -> None:
    token = sqlite_api.token("subscribers:write")
    cases = {
        "consent": SIGN_UP | {"consent": False},
        "email": SIGN_UP | {"email": "not an address"},
        "topics": SIGN_UP | {"topics": ["sport"]},
    }
    with sqlite_api.client(token) as client:
        for field, body in cases.items():
            answer = client.post("/subscribers", json=body)
            assert answer.status_code == 422, (field, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in answer.json()["errors"]] == [field]
        missing = client.post("/subscribers", json={"email": "a@example.org"})
        assert missing.status_code == 422
        assert {e["field"] for e in missing.json()["errors"]} == {"consent"}
        broken = client.post(
            "/subscribers", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert broken.status_code == 422
        assert broken.headers["content-type"] == "application/problem+json"
    assert sqlite_api.site.mails_to("not an address") == []


def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_mail(api: Api) -> None:
    token = api.token("subscribers:write")
    key = {"Idempotency-Key": "signup-7f3a"}
    with api.client(token) as client:
        first = client.post("/subscribers", json=SIGN_UP, headers=key)
        api.site.wait_for_mail("anna@example.org")
        # The same body in another order and spacing is the same request.
        again = client.post(
            "/subscribers",
            content=b'{"consent": true, "locale": "de", "name": "Anna",'
            b' "email": "anna@example.org"}',
            headers=key | {"content-type": "application/json"},
        )
        other = client.post("/subscribers", json=SIGN_UP | {"name": "Berta"}, headers=key)
    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "idempotency-key"
    time.sleep(0.3)
    assert len(api.site.mails_to("anna@example.org")) == 1


def test_update_unsubscribe_and_erase(api: Api) -> None:
    reader = api.site.add_active("carla@example.org", locale="de")
    token = api.token("subscribers:write")
    with api.client(token) as client:
        found = client.get("/subscribers/lookup", params={"email": "Carla@Example.org"})
        assert found.status_code == 200 and found.json()["id"] == reader.id
        changed = client.patch(
            f"/subscribers/{reader.id}", json={"topics": ["partner"], "locale": "en"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["topics"] == ["partner"] and changed.json()["locale"] == "en"
        assert client.patch(f"/subscribers/{reader.id}", json={"topics": ["x"]}).status_code == 422
        gone = client.post(f"/subscribers/{reader.id}/unsubscribe")
        assert gone.status_code == 200 and gone.json()["state"] == "unsubscribed"
        assert client.delete(f"/subscribers/{reader.id}").status_code == 204
        assert client.get(f"/subscribers/{reader.id}").status_code == 404
        assert client.get("/subscribers/2147483647").status_code == 404
        assert client.get("/subscribers/99999999999").status_code == 422
    assert api.site.state("carla@example.org") is None


def test_the_list_filters_and_pages(api: Api) -> None:
    for number in range(5):
        api.site.add_active(f"r{number}@example.org", locale="en" if number % 2 else "de")
    token = api.token("subscribers:read")
    seen: list[str] = []
    with api.client(token) as client:
        params: dict[str, str | int] = {"limit": 2, "status": "active"}
        while True:
            page = client.get("/subscribers", params=params).json()
            seen += [row["email"] for row in page["data"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        english = client.get("/subscribers", params={"locale": "en"}).json()["data"]
        bad = client.get("/subscribers", params={"cursor": "nonsense"})
    assert seen == [f"r{n}@example.org" for n in range(5)]
    assert [row["email"] for row in english] == ["r1@example.org", "r3@example.org"]
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_the_public_token_meets_the_forms_flood_limit(sqlite_api: Api) -> None:
    token = sqlite_api.token("subscribers:signup")
    with sqlite_api.client(token) as client:
        answers = [
            client.post("/subscribers", json=SIGN_UP | {"email": f"f{n}@example.org"})
            for n in range(5)
        ]
    # The `site` fixture allows 3 sign-ups a network (subscriptions.rate_limit).
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_body_over_the_cap_is_refused_before_it_is_read(sqlite_api: Api) -> None:
    token = sqlite_api.token("subscribers:write")
    with sqlite_api.client(token) as client:
        huge = client.post("/subscribers", json=SIGN_UP | {"name": "x" * 70_000})
        chunked = client.post(
            "/subscribers",
            content=iter([b'{"email": "a@example.org", "name": "', b"y" * 70_000, b'"}']),
            headers={"content-type": "application/json"},
        )
    for answer in (huge, chunked):
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"


def test_browsers_only_from_the_configured_origins(sqlite_api: Api) -> None:
    token = sqlite_api.token("subscribers:signup")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    with sqlite_api.client() as client:
        allowed = client.options("/subscribers", headers=preflight | {"Origin": WEBSITE})
        foreign = client.options(
            "/subscribers", headers=preflight | {"Origin": "https://evil.example"}
        )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == WEBSITE
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    assert foreign.headers["content-type"] == "application/problem+json"
    with sqlite_api.client(token, Origin=WEBSITE) as page:
        accepted = page.post("/subscribers", json=SIGN_UP)
    with sqlite_api.client(token, Origin="https://evil.example") as page:
        refused = page.post("/subscribers", json=SIGN_UP | {"email": "x@example.org"})
    assert accepted.status_code == 202
    assert accepted.headers["access-control-allow-origin"] == WEBSITE
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    sqlite_api.site.wait_for_mail("anna@example.org")
    time.sleep(0.3)
    assert sqlite_api.site.mails_to("x@example.org") == []


def test_the_forms_name_with_a_nul_and_line_breaks_is_kept_on_one_line(api: Api) -> None:
    """The form's sibling of the API's refusal: cleaned, not a 500 on PostgreSQL, and no
    header of its own in the confirmation mail."""
    status, _page = sign_up(api.site, "kai@example.org", name="Kai\x00\r\nBcc: alle@example.org")
    assert status == 200
    raw = api.site.wait_for_mail("kai@example.org").as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in headers.splitlines())
    with api.site.client() as browser:
        assert press_button(browser, confirm_link(api.site, "kai@example.org")).status_code == 200
    assert api.site.subscriber("kai@example.org").name == "Kai Bcc: alle@example.org"
