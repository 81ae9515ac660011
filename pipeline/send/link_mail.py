"""A short mail of a few plain lines around one link (the desk's sign-in link, a partner's
receipt): HTML and text from the same lines, outside any issue and its ledger."""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence

from pipeline.config import Site
from pipeline.render.personalize import Personalizable
from pipeline.send.message import BodyTemplate, OutgoingMessage


def link_mail(
    site: Site,
    *,
    to: str,
    kind: str,
    locale: str,
    subject: str,
    before: Sequence[str],
    url: str,
    after: Sequence[str] = (),
) -> OutgoingMessage:
    """`before`'s lines, the link, `after`'s lines: one paragraph each."""
    link = html.escape(url)
    paragraphs = [f"<p>{html.escape(line)}</p>" for line in before]
    paragraphs.append(f'<p><a href="{link}">{link}</a></p>')
    paragraphs += [f"<p>{html.escape(line)}</p>" for line in after]
    page = f'<!doctype html><html lang="{locale}"><body>{"".join(paragraphs)}</body></html>'
    plain = "\n\n".join([*before, url, *after]) + "\n"
    key = secrets.token_hex(8)
    return OutgoingMessage(
        delivery_id=0,
        delivery_key=f"{kind}-{key}",
        to_address=to,
        to_name="",
        from_address=site.sender.address,
        from_name=site.sender.name,
        reply_to=site.reply_to,
        variant=BodyTemplate(
            f"{kind}-{locale}",
            subject,
            Personalizable(chunks=(page,), names=()),
            Personalizable(chunks=(plain,), names=()),
        ),
        values={},
        message_id=f"<{kind}.{key}@{site.sender.address.rpartition('@')[2]}>",
        # No delivery to name: bounces of these come back to the sender.
        envelope_from=site.sender.address,
    )
