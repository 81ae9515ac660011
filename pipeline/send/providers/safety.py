"""Header injection: a line break in anything that becomes a header fails that message.

JSON APIs would pass a CR/LF in a name or header value on to the mail they build; the
SMTP policy would raise mid-call. Either way the message is refused here, before any call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pipeline.send.message import OutgoingMessage, SendResult

Send = Callable[[Sequence[OutgoingMessage]], Awaitable[list[SendResult]]]


def line_break_in(message: OutgoingMessage) -> str | None:
    """The name of the first header-bound field carrying a line break, or None."""
    fields = (
        ("subject", message.subject),
        ("to_name", message.to_name),
        ("to_address", message.to_address),
        ("from_name", message.from_name),
        ("from_address", message.from_address),
        ("reply_to", message.reply_to or ""),
        ("message_id", message.message_id),
    )
    for name, value in fields:
        if "\r" in value or "\n" in value:
            return name
    for name, value in message.headers.items():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            return f"header {name}"
    return None


async def without_line_breaks(messages: Sequence[OutgoingMessage], send: Send) -> list[SendResult]:
    refused = {}
    for message in messages:
        field = line_break_in(message)
        if field is not None:
            refused[message.delivery_id] = SendResult(
                message.delivery_id, error=f"refused: line break in {field} (header injection)"
            )
    if not refused:
        return await send(messages)
    rest = [message for message in messages if message.delivery_id not in refused]
    sent = {result.delivery_id: result for result in (await send(rest) if rest else [])}
    return [refused.get(m.delivery_id) or sent[m.delivery_id] for m in messages]
