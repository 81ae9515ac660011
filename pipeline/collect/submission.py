"""News sent in through `/submit` -> an item: validated as a content file is, sanitised as
every source's text is, keyed by its content (`pipeline.queue.submissions`).

The form's values arrive as front matter (`pipeline.web.desk.forms.new_front_matter`);
this module turns the validated fields into the item, never into a file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.collect.folder import to_item
from pipeline.collect.front_matter import FrontMatter
from pipeline.collect.item import CollectedItem
from pipeline.queue.submissions import submission_key

KINDS = ("report", "partner", "event")
"""What the form offers: a report, a new partner, an event."""
BODY_CHARS = 10_000


def fingerprint(front_matter: dict[str, Any], body: str) -> str:
    """What names a submission's content: the same news sent twice has the same one."""
    content = json.dumps([front_matter, body.strip()], default=str, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def submission_item(
    fields: FrontMatter,
    front_matter: dict[str, Any],
    body: str,
    *,
    partner_id: int | None,
    source: str,
    zone: ZoneInfo,
    at: datetime,
    dated: bool = False,
) -> CollectedItem:
    """The item of a validated submission; `source` names the partner (or the form or the
    API token). It is published when received (`at`), or on its front matter's date where
    the sender chose one (`dated`: the API's `date`; the form's is always today)."""
    item = to_item(fields, body, Path("submission.md"), zone)
    return replace(
        item,
        key=submission_key(partner_id, fingerprint(front_matter, body)),
        source=source,
        published_at=item.published_at if dated else at,
        ready=True,
    )
