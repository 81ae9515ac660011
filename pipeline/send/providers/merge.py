"""Per-recipient values in the syntax of APIs that fill them in themselves.

The variant's HTML and text are sent once per call with each placeholder replaced by the
API's own tag; each recipient then carries only its values. HTML and text get separate
tags because the HTML needs its values escaped and the text must not have them escaped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import cache

from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.render.personalize import Personalizable, html_escaped
from pipeline.send.message import OutgoingMessage, SendResult

Tag = Callable[[str], str]
Names = tuple[str, ...]


def tagged(template: Personalizable, tag: Tag) -> str:
    return template.fill({name: tag(name) for name in template.names})


def html_key(name: str) -> str:
    return f"nl_html_{name}"


def text_key(name: str) -> str:
    return f"nl_text_{name}"


def recipient_values(message: OutgoingMessage, tag: Tag | None = None) -> dict[str, str]:
    """This recipient's values under the html_/text_ keys the tagged bodies refer to
    (only those the bodies use: Brevo and SendGrid cap the size of per-recipient values),
    each key in the API's `tag` where one is given."""
    variant, given = message.variant, message.values
    html_keys, text_keys = _value_keys(
        variant.html.distinct_names, variant.text.distinct_names, tag
    )
    values = {key: html_escaped(given[name]) for key, name in html_keys}
    for key, name in text_keys:
        values[key] = given[name]
    return values


Keys = tuple[tuple[str, str], ...]


@cache
def _value_keys(html_names: Names, text_names: Names, tag: Tag | None) -> tuple[Keys, Keys]:
    """(key, placeholder) pairs of a variant's HTML and text, made once: a send asks for
    them once per reader. Keyed by the placeholder names (a handful of sets exist)."""
    wrap = tag or (lambda key: key)
    return (
        tuple((wrap(html_key(name)), name) for name in html_names),
        tuple((wrap(text_key(name)), name) for name in text_names),
    )


def html_and_text(message: OutgoingMessage, tag: Tag) -> tuple[str, str]:
    """The variant's bodies with this API's tags in place of the placeholders."""
    variant = message.variant
    return (
        tagged(variant.html, lambda name: tag(html_key(name))),
        tagged(variant.text, lambda name: tag(text_key(name))),
    )


SendGroup = Callable[[Sequence[OutgoingMessage]], Awaitable[list[SendResult]]]
LATER_GROUP_ATTEMPTS = 4


def chunked_by_size(
    messages: Sequence[OutgoingMessage], size: Callable[[OutgoingMessage], int], limit: int
) -> list[list[OutgoingMessage]]:
    """Consecutive runs of messages whose summed `size` stays under a per-call `limit`."""
    calls: list[list[OutgoingMessage]] = [[]]
    total = 0
    for message in messages:
        length = size(message)
        if calls[-1] and total + length > limit:
            calls.append([])
            total = 0
        calls[-1].append(message)
        total += length
    return calls


Split = Callable[[list[OutgoingMessage]], list[list[OutgoingMessage]]]


async def per_variant(
    messages: Sequence[OutgoingMessage], send: SendGroup, split: Split = lambda group: [group]
) -> list[SendResult]:
    """One API call per variant (the body is shared by a call), or more where `split` says
    a variant's messages exceed a per-call limit; results in the given order."""
    groups: dict[str, list[OutgoingMessage]] = {}
    for message in messages:
        groups.setdefault(message.variant.key, []).append(message)
    calls = [call for group in groups.values() for call in split(group)]
    return await in_calls(messages, calls, send)


async def in_calls(
    messages: Sequence[OutgoingMessage], calls: list[list[OutgoingMessage]], send: SendGroup
) -> list[SendResult]:
    """Send a batch that takes several API calls; results in the order of `messages`.

    Once one call has gone through, raising would make the dispatcher resend it, so a later
    call that keeps failing is retried here and then reported as failed, never duplicated.
    """
    by_id: dict[int, SendResult] = {}
    for index, call in enumerate(calls):
        results = await (send(call) if index == 0 else _retried(call, send))
        by_id.update((result.delivery_id, result) for result in results)
    return [by_id[message.delivery_id] for message in messages]


async def _retried(group: Sequence[OutgoingMessage], send: SendGroup) -> list[SendResult]:
    for attempt in range(LATER_GROUP_ATTEMPTS):
        try:
            return await send(group)
        except RetryableProviderError as exc:
            if attempt == LATER_GROUP_ATTEMPTS - 1:
                reason = f"not sent after {LATER_GROUP_ATTEMPTS} tries: {exc}"
                return [SendResult(message.delivery_id, error=reason) for message in group]
            wait = exc.retry_after_s if exc.retry_after_s is not None else 2.0**attempt
            await asyncio.sleep(min(wait, 30.0))
    raise AssertionError("unreachable")


async def one_by_one(
    service: str, messages: Sequence[OutgoingMessage], send: SendGroup
) -> list[SendResult]:
    """After a call was refused for a bad address (nothing sent), find it message by message.

    When every message is refused on its own too, the fault is not one address: stop.
    """
    results: list[SendResult] = []
    for message in messages:
        results += await send([message])
    if all(not result.ok for result in results):
        raise PermanentProviderError(f"{service}: every message was refused: {results[0].error}")
    return results
