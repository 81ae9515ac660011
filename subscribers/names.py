"""A reader's name as a form, a CSV sheet or a program gives it, made safe to keep and show.

A name goes into the `To:` header of every mail to the reader and onto pages: it is kept
on one line (every line break and tab becomes a space, runs of spaces one), without
control characters (NUL, which PostgreSQL cannot store, among them), and at most
MAX_NAME_CHARS long. Letters of every script, and the joiners some of them need, stay.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 200


def clean_name(raw: str) -> str:
    one_line = " ".join(raw.split())
    kept = "".join(char for char in one_line if unicodedata.category(char) != "Cc")
    return " ".join(kept.split())[:MAX_NAME_CHARS]
