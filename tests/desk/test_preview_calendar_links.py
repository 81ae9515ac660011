"""The desk's preview and its test mail show items that have not gone out: their calendar
links are signed and open the event, while the plain link stays a 404 until the issue is
sent (finding 11 of the hardening review, through the desk's own pages).
"""

from __future__ import annotations

import html
import re

from tests.desk.conftest import EDITOR, desk_csrf, signed_in
from tests.web.conftest import Site

SIGNED = re.compile(r"/events/(\d+)\.ics\?preview=([A-Za-z0-9_.\-]+)")


def _opens(desk: Site, event_id: str, token: str) -> None:
    with desk.client() as public:
        plain = public.get(f"/events/{event_id}.ics")
        assert plain.status_code == 404
        signed = public.get(f"/events/{event_id}.ics", params={"preview": token})
        assert signed.status_code == 200
        assert signed.headers["content-type"].startswith("text/calendar")
        assert b"BEGIN:VEVENT" in signed.content


def test_the_desk_preview_links_its_events_with_a_signature(desk: Site) -> None:
    with signed_in(desk) as client:
        preview = html.unescape(client.get("/desk/issue/preview/de").text)
    found = SIGNED.findall(preview)
    assert found
    assert re.search(r"/events/\d+\.ics[\"']", preview) is None  # no plain calendar link
    for event_id, token in found:
        _opens(desk, event_id, token)


def test_the_desk_test_mail_links_its_events_with_a_signature(desk: Site) -> None:
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/issue/test?lang=en", data={"csrf": desk_csrf(client), "locale": "de"}
        )
        assert answer.status_code == 303, answer.text
    mail = desk.wait_for_mail(EDITOR, count=2)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = SIGNED.findall(text)
    assert found
    for event_id, token in found:
        _opens(desk, event_id, token)
