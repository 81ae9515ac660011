"""The content folder's pictures: an item names `image: media/name.jpg`, the store and the
mails hold its address under site.base_url, `serve` serves it at /media/, and nothing
else of the folder (or the disk) can be reached that way."""

from __future__ import annotations

import email
import email.policy

import httpx
import sqlalchemy as sa

from pipeline import db
from tests.web.conftest import Site
from tests.web.test_archive_page import send_one_issue

HERNE = "quartierswerk-herne.jpg"


def test_serve_sends_the_pictures_of_the_content_folder(site: Site) -> None:
    picture = site.project.content_dir / "media" / HERNE
    with site.client() as client:
        got = client.get(f"/media/{HERNE}")
        head = client.head(f"/media/{HERNE}")
    assert got.status_code == 200 and got.content == picture.read_bytes()
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert head.status_code == 200 and head.content == b""


def test_nothing_but_a_picture_of_the_folder_is_served(site: Site) -> None:
    (site.project.content_dir / "media" / ".hidden.jpg").write_bytes(b"x")
    (site.project.content_dir / "media" / "notes.md").write_text("secret")
    asked = [
        "/media/missing.jpg",
        "/media/.hidden.jpg",
        "/media/notes.md",
        "/media/..%2F2022-03-01-editorial.md",
        "/media/%2E%2E%2Fconfig.yaml",
        "/media/../config.yaml",
    ]
    with httpx.Client(base_url=site.url, timeout=30) as client:
        answers = {path: client.get(path) for path in asked}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(
        asked, 404
    )
    assert all("secret" not in answer.text for answer in answers.values())


def test_an_issue_shows_the_picture_from_site_base_url(site: Site) -> None:
    send_one_issue(site)
    with site.engine.connect() as connection:
        stored = connection.execute(
            sa.select(db.items.c.image).where(db.items.c.key.like("%wohnen-herne.md"))
        ).scalar_one()
    assert stored == f"{site.config.site.url}/media/{HERNE}"
    raw = next(site.project.outbox.glob("issue*.eml")).read_bytes()
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    body = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'src="{site.config.site.url}/media/{HERNE}"' in body
    with site.client() as client:
        assert client.get(site.local(stored)).status_code == 200
