"""Headers no receiver could read as sent fail that message, before any call.

A line break in anything that becomes a header is header injection: JSON APIs would pass
it on to the mail they build, the SMTP policy would raise mid-call. The machine-made
fields (Message-ID, List-Unsubscribe and the like) must also be printable ASCII with no
word longer than a line may be (`pipeline.send.headers`), or they would be encoded or
cut, and one-click unsubscribe would break.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pipeline.send.headers import problem
from pipeline.send.message import OutgoingMessage, SendResult

Send = Callable[[Sequence[OutgoingMessage]], Awaitable[list[SendResult]]]


def header_problem(message: OutgoingMessage) -> str | None:
    """Why the message's headers cannot be sent, or None."""
    fields = (
        ("subject", message.subject),
        ("to_name", message.to_name),
        ("to_address", message.to_address),
        ("from_name", message.from_name),
        ("from_address", message.from_address),
        ("envelope_from", message.envelope_from),
        ("reply_to", message.reply_to or ""),
    )
    joined = "".join([value for _name, value in fields])  # one scan for the common case
    if "\r" in joined or "\n" in joined:
        for name, value in fields:
            if "\r" in value or "\n" in value:
                return f"line break in {name} (header injection)"
    reason = problem("Message-ID", message.message_id)
    if reason is not None:
        return reason
    for name, value in message.headers.items():
        reason = problem(name, value)
        if reason is not None:
            return reason
    return None


async def without_bad_headers(messages: Sequence[OutgoingMessage], send: Send) -> list[SendResult]:
    refused = {}
    for message in messages:
        reason = header_problem(message)
        if reason is not None:
            refused[message.delivery_id] = SendResult(
                message.delivery_id, error=f"refused: {reason}"
            )
    if not refused:
        return await send(messages)
    rest = [message for message in messages if message.delivery_id not in refused]
    sent = {result.delivery_id: result for result in (await send(rest) if rest else [])}
    return [refused.get(m.delivery_id) or sent[m.delivery_id] for m in messages]
