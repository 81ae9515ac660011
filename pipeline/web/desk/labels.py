"""Names of states, kinds and actions in the editor's language, built once per language
(a queue page names hundreds of them)."""

from __future__ import annotations

from functools import cache

from pipeline.render.i18n import translations


@cache
def labels(locale: str) -> dict[str, dict[str, str]]:
    _ = translations(locale).gettext
    return {
        "state": {
            "submitted": _("Sent in"),
            "approved": _("Approved"),
            "queued": _("Queued"),
            "held": _("Held"),
            "draft": _("Drafts"),
            "sent": _("Sent"),
            "dropped": _("Dropped"),
            "expired": _("Expired"),
        },
        "kind": {
            "intro": _("Editorial"),
            "report": _("Report"),
            "partner": _("Partner"),
            "event": _("Event"),
            "news": _("News"),
        },
        "action": {
            "hold": _("Hold"),
            "release": _("Release"),
            "drop": _("Drop"),
            "approve": _("Approve"),
            "restore": _("Restore"),
        },
    }
