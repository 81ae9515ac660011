"""Tracked links in sent mails, read from the raw .eml files the outbox wrote.

An issue's item links, "read more", pictures, online and calendar links go through
`/r/<token>.<position>`; the unsubscribe and preferences links, the web view, the legal
links and List-Unsubscribe never do. Each position is a row of `issue_links`, written
when the issue is built. SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from pipeline.db import issue_links, issue_variants, issues
from pipeline.tokens import read_click_token, read_link
from subscribers.schema import subscribers
from tests.conftest import TEST_SECRET_KEY, Project

SITE = "https://netzwerk-quartier.example.org"
TRACKED = re.compile(re.escape(SITE) + r"/r/([A-Za-z0-9_-]+)\.(\d+)")
CONSENTING = "anna.schmidt@example.org"


class _Page(HTMLParser):
    """The links and images of an HTML part, as a browser reads the attributes."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        elif tag == "img":
            self.images.append(found)


@dataclass
class Mail:
    message: EmailMessage
    raw: bytes

    @property
    def to(self) -> str:
        return str(self.message["To"].addresses[0].addr_spec)

    @property
    def html(self) -> str:
        return str(self.message.get_body(("html",)).get_content())  # type: ignore[union-attr]

    @property
    def text(self) -> str:
        return str(self.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def sent_mails(project: Project) -> dict[str, Mail]:
    mails = {}
    for path in project.outbox.glob("*.eml"):
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        mail = Mail(message, raw)  # type: ignore[arg-type]
        mails[mail.to] = mail
    return mails


def with_readers(project: Project) -> Project:
    """The sample readers; Anna agreed to personalised statistics (as H4's form records)."""
    project.run(
        "subscribers", "import", "subscribers.csv", "--apply", "--consent-given-by", "tests"
    )
    with project.engine().begin() as connection:
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.email == CONSENTING)
            .values(stats_consent_at=sa.func.current_timestamp(), stats_consent_text_version="1")
        )
    return project


def links_of_issue(project: Project) -> tuple[int, int, dict[tuple[int, int], sa.Row[tuple]]]:  # type: ignore[type-arg]
    """(issue id, number, {(variant_no, position): its issue_links row})."""
    with project.engine().connect() as connection:
        issue_id, number = connection.execute(sa.select(issues.c.id, issues.c.number)).one()
        rows = connection.execute(sa.select(issue_links)).all()
    return issue_id, number, {(row.variant_no, row.position): row for row in rows}


def test_a_sent_mail_sends_its_item_links_through_r_and_nothing_else(
    send_project: Project,
) -> None:
    project = with_readers(send_project)
    project.run("send")
    issue_id, number, rows = links_of_issue(project)
    mails = sent_mails(project)
    assert len(mails) == 4
    tokens = set()
    for address, mail in mails.items():
        page = _Page(mail.html)
        tracked = [TRACKED.fullmatch(href) for href in page.links]
        plain = [href for href, match in zip(page.links, tracked, strict=True) if not match]
        # One token a mail, with the position after it.
        (token,) = {match.group(1) for match in tracked if match}
        tokens.add(token)
        click = read_click_token(TEST_SECRET_KEY, token)
        assert click.issue_id == issue_id
        reader_id = subscriber_id(project, address)
        assert click.subscriber_id == (reader_id if address == CONSENTING else None)
        # Every tracked position is one of this variant's rows, and every row is linked.
        positions = {int(match.group(2)) for match in tracked if match}
        variant_rows = {pos: row for (no, pos), row in rows.items() if no == click.variant_no}
        assert positions == set(variant_rows)
        # No item link, online or calendar link is left plain in the HTML.
        destinations = {row.url for row in variant_rows.values()}
        assert not destinations & set(plain)
        # The reader's own links and the site's pages stay as they are.
        assert any(href.startswith(f"{SITE}/unsubscribe/") for href in plain)
        assert any(href.startswith(f"{SITE}/preferences/") for href in plain)
        assert f"{SITE}/archive/{number}" in plain
        # The text part lists the same tracked links, under the same token.
        listed = dict(re.findall(r"^\[(\d+)\] (\S+)\r?$", mail.text, re.M))
        assert listed == {str(pos): f"{SITE}/r/{token}.{pos}" for pos in positions}
        # List-Unsubscribe is never tracked; its token names the issue.
        header = raw_header(mail.raw, "List-Unsubscribe")
        assert "/r/" not in header
        unsubscribe_url = re.search(r"<(https://[^>]+)>", header).group(1)  # type: ignore[union-attr]
        link = read_link(TEST_SECRET_KEY, "unsubscribe", unsubscribe_url.rpartition("/")[2])
        assert (link.subscriber_id, link.issue) == (reader_id, number)
        assert unsubscribe_url in mail.html and unsubscribe_url in mail.text
        # Opens are off by default: no image counts anything.
        assert not [image for image in page.images if "/o/" in (image.get("src") or "")]
    assert len(tokens) == 4, "each message has its own token"


def test_links_are_numbered_per_variant_at_build(send_project: Project) -> None:
    project = with_readers(send_project)
    project.run("send")
    issue_id, _number, rows = links_of_issue(project)
    with project.engine().connect() as connection:
        keys = sorted(
            connection.execute(
                sa.select(issue_variants.c.variant).where(issue_variants.c.issue_id == issue_id)
            ).scalars()
        )
    numbered = {row.variant: row.variant_no for row in rows.values()}
    assert numbered == {key: number for number, key in enumerate(keys, start=1)}
    full = {row.position: (row.url, row.kind) for row in rows.values() if row.variant == "de"}
    # The text part's order: the online forum's meeting, its calendar file, its page.
    kinds = [kind for _position, (_url, kind) in sorted(full.items())]
    assert kinds.count("online") == 1 and kinds.count("calendar") == 2
    assert sorted(full) == list(range(1, len(full) + 1))
    assert (f"{SITE}/forum/beitreten", "online") in full.values()
    assert all(row.item_id is not None for row in rows.values())
    # A topic variant numbers only its own links.
    partner = [row for row in rows.values() if row.variant == "de:partner"]
    assert sorted(row.url for row in partner) == [
        f"{SITE}/partner/kulturbuero-bernburg",
        f"{SITE}/partner/quartierswerk-herne",
    ]
    assert sorted(row.position for row in partner) == [1, 2]


def test_with_opens_on_each_mail_carries_its_image(send_project: Project) -> None:
    project = with_readers(send_project)
    project.edit_config(lambda raw: raw.update(analytics={"opens": True}))
    project.run("send")
    issue_id, _number, _rows = links_of_issue(project)
    for mail in sent_mails(project).values():
        page = _Page(mail.html)
        (pixel,) = [image for image in page.images if "/o/" in (image.get("src") or "")]
        match = re.fullmatch(re.escape(SITE) + r"/o/([A-Za-z0-9_-]+)\.gif", pixel["src"] or "")
        assert match and (pixel["width"], pixel["height"], pixel["alt"]) == ("1", "1", "")
        assert read_click_token(TEST_SECRET_KEY, match.group(1)).issue_id == issue_id
        assert f"/r/{match.group(1)}." in mail.html, "the image and the links share the token"


def test_with_clicks_off_links_are_plain_and_no_row_is_kept(send_project: Project) -> None:
    project = with_readers(send_project)
    project.edit_config(lambda raw: raw.update(analytics={"clicks": False}))
    project.run("send")
    _issue_id, _number, rows = links_of_issue(project)
    assert rows == {}
    for mail in sent_mails(project).values():
        assert "/r/" not in mail.html and "/r/" not in mail.text
        assert "%%NL:" not in mail.html and "%%NL:" not in mail.text
    anna = sent_mails(project)[CONSENTING]
    assert f"{SITE}/berichte/jahresauftakt-2022" in _Page(anna.html).links


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_preview_and_test_send_show_plain_links(send_project: Project) -> None:
    project = with_readers(send_project)
    project.run("preview", "--out", "preview")
    for path in (project.root / "preview").glob("issue-*"):
        body = path.read_text(encoding="utf-8")
        assert "/r/" not in body and "/o/" not in body, path.name
    project.run("test-send", "--to", "redaktion@example.org")
    (mail,) = sent_mails(project).values()
    assert "/r/" not in mail.html and "/r/" not in mail.text
    assert f"{SITE}/berichte/jahresauftakt-2022" in _Page(mail.html).links
    with project.engine().connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(issue_links)).scalar() == 0


def subscriber_id(project: Project, address: str) -> int:
    with project.engine().connect() as connection:
        found: int = connection.execute(
            sa.select(subscribers.c.id).where(subscribers.c.email == address)
        ).scalar_one()
    return found


def raw_header(raw: bytes, name: str) -> str:
    """A header field as its bytes say, unfolded (RFC 5322 2.2.3), not decoded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n(?=[ \t])", "", head)
    (value,) = [
        line.split(":", 1)[1].strip()
        for line in unfolded.split("\r\n")
        if line.lower().startswith(name.lower() + ":")
    ]
    return value
