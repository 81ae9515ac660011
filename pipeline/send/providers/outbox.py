"""The outbox provider: writes each message as an `.eml` file. The embedded default."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.files import make_private_dir, write_private_bytes
from pipeline.send.headers import fold
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.mime import to_mime
from pipeline.send.providers.safety import without_bad_headers


class OutboxProvider:
    name = "outbox"
    # A message is written to a file named by its Message-ID: sending it again overwrites it.
    deduplicates_retries = True

    def __init__(self, outbox_dir: Path, max_batch: int | None = None):
        self.outbox_dir = outbox_dir
        self.max_batch = max_batch or 500

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(messages, self._write_all)

    async def _write_all(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        make_private_dir(self.outbox_dir)
        return [self._write(message) for message in messages]

    def _write(self, message: OutgoingMessage) -> SendResult:
        name = f"{message.message_id.strip('<>').split('@')[0]}.eml"
        path = self.outbox_dir / name
        temporary = path.with_suffix(".eml.tmp")
        write_private_bytes(temporary, as_delivered(message))  # a reader's address
        os.replace(temporary, path)  # atomic: a reader never sees half a message
        return SendResult(delivery_id=message.delivery_id, provider_message_id=str(path))

    async def close(self) -> None:
        return None


def as_delivered(message: OutgoingMessage) -> bytes:
    """The message as the receiving server would store it: first the `Return-Path:` it
    adds from the envelope sender (RFC 5321 4.4), so the outbox shows where bounces go."""
    return_path = "".join(
        line + "\r\n" for line in fold("Return-Path", f"<{message.envelope_from}>")
    )
    return return_path.encode("ascii") + to_mime(message).as_bytes()
