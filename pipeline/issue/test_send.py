"""A test of the next issue to one address: marked [TEST], with sample reader values.

Used by `newsletter test-send` and the editors' desk; nothing is recorded as sent.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.config import Config
from pipeline.errors import ProviderError, SendRefused
from pipeline.render.issue import RenderedIssue
from pipeline.render.personalize import Personalizable
from pipeline.render.preview import sample_values
from pipeline.send.compose import unsubscribe_headers
from pipeline.send.message import BodyTemplate, OutgoingMessage
from pipeline.send.providers import make_provider

TEST_PREFIX = "[TEST] "


def make_test_message(
    variant: RenderedIssue, settings: Config, address: str, at: datetime
) -> OutgoingMessage:
    values = sample_values(settings, variant.locale)
    stamp = at.strftime("%Y%m%d%H%M%S%f")
    domain = settings.site.sender.address.rpartition("@")[2]
    return OutgoingMessage(
        delivery_id=0,
        delivery_key=f"test-{stamp}",
        to_address=address,
        to_name="",
        from_address=settings.site.sender.address,
        from_name=settings.site.sender.name,
        reply_to=settings.site.reply_to,
        variant=BodyTemplate(
            f"test-{variant.variant_key}",
            TEST_PREFIX + variant.subject,
            Personalizable.parse(variant.html),
            Personalizable.parse(variant.text),
        ),
        values=values,
        message_id=f"<test-{stamp}@{domain}>",
        # No delivery, no token: a bounce of a test goes to the sender's own mailbox.
        envelope_from=settings.site.sender.address,
        headers=unsubscribe_headers(settings.site, values["unsubscribe_url"]),
    )


async def send_test_message(settings: Config, message: OutgoingMessage) -> None:
    provider = make_provider(settings)
    try:
        results = await provider.send_batch([message])
    except ProviderError as exc:
        raise SendRefused(f"the mail service refused the test: {exc}") from exc
    finally:
        await provider.close()
    if results and results[0].error:
        raise SendRefused(f"the mail service refused the test: {results[0].error}")
