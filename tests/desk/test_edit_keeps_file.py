"""A desk edit changes only the lines of the edited keys: the file's comments, blank
lines, key order, quoting and multi-line values stay byte for byte."""

from __future__ import annotations

import frontmatter

from pipeline.collect import collect
from tests.desk.conftest import desk_csrf, item_id, signed_in
from tests.web.conftest import Site

NAME = "2026-11-20-kommentiert.md"
# The case: comments above and beside keys, a blank line, quoting, and a folded summary.
ORIGINAL = """\
---
# Ein Beitrag mit Kommentaren: der Redaktionstisch muss sie behalten.
title: 'Repair-Café im Stadtteilladen'   # kurz halten
kind: news

# Datum der Meldung
date: 2026-11-20
summary: >-
  Kaputte Toaster, wackelige Stühle und Fahrräder
  werden gemeinsam repariert.
topics:
  - netzwerk   # immer dabei
link: "https://example.org/repair"
---
Der Text des Beitrags, *unverändert*.
"""
CHANGED_TITLE = "title: Repair-Café im neuen Stadtteilladen\n"


def test_an_edit_keeps_comments_order_and_quoting_of_the_other_keys(desk: Site) -> None:
    path = desk.project.content_dir / NAME
    path.write_text(ORIGINAL, encoding="utf-8")
    collect(desk.config, desk.engine)
    number = item_id(desk, f"folder:{NAME}")
    summary = "Kaputte Toaster, wackelige Stühle und Fahrräder werden gemeinsam repariert."
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit",
            data={
                "csrf": desk_csrf(client),
                "title": "Repair-Café im neuen Stadtteilladen",
                "summary": summary,
                "kind": "news",
                "image_alt": "",
            },
        )
    assert answer.status_code == 303, answer.text
    after = path.read_text(encoding="utf-8")
    expected = ORIGINAL.replace(
        "title: 'Repair-Café im Stadtteilladen'   # kurz halten\n", CHANGED_TITLE
    )
    assert after == expected
    item = frontmatter.loads(after)
    assert item["title"] == "Repair-Café im neuen Stadtteilladen"
    assert item["summary"] == summary
    assert item["topics"] == ["netzwerk"]
