"""The archive of sent issues, its Atom feed, and the health check."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from pipeline import db
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from subscribers import export_person
from tests.web.conftest import SECRET_KEY, Site

ATOM = "{http://www.w3.org/2005/Atom}"


def _send_one_issue(site: Site) -> int:
    site.add_active("leser@example.org", name="Lea")
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    return built.number


def test_archive_lists_sent_issues_and_shows_each_without_personal_links(site: Site) -> None:
    with site.client() as client:
        assert "Bisher wurde keine Ausgabe" in client.get("/archive?lang=de").text
        number = _send_one_issue(site)
        index = client.get("/archive?lang=de")
        issue = client.get(f"/archive/{number}")
        missing = client.get("/archive/999")
    assert f'href="/archive/{number}"' in index.text
    assert issue.status_code == 200 and "Jahresauftakt" in issue.text
    assert "%%NL:" not in issue.text and "Lea" not in issue.text
    assert "/unsubscribe/" not in issue.text and "/preferences/" not in issue.text
    assert missing.status_code == 404
    # An issue's page has no form of its own: nothing on it may post, nor move relative links.
    policy = dict(
        part.strip().split(" ", 1) for part in issue.headers["content-security-policy"].split(";")
    )
    assert policy["form-action"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"


def test_gdpr_export_shows_which_issues_a_reader_was_sent(site: Site) -> None:
    _send_one_issue(site)
    with site.engine.connect() as connection:
        record = export_person(connection, "leser@example.org")
    assert record is not None
    assert [row["state"] for row in record["records"]["deliveries"]] == ["sent"]


def test_atom_feed_has_one_entry_per_sent_issue(site: Site) -> None:
    number = _send_one_issue(site)
    with site.client() as client:
        answer = client.get("/archive/feed.xml")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    link = entries[0].find(f"{ATOM}link")
    assert link is not None and link.get("href") == f"{site.config.site.url}/archive/{number}"
    assert feed.findtext(f"{ATOM}title") == site.config.site.name


def test_health_check_reports_database_and_schema(site: Site) -> None:
    with site.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        with site.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
        unhealthy = client.get("/healthz")
    assert unhealthy.status_code == 503 and "db upgrade" in unhealthy.json()["problem"]


def test_a_number_larger_than_any_row_is_not_found_not_a_server_error(site: Site) -> None:
    """PostgreSQL's ids are 32-bit and SQLite's 64-bit: past either, a 404 like any other."""
    with site.client() as client:
        for number in (2**31, 2**63, int("9" * 30)):
            assert client.get(f"/archive/{number}").status_code == 404
            assert client.get(f"/events/{number}.ics").status_code == 404
