"""The bounce messages in the store, on both engines: claim keys, one claim a message,
pruning of the bytes, and a reader's GDPR export and erasure including them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.bounces import records
from pipeline.db import bounce_messages
from subscribers import gdpr
from tests.bounces.helpers import reader_with_delivery

MAILBOX = "imap://bounces@127.0.0.1:143/INBOX"


@pytest.fixture
def engine(shared_engine: sa.Engine) -> sa.Engine:
    return shared_engine


def test_the_claim_key_is_the_message_id_or_a_hash_of_the_bytes() -> None:
    assert records.claim_key(b"Message-ID: <abc@mx.example>\r\n\r\nx") == "mid:abc@mx.example"
    assert records.claim_key(b"Message-Id:\r\n <folded@mx>\r\n\r\n") == "mid:folded@mx"
    hashed = records.claim_key(b"Subject: none\r\n\r\nx")
    assert hashed.startswith("sha256:") and len(hashed) == 7 + 64
    too_long = b"Message-ID: <" + b"a" * 400 + b"@mx>\r\n\r\n"
    assert records.claim_key(too_long).startswith("sha256:")


def test_a_message_is_claimed_once(engine: sa.Engine, address: Callable[[str], str]) -> None:
    key, uid = f"mid:{address('once')}", "1/7"
    with engine.begin() as connection:
        records.claim(connection, MAILBOX, key, uid, b"raw", db.now())
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        records.claim(connection, MAILBOX, key, uid, b"raw", db.now())
    with engine.begin() as connection:  # another message sharing the Message-ID is its own
        records.claim(connection, MAILBOX, key, "1/8", b"other", db.now())
        assert records.is_claimed(connection, MAILBOX, "1/8", key)


def test_bytes_older_than_keep_days_are_dropped_and_the_row_stays(
    engine: sa.Engine, address: Callable[[str], str]
) -> None:
    now = db.now()
    with engine.begin() as connection:
        old = records.claim(connection, MAILBOX, f"mid:{address('old')}", "1/1", b"o", now)
        new = records.claim(connection, MAILBOX, f"mid:{address('new')}", "1/2", b"n", now)
        records.complete(connection, old, processed_at=now - timedelta(days=91))
        assert records.prune_raw(connection, 90, now) >= 1
        raw = {
            row_id: data
            for row_id, data in connection.execute(
                sa.select(bounce_messages.c.id, bounce_messages.c.raw).where(
                    bounce_messages.c.id.in_([old, new])
                )
            )
        }
    assert raw == {old: None, new: b"n"}


def test_a_readers_bounces_are_in_their_export_and_go_with_their_erasure(
    engine: sa.Engine, address: Callable[[str], str]
) -> None:
    email = address("privat")
    sent = reader_with_delivery(engine, email)
    raw = f"To: {email}\r\nSubject: Unzustellbar\r\n\r\n550 5.1.1 {email} unknown\r\n".encode()
    with engine.begin() as connection:
        row = records.claim(connection, MAILBOX, f"mid:{email}", "1/9", raw, db.now())
        records.complete(connection, row, kind="hard", delivery_id=sent.delivery_id)
        exported = gdpr.export_person(connection, email)
    assert exported is not None
    document = json.dumps(exported)  # the bytes as text, not an error
    assert "550 5.1.1" in document and "bounce_messages" in document
    with engine.begin() as connection:
        gdpr.erase(connection, email)
        left = connection.execute(
            sa.select(sa.func.count()).where(bounce_messages.c.id == row)
        ).scalar_one()
    assert left == 0, "the mail that named them is erased with them"
