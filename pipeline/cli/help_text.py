"""What `--help` shows for each option's value: a word a person reads (`DATE (YYYY-MM-DD)`,
`TOPIC`, `ADDRESS`), never Typer's Python types (`<list[str]>`, `<%Y-%m-%d>`), and nothing
after a flag, which takes no value."""

from __future__ import annotations

from typing import Any

METAVARS = {
    "config": "FILE",
    "date": "DATE (YYYY-MM-DD)",
    "day": "DATE (YYYY-MM-DD)",
    "event_start": "YYYY-MM-DDTHH:MM",
    "event_end": "YYYY-MM-DDTHH:MM",
    "publish_after": "DATE (YYYY-MM-DD)",
    "expires": "DATE (YYYY-MM-DD)",
    "image": "URL|media/NAME",
    "image_alt": "TEXT",
    "body": "FILE",
    "topic": "TOPIC",
    "topics": "TOPIC",
    "to": "ADDRESS",
    "email": "ADDRESS",
    "address": "ADDRESS",
    "locale": "de|en",
    "log_format": "text|json",
    "out": "FOLDER",
    "poll_s": "SECONDS",
    "link": "URL",
    "online_url": "URL",
    "url": "URL",
    "title": "TEXT",
    "summary": "TEXT",
    "location": "TEXT",
    "consent_given_by": "TEXT",
    "kind": "KIND",
    "issue": "N",
    "refs": "ITEM",
    "item": "ITEM",
}


def readable_metavars(command: Any) -> None:
    """Give every option and argument of `command` and its subcommands a readable value name.

    `command` is what `typer.main.get_command` returns: Typer's own copy of a Click command
    (its classes are private, so they are met by what they have, not by their type)."""
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        elif param.metavar is None and param.name is not None:
            param.metavar = METAVARS.get(param.name, param.name.upper())
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)
