"""Machine-made header fields (Message-ID, List-Unsubscribe, ...) as receivers read them.

Python's email policies RFC 2047-encode an unstructured field whose one word is longer
than a line: `List-Unsubscribe: =?utf-8?q?=3Chttps=3A//...`. Gmail and Yahoo do not decode
that field, and then show no unsubscribe button. The fields made here are ASCII tokens and
URLs: they are folded at their own white space (after the comma between two URLs), never
encoded, and refused when a word cannot fit on one line at all. People's names and the
subject stay with the email package, which encodes them as RFC 2047 asks.
"""

from __future__ import annotations

import re
from email.policy import Policy

LINE = 78
"""RFC 5322 2.1.1: a line SHOULD be at most 78 characters (a word longer than that stays
whole on its own line)."""
MAX_LINE = 998
"""RFC 5322 2.1.1: a line MUST be at most 998 characters."""

_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except the colon
_VALUE = re.compile(r"[ -~]*")  # printable ASCII and the space: no CR, LF, controls or 8-bit


class UnfoldableHeader(ValueError):
    """A field no receiver could read as sent: a line break, 8-bit text, a word over 998."""


def problem(name: str, value: str) -> str | None:
    """Why `name: value` cannot be sent as a raw field, or None."""
    if not _NAME.fullmatch(name):
        return f"header name {name!r} is not printable ASCII"
    if not _VALUE.fullmatch(value):
        if "\r" in value or "\n" in value:
            return f"line break in header {name} (header injection)"
        return f"header {name} carries characters other than printable ASCII"
    if len(name) + 2 + len(value) <= MAX_LINE:
        # The whole field fits on one line, so every word does: the common case, checked
        # for every message of a send without splitting the value.
        return None if value.strip() else f"header {name} is empty"
    words = value.split()
    if not words:
        return f"header {name} is empty"
    first = len(name) + 2 + len(words[0])
    longest = max([first, *(1 + len(word) for word in words[1:])])
    if longest > MAX_LINE:
        return (
            f"header {name} has a word of {longest} characters with its fold, which no line "
            f"of a mail may carry (at most {MAX_LINE}, RFC 5322)"
        )
    return None


def fold(name: str, value: str) -> list[str]:
    """The field's physical lines, without line ends: `name: word`, then ` word`...

    Each word goes on the current line while that stays within 78 characters, else on a
    continuation line; the first word too, when it fits there and not after the name (a
    Message-ID on a long domain). A word that fits on no 78-character line stays after
    the name, as URLs in List-Unsubscribe do. Runs of white space become one space or one
    fold, which is the same to a receiver.
    """
    reason = problem(name, value)
    if reason is not None:
        raise UnfoldableHeader(reason)
    first, *rest = value.split()
    lines = [f"{name}:"]
    if len(name) + 2 + len(first) <= LINE or 1 + len(first) > LINE:
        lines[0] += " " + first
    else:
        lines.append(" " + first)
    for word in rest:
        if len(lines[-1]) + 1 + len(word) <= LINE:
            lines[-1] += " " + word
        else:
            lines.append(" " + word)
    return lines


class RawField(str):
    """A field that folds itself as `fold` says, which the email package never re-encodes.

    It is the value unfolded, as a string, with the `name` and `fold` of the email
    package's header objects: `EmailMessage` stores such a value as it is, and its
    generators ask it for its lines.
    """

    name: str
    _lines: tuple[str, ...]

    def __new__(cls, name: str, value: str) -> RawField:
        lines = fold(name, value)
        field = super().__new__(cls, " ".join(value.split()))
        field.name = name
        field._lines = tuple(lines)
        return field

    def fold(self, *, policy: Policy) -> str:
        linesep = policy.linesep
        return linesep.join(self._lines) + linesep
