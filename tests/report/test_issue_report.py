"""The report query over the scenario of tests/report/conftest.py, on both engines."""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.config import Config, load_config
from pipeline.errors import NoSuchIssue
from pipeline.report.choices import VariantChoice
from pipeline.report.issue_report import headlines, issue_report
from tests.conftest import REPO
from tests.report.conftest import AUFTAKT, CALENDAR, WERKSTATT, Scenario
from tests.report.helpers import add_deliveries, add_event, add_issue, add_item, add_readers


def _config(opens: bool = False) -> Config:
    config = load_config(REPO / "config.yaml")
    analytics = config.analytics.model_copy(update={"opens": opens})
    return config.model_copy(update={"analytics": analytics})


def test_deliveries_bounces_blocks_and_complaints_count_each_delivery_once(
    engine: sa.Engine, scenario: Scenario
) -> None:
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 1).deliveries
    assert found.recipients == 11
    assert (found.sent, found.failed, found.skipped) == (9, 1, 1)
    # d1's hard bounce came twice (webhook and mailbox); e3's soft then hard is one hard.
    assert (found.bounced, found.bounced_hard, found.bounced_soft) == (3, 2, 1)
    assert found.blocked == 1
    assert found.complaints == 1, "a complaint is counted, and the mail was delivered"
    assert found.delivered == 5
    assert found.agreed == 5, "d3 agreed after the send; d1 agreed but bounced"


def test_each_variant_has_its_own_deliveries(engine: sa.Engine, scenario: Scenario) -> None:
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 1)
    by_key = {v.key: v for v in found.variants}
    assert [(v.key, v.number) for v in found.variants] == [
        ("de", 1),
        ("de:netzwerk", 2),
        ("en", 3),
    ]
    de, netzwerk, en = by_key["de"], by_key["de:netzwerk"], by_key["en"]
    assert (de.deliveries.recipients, de.deliveries.delivered, de.deliveries.failed) == (6, 2, 1)
    assert (de.deliveries.bounced_hard, de.deliveries.blocked) == (1, 1)
    assert (netzwerk.deliveries.recipients, netzwerk.deliveries.delivered) == (1, 1)
    assert netzwerk.topics == ["netzwerk"] and de.topics is None
    assert (en.deliveries.bounced_hard, en.deliveries.bounced_soft) == (1, 1)
    assert [v.deliveries.agreed for v in found.variants] == [2, 1, 2]


def test_unsubscribes_count_for_the_issue_their_event_names_by_way(
    engine: sa.Engine, scenario: Scenario
) -> None:
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 1)
        other = issue_report(connection, _config(), 2)
    assert found.deliveries.unsubscribed == 3
    assert found.deliveries.unsubscribed_by == {"one_click": 1, "page": 1, "mail": 1, "api": 0}
    by_key = {v.key: v.deliveries.unsubscribed_by for v in found.variants}
    assert by_key["de"] == {"one_click": 1, "page": 1, "mail": 0, "api": 0}
    assert by_key["en"]["mail"] == 1
    assert other.deliveries.unsubscribed == 1


def test_clicks_per_link_item_and_section_and_readers_only_among_those_who_agreed(
    engine: sa.Engine, scenario: Scenario
) -> None:
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 1)
    assert found.tracked
    assert (found.clicks.clicks, found.clicks.machine_clicks) == (6, 4)
    assert found.clicks.machine_by == {"early": 3, "head": 1}
    assert (found.clicks.clicking_readers, found.clicks.agreed) == (4, 5)
    assert found.clicks.click_through_rate == 0.8
    items = {item.title: item.clicks for item in found.items}
    auftakt, werkstatt = items["Jahresauftakt"], items["Werkstatt"]
    assert (auftakt.clicks, auftakt.machine_clicks, auftakt.clicking_readers) == (5, 3, 3)
    assert auftakt.agreed == 5, "Jahresauftakt was in every variant"
    assert (werkstatt.clicks, werkstatt.machine_clicks, werkstatt.clicking_readers) == (1, 1, 1)
    assert werkstatt.agreed == 4, "Werkstatt was not in the netzwerk variant"
    sections = {s.kind: s.clicks for s in found.sections}
    assert (sections["report"].clicks, sections["event"].clicks) == (5, 1)
    links = {(link.url, link.kind): link.clicks for link in found.links}
    assert len(found.links) == 3, "each destination once, over every variant"
    assert (links[(AUFTAKT, "link")].clicks, links[(AUFTAKT, "link")].machine_clicks) == (5, 3)
    assert links[(WERKSTATT, "link")].clicks == 1
    assert (links[(CALENDAR, "calendar")].clicks, links[(CALENDAR, "calendar")].machine_clicks) == (
        0,
        1,
    )
    by_key = {v.key: v.clicks for v in found.variants}
    assert (by_key["de"].clicks, by_key["de"].clicking_readers, by_key["de"].agreed) == (4, 2, 2)
    assert [len(v.links) for v in found.variants] == [3, 1, 3]


def test_a_click_of_another_issue_counts_there_only(engine: sa.Engine, scenario: Scenario) -> None:
    with engine.connect() as connection:
        other = issue_report(connection, _config(), 2)
    assert (other.clicks.clicks, other.clicks.clicking_readers) == (5, 1)
    assert other.deliveries.bounced_hard == 1 and other.deliveries.recipients == 4


def test_opens_are_read_only_when_switched_on(engine: sa.Engine, scenario: Scenario) -> None:
    with engine.connect() as connection:
        off = issue_report(connection, _config(opens=False), 1)
        on = issue_report(connection, _config(opens=True), 1)
    assert off.opens is None and off.as_json()["opens"] is None
    assert on.opens is not None
    assert (on.opens.opens, on.opens.machine_opens, len(on.opens.readers)) == (4, 1, 2)
    assert on.opens.agreed == 5
    assert [v.opens.opens for v in on.variants] == [3, 0, 1]


def test_the_last_issue_is_the_default_and_an_unknown_one_is_named(
    engine: sa.Engine, scenario: Scenario
) -> None:
    with engine.connect() as connection:
        assert issue_report(connection, _config(), None).number == 2
        try:
            issue_report(connection, _config(), 7)
        except NoSuchIssue as exc:
            assert str(exc) == "issue 7 does not exist"
        else:
            raise AssertionError("issue 7 was reported")


def test_headlines_are_the_reports_totals(engine: sa.Engine, scenario: Scenario) -> None:
    with engine.connect() as connection:
        listed = headlines(connection)
        reports = [issue_report(connection, _config(), number) for number in (2, 1)]
    assert [h.number for h in listed] == [2, 1]
    for headline, report in zip(listed, reports, strict=True):
        assert headline.deliveries.as_json() == report.deliveries.as_json()
        assert headline.deliveries.agreed == report.deliveries.agreed
        assert headline.clicks.as_json() == report.clicks.as_json()


def test_an_issue_without_tracked_links_says_so(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        issue_id = add_issue(connection, 5, ["de"])
        add_deliveries(connection, issue_id, add_readers(connection, "u", 3))
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 5)
    assert not found.tracked and found.links == [] and found.items == []
    assert (found.deliveries.recipients, found.deliveries.delivered) == (3, 3)
    assert found.clicks.click_through_rate is None, "nobody agreed: no rate, not 0 %"


def test_a_bounce_of_a_message_not_sent_never_takes_delivered_below_sent(
    engine: sa.Engine,
) -> None:
    """A DSN is matched by its token whatever the row's state: an unsettled row (caught
    mid-call by a crash) or a failed one may get one."""
    with engine.begin() as connection:
        issue_id = add_issue(connection, 7, ["de"])
        sent = add_deliveries(connection, issue_id, add_readers(connection, "s", 2))
        unsettled = add_deliveries(
            connection, issue_id, add_readers(connection, "u", 1), "unsettled"
        )
        failed = add_deliveries(connection, issue_id, add_readers(connection, "f", 1), "failed")
        add_event(connection, sent[0], "hard")
        add_event(connection, unsettled[0], "hard")
        add_event(connection, failed[0], "block")
    with engine.connect() as connection:
        d = issue_report(connection, _config(), 7).deliveries
    assert (d.sent, d.bounced, d.blocked, d.delivered) == (2, 1, 0, 1)
    assert (d.unsettled, d.failed) == (1, 1)


def test_a_reader_is_counted_in_the_variant_the_composer_gave_them(engine: sa.Engine) -> None:
    """A language the issue was not rendered in reads the site's; a topic selection that
    was not rendered (chosen mid-send) reads its language's full issue."""
    with engine.begin() as connection:
        auftakt = add_item(connection, "Auftakt", "report", ["netzwerk"])
        werkstatt = add_item(connection, "Werkstatt", "event", ["veranstaltungen"])
        issue_id = add_issue(connection, 6, ["de", "en", "en:netzwerk"], [auftakt, werkstatt])
        readers = add_readers(connection, "fr", 1, locale="fr")
        readers += add_readers(connection, "de-v", 1, topics=["veranstaltungen"])
        readers += add_readers(connection, "en-n", 2, locale="en", topics=["netzwerk"])
        readers += add_readers(
            connection, "en-all", 1, locale="en", topics=["netzwerk", "veranstaltungen", "x"]
        )
        add_deliveries(connection, issue_id, readers)
        choice = VariantChoice(connection, issue_id, "de")
    with engine.connect() as connection:
        found = issue_report(connection, _config(), 6)
    assert {v.key: v.deliveries.recipients for v in found.variants} == {
        "de": 2,
        "en": 1,
        "en:netzwerk": 2,
    }
    assert [choice.number_of(key) for key in ("de", "en", "en:netzwerk", "it")] == [1, 2, 3, 0]
