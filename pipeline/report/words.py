"""The report's words in the reader's language, for the terminal and the desk alike:
figures, sections, why a click was a machine's, how readers left; and number formats."""

from __future__ import annotations

from functools import cache

from babel.numbers import format_decimal, format_percent

from pipeline.render.i18n import translations


@cache
def report_words(locale: str) -> dict[str, dict[str, str]]:
    _ = translations(locale).gettext
    return {
        "figure": {
            "recipients": _("Recipients"),
            "delivered": _("Delivered"),
            "failed": _("Failed"),
            "bounced": _("Bounced"),
            "blocked": _("Blocked"),
            "complaints": _("Complaints"),
            "unsubscribed": _("Unsubscribed"),
            "clicks": _("Clicks"),
            "machine_clicks": _("Machine clicks"),
            "clicking_readers": _("Readers who clicked"),
            "click_through_rate": _("Click-through rate"),
        },
        "section": {
            "intro": _("Editorial"),
            "report": _("Report"),
            "partner": _("Partner"),
            "event": _("Event"),
            "news": _("News"),
        },
        "machine": {
            "head": _("HEAD request"),
            "early": _("too soon after the send"),
            "sweep": _("every link of a mail at once"),
            "crowd": _("one client over many mails"),
            "agent": _("a known link scanner"),
        },
        "way": {
            "one_click": _("one click in the mail app"),
            "page": _("on a page"),
            "mail": _("by mail"),
            "api": _("through the API"),
        },
        "state": {"sending": _("sending"), "sent": _("sent")},
    }


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def percent(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    return format_percent(round(value, 3), locale=locale, decimal_quantization=False)


def variant_name(key: str, locale: str) -> str:
    """`de` -> "Deutsch", `en:netzwerk+politik` -> "English: netzwerk, politik"."""
    language, cut, topics = key.partition(":")
    shown = {"de": "Deutsch", "en": "English"}.get(language, language)
    if not cut:
        return shown
    if topics.startswith("#"):  # a selection too long for its key: named by a hash
        selection = translations(locale).gettext("a topic selection")
        return f"{shown}: {selection}"
    return f"{shown}: {', '.join(topics.split('+'))}"
