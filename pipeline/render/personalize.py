"""Per-recipient parts filled into an issue rendered once per variant.

Templates write placeholders (`%%NL:unsubscribe_url%%`); MJML compiles them through
untouched; each recipient's values are filled in by joining pre-split chunks, which is
what lets one compile serve any number of recipients.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cached_property

import orjson

FIELDS = ("greeting", "unsubscribe_url", "preferences_url", "click")
"""`click`: the message's click token (pipeline/render/tracking.py), in tracked links."""
_PLACEHOLDER = re.compile(r"%%NL:([a-z_]+)%%")


def placeholder(name: str) -> str:
    assert name in FIELDS, name
    return f"%%NL:{name}%%"


PLACEHOLDERS = {name: placeholder(name) for name in FIELDS}


@dataclass(frozen=True)
class Personalizable:
    """A rendered text split at its placeholders: literal chunks and the names between them."""

    chunks: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Personalizable:
        pieces = _PLACEHOLDER.split(text)
        names = tuple(pieces[1::2])
        unknown = set(names) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown placeholder(s): {', '.join(sorted(unknown))}")
        return cls(chunks=tuple(pieces[0::2]), names=names)

    def fill(self, values: dict[str, str]) -> str:
        """Join the chunks with the values; the caller passes values escaped for the format."""
        out = [self.chunks[0]]
        for name, chunk in zip(self.names, self.chunks[1:], strict=True):
            out.append(values[name])
            out.append(chunk)
        return "".join(out)

    def fill_json(self, values: dict[str, str]) -> bytes:
        """`fill`'s text as a JSON string (quotes included), for an API's request body.

        The chunks are escaped once per variant and only the values per reader: encoding
        each whole body was a quarter of the CPU of a one-message call (bench/send.py).
        JSON escapes character by character, so the pieces join to the whole's encoding.
        """
        chunks = self._json_chunks
        # Each value once: a tracked issue names the click token in every link.
        encoded = {name: orjson.dumps(values[name])[1:-1] for name in self.distinct_names}
        out = [b'"', chunks[0]]
        for name, chunk in zip(self.names, chunks[1:], strict=True):
            out.append(encoded[name])
            out.append(chunk)
        out.append(b'"')
        return b"".join(out)

    @cached_property
    def distinct_names(self) -> tuple[str, ...]:
        """Each placeholder's name once, in order of first use."""
        return tuple(dict.fromkeys(self.names))

    @cached_property
    def json_length(self) -> int:
        """Bytes of `fill_json`'s result, but for the values."""
        return 2 + sum(len(chunk) for chunk in self._json_chunks)

    @cached_property
    def _json_chunks(self) -> tuple[bytes, ...]:
        return tuple(orjson.dumps(chunk)[1:-1] for chunk in self.chunks)


def html_escaped(value: str) -> str:
    return html.escape(value, quote=True)


def html_values(values: dict[str, str]) -> dict[str, str]:
    return {name: html_escaped(value) for name, value in values.items()}
