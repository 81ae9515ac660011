"""One sent issue whose every figure is known, on SQLite and on PostgreSQL.

Issue 1 has three variants: `de` (1), `de:netzwerk` (2), `en` (3); two items, "Jahresauftakt"
(a report, topic netzwerk) and "Werkstatt" (an event, topic veranstaltungen, with a
calendar link). Readers (agreed = agreed to personalised statistics before the send):

    de  d0 d1 d2 agreed, d3 agreed after the send; d0-d3 sent, d4 failed, d5 cancelled
    de:netzwerk  t0 agreed, sent
    en  e0 e1 agreed, e2 e3; all sent

Events: d1 hard by webhook and again by the mailbox; d2 complaint; d3 block; e2 soft;
e3 soft and then hard. Unsubscribes naming issue 1: d0 by the page, e1 by mail,
d3 by one click (and d4 by issue 2's link, not counted here).
Clicks: d0 twice on Jahresauftakt (de), d2 once on Werkstatt (de), one anonymous on
Jahresauftakt (de), three `early` machine clicks on Jahresauftakt (de), one `head` on
Werkstatt's calendar link (en), e0 once on Jahresauftakt (en), t0 once on Jahresauftakt
(de:netzwerk); issue 2 has clicks of its own. Opens: de three (d0, two anonymous) and
one machine; en one (e1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Project
from tests.report.helpers import (
    SENT_AT,
    add_clicks,
    add_deliveries,
    add_event,
    add_issue,
    add_item,
    add_links,
    add_opens,
    add_readers,
    add_unsubscribe,
    delivery_of,
)

AUFTAKT = "https://example.org/berichte/jahresauftakt"
WERKSTATT = "https://example.org/termine/werkstatt"
CALENDAR = "https://newsletter.example.org/events/2.ics"


@dataclass
class Scenario:
    issue_id: int
    readers: dict[str, int]


def build_scenario(engine: sa.Engine) -> Scenario:
    agreed = SENT_AT - timedelta(days=1)
    with engine.begin() as connection:
        auftakt = add_item(connection, "Jahresauftakt", "report", ["netzwerk"])
        werkstatt = add_item(connection, "Werkstatt", "event", ["veranstaltungen"])
        issue_id = add_issue(connection, 1, ["en", "de:netzwerk", "de"], [auftakt, werkstatt])
        other_issue = add_issue(connection, 2, ["de"], [auftakt])
        d = add_readers(connection, "d", 3, agreed_at=agreed)
        d += add_readers(connection, "late", 1, agreed_at=SENT_AT + timedelta(days=1))
        d += add_readers(connection, "x", 2)
        t = add_readers(connection, "t", 1, topics=["netzwerk"], agreed_at=agreed)
        e = add_readers(connection, "e", 2, locale="en", agreed_at=agreed)
        e += add_readers(connection, "f", 2, locale="en")
        add_deliveries(connection, issue_id, [*d[:4], *t, *e])
        add_deliveries(connection, issue_id, [d[4]], "failed")
        add_deliveries(connection, issue_id, [d[5]], "cancelled")
        add_deliveries(connection, other_issue, d[:4])
        for reader, kind, provider in [
            (d[1], "hard", "postmark"),
            (d[1], "hard", "mailbox"),
            (d[2], "complaint", "postmark"),
            (d[3], "block", "mailbox"),
            (e[2], "soft", "mailgun"),
            (e[3], "soft", "mailgun"),
            (e[3], "hard", "mailgun"),
        ]:
            add_event(connection, delivery_of(connection, issue_id, reader), kind, provider)
        add_event(connection, delivery_of(connection, other_issue, d[0]), "hard")
        add_unsubscribe(connection, d[0], issue_id, "unsubscribe link")
        add_unsubscribe(connection, e[1], issue_id, "unsubscribe mail (List-Unsubscribe mailto:)")
        add_unsubscribe(connection, d[3], issue_id, "one-click unsubscribe (RFC 8058)")
        add_unsubscribe(connection, d[4], other_issue, "unsubscribe link")
        links = add_links(
            connection,
            issue_id,
            [
                (1, "de", 1, AUFTAKT, auftakt, "link"),
                (1, "de", 2, WERKSTATT, werkstatt, "link"),
                (1, "de", 3, CALENDAR, werkstatt, "calendar"),
                (2, "de:netzwerk", 1, AUFTAKT, auftakt, "link"),
                (3, "en", 1, AUFTAKT, auftakt, "link"),
                (3, "en", 2, WERKSTATT, werkstatt, "link"),
                (3, "en", 3, CALENDAR, werkstatt, "calendar"),
            ],
        )
        other_links = add_links(connection, other_issue, [(1, "de", 1, AUFTAKT, auftakt, "link")])
        add_clicks(connection, issue_id, links[(1, 1)], 2, reader=d[0])
        add_clicks(connection, issue_id, links[(1, 2)], 1, reader=d[2])
        add_clicks(connection, issue_id, links[(1, 1)], 1)
        add_clicks(connection, issue_id, links[(1, 1)], 3, machine="early")
        add_clicks(connection, issue_id, links[(3, 3)], 1, machine="head")
        add_clicks(connection, issue_id, links[(3, 1)], 1, reader=e[0])
        add_clicks(connection, issue_id, links[(2, 1)], 1, reader=t[0])
        add_clicks(connection, other_issue, other_links[(1, 1)], 5, reader=d[1])
        add_opens(connection, issue_id, 1, 1, reader=d[0])
        add_opens(connection, issue_id, 1, 2)
        add_opens(connection, issue_id, 1, 1, machine="early")
        add_opens(connection, issue_id, 3, 1, reader=e[1])
    names = {f"d{n}": r for n, r in enumerate(d)} | {"t0": t[0]}
    names |= {f"e{n}": r for n, r in enumerate(e)}
    return Scenario(issue_id, names)


@pytest.fixture
def scenario(engine: sa.Engine) -> Scenario:
    return build_scenario(engine)


@pytest.fixture
def reported(project: Project, database_url: str, tmp_path: Path) -> Project:
    """The demo project on the scenario's database (SQLite file or PostgreSQL)."""
    from pipeline import db

    project.edit_config(lambda raw: raw.update(database={"url": database_url}))
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        build_scenario(engine)
    finally:
        engine.dispose()
    return project
