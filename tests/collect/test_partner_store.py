"""Partners' links on SQLite and PostgreSQL alike: accepted while active, refused at once
after a revoke, and an old link stays dead when the partner is added again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pipeline.partners import PartnerRefused, add_partner, partner_of_link, revoke_partner
from pipeline.tokens import InvalidToken

KEYS = ("a-signing-key-of-at-least-thirty-two-characters",)
AT = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_a_link_works_until_revoked_and_never_again(engine: sa.Engine) -> None:
    first = add_partner(engine, "  Verein   Süd ", "Info@Sued.example.org", AT)
    assert (first.name, first.email) == ("Verein Süd", "info@sued.example.org")
    old = _token(first.link("https://example.org", KEYS))
    with engine.connect() as connection:
        assert partner_of_link(connection, KEYS, old).name == "Verein Süd"
        with pytest.raises(InvalidToken):
            partner_of_link(connection, ("another-key-of-at-least-thirty-two-chars",), old)
    revoke_partner(engine, "Verein Süd", AT)
    with engine.connect() as connection, pytest.raises(InvalidToken):
        partner_of_link(connection, KEYS, old)
    again = add_partner(engine, "Verein Süd", "info@sued.example.org", AT)
    with engine.connect() as connection:
        assert (
            partner_of_link(connection, KEYS, _token(again.link("https://x", KEYS))).id == first.id
        )
        with pytest.raises(InvalidToken):
            partner_of_link(connection, KEYS, old)


def test_revoking_an_unknown_partner_names_it(engine: sa.Engine) -> None:
    with pytest.raises(PartnerRefused, match="no partner 'Niemand'"):
        revoke_partner(engine, "Niemand", AT)
