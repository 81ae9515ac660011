"""Issues through the API as a partner's script reads them: the issues that went out (as
the archive and the sent mail name them), one issue's report (what `newsletter report
--json` prints), and the next issue's preview."""

from __future__ import annotations

import json

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline import db
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from tests.api.conftest import READER, Api, queue_next_item, send_one_issue
from tests.web.conftest import SECRET_KEY


def test_a_sent_issue_is_listed_as_the_archive_and_its_mail_name_it(api: Api) -> None:
    site = api.site
    number = send_one_issue(site)
    subject = str(site.mails_to(READER)[0]["Subject"])
    with api.client(api.token("issues:read")) as client:
        page = client.get("/issues")
        one = client.get(f"/issues/{number}")
    with site.client() as browser:
        archive = browser.get("/archive?lang=de")
    assert page.status_code == 200, page.text
    assert page.json()["next_cursor"] is None
    [listed] = page.json()["data"]
    assert one.json() == listed
    assert listed["number"] == number and listed["subject"] == subject
    assert listed["state"] == "sent" and listed["sent_at"] is not None
    url = listed["archive_url"]
    assert url == f"{site.config.site.url}/archive/{number}"
    assert f'href="{url.removeprefix(site.config.site.url)}"' in archive.text
    with site.client() as browser:
        assert browser.get(site.local(url)).status_code == 200
    counts = listed["counts"]
    assert counts["recipients"] == 1 and counts["sent"] == 1 and counts["delivered"] == 1
    assert counts["bounced"] == counts["complaints"] == counts["unsubscribed"] == 0
    assert counts["clicks"] == counts["machine_clicks"] == 0


def test_the_report_is_what_newsletter_report_json_prints(api: Api) -> None:
    number = send_one_issue(api.site)
    printed = json.loads(api.site.project.run("report", str(number), "--json").stdout)
    with api.client(api.token("issues:read")) as client:
        answer = client.get(f"/issues/{number}/report")
    assert answer.status_code == 200, answer.text
    assert answer.json() == printed
    assert printed["issue"] == number and printed["delivered"] == 1


def test_pages_follow_each_other_newest_first_or_by_number(sqlite_api: Api) -> None:
    site = sqlite_api.site
    first = send_one_issue(site)
    queue_next_item(site)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    with sqlite_api.client(sqlite_api.token("issues:read")) as client:
        newest = client.get("/issues", params={"limit": 1}).json()
        older = client.get("/issues", params={"limit": 1, "cursor": newest["next_cursor"]}).json()
        ordered = client.get("/issues", params={"order": "number"}).json()
        bad = client.get("/issues", params={"cursor": "nonsense"})
    assert [i["number"] for i in newest["data"]] == [built.number]
    assert [i["number"] for i in older["data"]] == [first]
    assert older["next_cursor"] is None
    assert [i["number"] for i in ordered["data"]] == [first, built.number]
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["cursor"]


def test_an_issue_built_but_not_mailed_is_not_found(sqlite_api: Api) -> None:
    site = sqlite_api.site
    site.add_active(READER)
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    with sqlite_api.client(sqlite_api.token("issues:read")) as client:
        listed = client.get("/issues").json()
        answers = [client.get(f"/issues/{built.number}{tail}") for tail in ("", "/report")]
    assert listed["data"] == []
    for answer in answers:
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == f"No issue {built.number} has gone out."


def test_unknown_numbers_are_a_404_problem_and_bad_ones_named(api: Api) -> None:
    with api.client(api.token("issues:read")) as client:
        missing = client.get("/issues/999")
        report = client.get("/issues/999/report")
        beyond = client.get(f"/issues/{2**31}")
        zero = client.get("/issues/0/report")
    for answer in (missing, report):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert "999" in answer.json()["detail"]
    for answer in (beyond, zero):
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["number"]


def test_without_issues_read_a_token_is_refused(sqlite_api: Api) -> None:
    number = send_one_issue(sqlite_api.site)
    paths = ["/issues", f"/issues/{number}", f"/issues/{number}/report", "/issues/next/preview"]
    with sqlite_api.client(sqlite_api.token("subscribers:write", "items:write")) as client:
        refused = [client.get(path) for path in paths]
    with sqlite_api.client() as client:
        anonymous = [client.get(path) for path in paths]
    assert [answer.status_code for answer in refused] == [403] * len(paths)
    assert [answer.status_code for answer in anonymous] == [401] * len(paths)
    assert all(a.headers["content-type"] == "application/problem+json" for a in refused)


def test_the_next_issue_is_previewed_as_html_and_as_text(api: Api) -> None:
    site = api.site
    send_one_issue(site)
    with api.client(api.token("issues:read")) as client:
        empty = client.get("/issues/next/preview")
        queue_next_item(site)
        html = client.get("/issues/next/preview")
        text = client.get("/issues/next/preview", params={"format": "text"})
        wrong = client.get("/issues/next/preview", params={"format": "pdf"})
    assert empty.status_code == 409
    assert empty.headers["content-type"] == "application/problem+json"
    assert "Nothing is due" in empty.json()["detail"]
    assert html.status_code == 200, html.text
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    parsed = HTMLParser(html.text)
    assert parsed.css_first("html") is not None and parsed.body is not None
    assert "Nachbarschaftsfest im Hof" in parsed.body.text()
    assert "%%NL:" not in html.text
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Nachbarschaftsfest im Hof" in text.text and "<" not in text.text.split("\n")[0]
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["format"]
    # A preview sends nothing and builds no issue.
    with api.client(api.token("issues:read")) as client:
        assert len(client.get("/issues").json()["data"]) == 1
    assert len(site.mails_to(READER)) == 1
