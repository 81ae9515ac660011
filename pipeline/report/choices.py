"""Which variant of an issue a reader got, from their language and topics.

The ledger keeps no variant per delivery: the composer chooses it from the reader's
language and topic selection (pipeline/send/compose.py), and so does this, with the same
fallbacks. Readers who changed their choice since are counted where they are now.
Variant numbers are 1.. in the sorted order of the issue's variant keys, as the links'
`variant_no` are.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from pipeline.db import issue_variants
from pipeline.issue.variants import stored_issue_topics, variant_for
from subscribers.schema import subscribers

# JSON columns cannot be grouped in PostgreSQL (json has no equality); their text can.
TOPICS_TEXT = sa.cast(subscribers.c.topics, sa.Text)


class VariantChoice:
    """Maps a reader's (locale, topics as stored) to the key of the variant they got."""

    def __init__(self, connection: sa.Connection, issue_id: int, site_locale: str):
        self.keys = sorted(
            connection.execute(
                sa.select(issue_variants.c.variant).where(issue_variants.c.issue_id == issue_id)
            ).scalars()
        )
        self.site_locale = site_locale
        self.issue_topics = stored_issue_topics(connection, issue_id)
        self._known: dict[tuple[str | None, str | None], str] = {}

    def number_of(self, key: str) -> int:
        """The variant's number, 0 for a key the issue did not render."""
        return self.keys.index(key) + 1 if key in self.keys else 0

    def __call__(self, locale: str | None, topics_text: str | None) -> str:
        choice = (locale, topics_text)
        known = self._known.get(choice)
        if known is None:
            known = self._known[choice] = self._key_for(locale, topics_text)
        return known

    def _key_for(self, locale: str | None, topics_text: str | None) -> str:
        if not self.keys:  # an issue stored without its variants: one group a language
            return locale or self.site_locale
        shown = locale if locale is not None and locale in self.keys else self.site_locale
        if shown not in self.keys:
            shown = self.keys[0]
        key = variant_for(shown, _topics(topics_text), self.issue_topics).key
        return key if key in self.keys else shown


def _topics(text: str | None) -> list[str]:
    value = json.loads(text) if text else []
    return [str(topic) for topic in value] if isinstance(value, list) else []
