"""Verdicts applied to a store on both engines: who is suppressed, counted, unsubscribed
or left alone, and what the deliveries and the issue's reports see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.bounces.apply import Applied, apply_verdict
from pipeline.bounces.verdict import Verdict, VerdictKind
from pipeline.db import deliveries, issues
from pipeline.send.events import events_of
from pipeline.send.reader_changes import MAILTO, SoftBounceRule
from subscribers import store, suppression
from subscribers.schema import soft_bounce_events, subscriber_events
from tests.bounces.helpers import reader_with_delivery

Address = Callable[[str], str]
RULE = SoftBounceRule(limit=3, window=timedelta(days=30))
MISSING = db.MAX_ROW_ID - 1
"""A delivery id no row has."""


@pytest.fixture
def engine(shared_engine: sa.Engine) -> sa.Engine:
    return shared_engine


def _apply(engine: sa.Engine, verdict: Verdict, rule: SoftBounceRule = RULE) -> Applied:
    with engine.begin() as connection:
        return apply_verdict(connection, verdict, rule, db.now())


def _state(engine: sa.Engine, email: str) -> tuple[str, str | None]:
    with engine.connect() as connection:
        found = store.find(connection, email)
        assert found is not None
        return found.state, suppression.reason_for(connection, email)


def _events(engine: sa.Engine, delivery_id: int) -> list[tuple[object, object, object]]:
    with engine.connect() as connection:
        return [(e["kind"], e["provider"], e["detail"]) for e in events_of(connection, delivery_id)]


def test_a_hard_bounce_suppresses_the_reader_and_cancels_what_is_pending(
    engine: sa.Engine, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("weg"))
    pending = reader_with_delivery(engine, address("weg"), issue_number=2, state="pending")
    applied = _apply(
        engine,
        Verdict("hard", (sent.delivery_id,), "5.1.1", "user unknown", detector="rfc3464"),
    )
    assert applied.destination == "processed" and applied.delivery_id == sent.delivery_id
    assert _state(engine, address("weg")) == ("bounced", "hard_bounce")
    assert _events(engine, sent.delivery_id) == [("hard", "mailbox", "5.1.1 user unknown")]
    with engine.connect() as connection:
        left = connection.execute(
            sa.select(deliveries.c.state).where(deliveries.c.id == pending.delivery_id)
        ).scalar_one()
        history = store.history(connection, sent.subscriber_id)
    assert left == "cancelled"
    assert history[-1]["cause"] == "hard bounce by mail: 5.1.1 user unknown"


def test_soft_bounces_suppress_only_at_the_limit_within_the_window(
    engine: sa.Engine, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("voll"))
    with engine.begin() as connection:  # two soft bounces long ago: outside the window
        for days in (45, 40):
            connection.execute(
                sa.insert(soft_bounce_events).values(
                    subscriber_id=sent.subscriber_id, at=db.now() - timedelta(days=days)
                )
            )
    soft = Verdict("soft", (sent.delivery_id,), "4.2.2", "mailbox full")
    for _ in range(2):
        _apply(engine, soft)
        assert _state(engine, address("voll")) == ("active", None)
    _apply(engine, soft)
    assert _state(engine, address("voll")) == ("bounced", "soft_bounces")
    assert [kind for kind, _p, _d in _events(engine, sent.delivery_id)] == ["soft"] * 3


def test_a_block_is_counted_on_the_delivery_and_suppresses_nobody(
    engine: sa.Engine, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("geblockt"))
    for _ in range(5):
        applied = _apply(
            engine, Verdict("block", (sent.delivery_id,), "5.7.1", "blocked by policy (spam)")
        )
    assert applied.destination == "processed"
    assert _state(engine, address("geblockt")) == ("active", None)
    assert (
        _events(engine, sent.delivery_id)
        == [("block", "mailbox", "5.7.1 blocked by policy (spam)")] * 5
    )


def test_a_complaint_suppresses_at_once(engine: sa.Engine, address: Address) -> None:
    sent = reader_with_delivery(engine, address("spam"))
    _apply(engine, Verdict("complaint", (sent.delivery_id,), detector="arf"))
    assert _state(engine, address("spam")) == ("complained", "complaint")
    assert [kind for kind, _p, _d in _events(engine, sent.delivery_id)] == ["complaint"]


def test_an_auto_reply_is_counted_and_the_reader_left_alone(
    engine: sa.Engine, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("urlaub"))
    _apply(engine, Verdict("auto_reply", (sent.delivery_id,), diagnostic="Abwesenheitsnotiz"))
    assert _state(engine, address("urlaub")) == ("active", None)
    assert [kind for kind, _p, _d in _events(engine, sent.delivery_id)] == ["auto_reply"]


def test_a_mailto_unsubscribe_unsubscribes_as_the_link_does(
    engine: sa.Engine, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("tschuess"))
    pending = reader_with_delivery(engine, address("tschuess"), issue_number=2, state="pending")
    _apply(engine, Verdict("unsubscribe", (sent.delivery_id,), detector="mailto"))
    assert _state(engine, address("tschuess")) == ("unsubscribed", None)
    with engine.connect() as connection:
        history = store.history(connection, sent.subscriber_id)
        left = connection.execute(
            sa.select(deliveries.c.state).where(deliveries.c.id == pending.delivery_id)
        ).scalar_one()
    assert history[-1]["cause"] == "unsubscribe mail (List-Unsubscribe mailto:)"
    assert left == "cancelled"


def test_a_mailto_unsubscribe_counts_for_the_issue_of_its_delivery(
    engine: sa.Engine, address: Address
) -> None:
    """The mailto names a delivery: its issue caused the unsubscribe, even when a later
    issue reached the reader too (the one a link without an issue would be counted for)."""
    first = reader_with_delivery(engine, address("frueher"), issue_number=1)
    reader_with_delivery(engine, address("frueher"), issue_number=3)
    _apply(engine, Verdict("unsubscribe", (first.delivery_id,), detector="mailto"))
    with engine.connect() as connection:
        issue_one = connection.execute(
            sa.select(issues.c.id).where(issues.c.number == 1)
        ).scalar_one()
        state, cause, issue_id = connection.execute(
            sa.select(
                subscriber_events.c.state, subscriber_events.c.cause, subscriber_events.c.issue_id
            )
            .where(subscriber_events.c.subscriber_id == first.subscriber_id)
            .order_by(subscriber_events.c.id.desc())
            .limit(1)
        ).one()
    assert (state, cause, issue_id) == ("unsubscribed", MAILTO, issue_one)


@pytest.mark.parametrize("kind, destination", [("reply", "kept"), ("unrecognised", "unrecognised")])
def test_a_reply_and_an_unrecognised_message_touch_nobody(
    engine: sa.Engine, kind: VerdictKind, destination: str, address: Address
) -> None:
    sent = reader_with_delivery(engine, address("leser"))
    applied = _apply(engine, Verdict(kind, (sent.delivery_id,)))
    assert applied.destination == destination
    assert _state(engine, address("leser")) == ("active", None)
    assert _events(engine, sent.delivery_id) == []


@pytest.mark.parametrize("kind", ["hard", "complaint", "unsubscribe", "soft", "block"])
def test_a_delivery_that_does_not_exist_names_nobody(
    engine: sa.Engine, kind: VerdictKind, address: Address
) -> None:
    """A token's signature may verify for a delivery that is not (or no longer) in the
    store; the body's addresses never stand in for it."""
    sent = reader_with_delivery(engine, address("leser"))
    applied = _apply(
        engine,
        Verdict(kind, (MISSING,), "5.1.1", recipients=(address("leser"),)),
    )
    assert applied.destination == "unrecognised"
    assert f"delivery {MISSING} does not exist" in applied.action
    assert _state(engine, address("leser")) == ("active", None)
    assert _events(engine, sent.delivery_id) == []


def test_no_token_names_nobody_whatever_the_report_says(
    engine: sa.Engine, address: Address
) -> None:
    reader_with_delivery(engine, address("leser"))
    applied = _apply(engine, Verdict("hard", (), "5.1.1", recipients=(address("leser"),)))
    assert applied.destination == "unrecognised"
    assert "no valid delivery token" in applied.action
    assert _state(engine, address("leser")) == ("active", None)


def test_two_deliveries_of_one_reader_in_one_message_count_once(
    engine: sa.Engine, address: Address
) -> None:
    first = reader_with_delivery(engine, address("doppelt"))
    second = reader_with_delivery(engine, address("doppelt"), issue_number=2)
    _apply(engine, Verdict("soft", (first.delivery_id, second.delivery_id), "4.2.2"))
    with engine.connect() as connection:
        counted = connection.execute(
            sa.select(sa.func.count()).where(
                soft_bounce_events.c.subscriber_id == first.subscriber_id
            )
        ).scalar_one()
    assert counted == 1


def test_the_reader_acted_on_is_the_deliverys_own(engine: sa.Engine, address: Address) -> None:
    """The verdict's recipients (from the report's body) name b; the token names a's
    delivery: a is suppressed, b is not."""
    a = reader_with_delivery(engine, address("a"))
    reader_with_delivery(engine, address("b"))
    _apply(engine, Verdict("hard", (a.delivery_id,), "5.1.1", recipients=(address("b"),)))
    assert _state(engine, address("a"))[0] == "bounced"
    assert _state(engine, address("b")) == ("active", None)
