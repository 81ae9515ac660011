"""An editor adds an event through the form in headless Chromium and sees it in the preview."""

from __future__ import annotations

import json
from pathlib import Path

from tests.desk.conftest import item_id, item_state, sign_in_browser
from tests.web.browser import Page, chromium
from tests.web.conftest import Site

TITLE = "Nachbarschaftsfest am Kanal"
FRAMES_SHOWING = (
    "Array.from(document.querySelectorAll('iframe')).filter(f => f.contentDocument"
    " && f.contentDocument.body && f.contentDocument.body.innerText.includes(%r)).length"
)


def test_an_editor_adds_an_event_and_sees_it_in_the_preview(desk: Site, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        sign_in_browser(page, desk)
        page.call("Page.navigate", url=f"{desk.url}/desk/items/new?kind=event&lang=en")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('#title')")
        assert page.evaluate("document.querySelector('#kind').value") == "event"
        page.evaluate(
            f"document.querySelector('#title').value = {TITLE!r};"
            "document.querySelector('#summary').value = 'Musik, Essen und Gespräche am Ufer.';"
            "document.querySelector('#event_start').value = '2027-05-10T18:00';"
            "document.querySelector('#event_location').value = 'Kanalufer, Wuppertal';"
            "document.querySelector('form[action^=\"/desk/items/new\"] button[type=submit]')"
            ".click();"
        )
        page.wait_for("location.pathname === '/desk' && document.readyState === 'complete'")
        assert TITLE in page.evaluate("document.body.innerText")
        page.call("Page.navigate", url=f"{desk.url}/desk/issue?lang=en")
        page.wait_for(FRAMES_SHOWING % TITLE + " === 4", timeout_s=60)
        widths = page.evaluate(
            "Array.from(document.querySelectorAll('iframe')).map(f => f.clientWidth)"
        )
    assert sorted(widths) == [375, 375, 700, 700]
    written = [p for p in desk.project.content_dir.iterdir() if "nachbarschaftsfest" in p.name]
    assert len(written) == 1


def _open_desk(page: Page, desk: Site, path: str) -> None:
    sign_in_browser(page, desk)
    page.call("Page.navigate", url=f"{desk.url}{path}")
    page.wait_for("document.readyState === 'complete' && !!document.querySelector('main')")


def test_an_editor_drops_an_item_confirms_and_undoes_it(desk: Site, tmp_path: Path) -> None:
    number = item_id(desk, "folder:2027-03-04-werkstatt-wuppertal.md")
    drop = f"a[href^='/desk/items/{number}/drop']"
    with chromium(tmp_path / "profile") as page:
        _open_desk(page, desk, "/desk?lang=de")
        outline = page.evaluate(f"getComputedStyle(document.querySelector({drop!r})).borderColor")
        hold = page.evaluate("getComputedStyle(document.querySelector('button.quiet')).borderStyle")
        page.evaluate(f"document.querySelector({drop!r}).click()")
        page.wait_for("location.pathname.endsWith('/drop') && document.readyState === 'complete'")
        asked = page.evaluate("document.querySelector('main').innerText")
        page.evaluate("document.querySelector('button.danger').click()")
        page.wait_for("location.pathname === '/desk' && document.readyState === 'complete'")
        notice = page.evaluate("document.querySelector('[role=status]').innerText")
        dropped = item_state(desk, number)
        page.evaluate("document.querySelector('[role=status] button').click()")
        page.wait_for("location.search.includes('done=restored')")
        page.wait_for("document.readyState === 'complete'")
        restored = page.evaluate("document.querySelector('[role=status]').innerText")
    assert outline == "rgb(163, 32, 27)" and hold == "none"  # drop stands apart, in red
    assert "Diesen Beitrag verwerfen?" in asked
    assert dropped == "dropped"
    assert "Verworfen:" in notice and "Rückgängig" in notice
    assert "Wiederhergestellt:" in restored
    assert item_state(desk, number) == "queued"


BOX = "JSON.stringify(document.querySelector(%r).getBoundingClientRect())"


def _box(page: Page, selector: str) -> dict[str, float]:
    box: dict[str, float] = json.loads(page.evaluate(BOX % selector))
    return box


def test_the_form_puts_labels_above_hints_below_and_events_only_for_events(
    desk: Site, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as page:
        _open_desk(page, desk, "/desk/items/new?kind=news&lang=en")
        hidden = page.evaluate("getComputedStyle(document.querySelector('fieldset.event')).display")
        font = page.evaluate("getComputedStyle(document.querySelector('#summary')).fontFamily")
        boxes = {
            selector: _box(page, selector)
            for selector in ("label[for=title]", "#title", "#summary", "#summary-hint")
        }
        page.evaluate("document.querySelector('#kind').value = 'event'")
        shown = page.evaluate("getComputedStyle(document.querySelector('fieldset.event')).display")
        for selector in ("label[for=event_start]", "#event_start", "label[for=event_end]"):
            boxes[selector] = _box(page, selector)
        page.evaluate("document.querySelector('form[action^=\"/desk/items/new\"]').submit()")
        page.wait_for("!!document.querySelector('.error-summary')")
        border = page.evaluate("getComputedStyle(document.querySelector('#title')).borderTopColor")
        invalid = page.evaluate(
            "Array.from(document.querySelectorAll('[aria-invalid=true]')).map(e => e.id)"
        )
    assert hidden == "none" and shown == "block"
    assert "monospace" not in font
    label, title = boxes["label[for=title]"], boxes["#title"]
    assert label["bottom"] <= title["top"] and label["left"] == title["left"]
    assert boxes["#summary-hint"]["top"] >= boxes["#summary"]["bottom"]
    start_label, start = boxes["label[for=event_start]"], boxes["#event_start"]
    assert start_label["bottom"] <= start["top"] and start_label["left"] == start["left"]
    assert boxes["label[for=event_end]"]["top"] >= start["bottom"]  # not beside the input
    assert border == "rgb(180, 69, 31)"
    assert {"title", "summary", "event_start"} <= set(invalid)


def test_on_a_phone_the_queue_is_a_list_of_cards_without_sideways_scrolling(
    desk: Site, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=375,
            height=812,
            deviceScaleFactor=2,
            mobile=True,
        )
        _open_desk(page, desk, "/desk?lang=de")
        page_width = page.evaluate("document.documentElement.scrollWidth")
        row = "tr[id^=item-]"
        card = _box(page, row)
        cells = json.loads(
            page.evaluate(
                f"JSON.stringify(Array.from(document.querySelector({row!r}).cells)"
                ".map(c => [c.getBoundingClientRect().top, c.getBoundingClientRect().width,"
                " getComputedStyle(c, '::before').content]))"
            )
        )
        roles = page.evaluate(
            f"Array.from(document.querySelector({row!r}).cells).map(c => c.getAttribute('role'))"
        )
        other_widths = {}
        for path in ("/desk/items/new?kind=event", "/desk/issue", "/desk/sessions", "/desk/issues"):
            page.call("Page.navigate", url=f"{desk.url}{path}")
            page.wait_for("document.readyState === 'complete' && !!document.querySelector('main')")
            other_widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 375  # nothing sticks out: no sideways scrolling
    assert {path: width for path, width in other_widths.items() if width > 375} == {}
    assert card["width"] <= 375 - 16
    tops = [top for top, _width, _label in cells]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # stacked, one under another
    assert all(width >= card["width"] - 40 for _top, width, _label in cells)
    # Each cell says what it is, as the column's heading did on a wide screen.
    assert [label for _top, _width, label in cells][:3] == ['"Art: "', '"Titel: "', '"Quelle: "']
    # The cells keep their table roles for screen readers, whatever CSS does to them.
    assert set(roles) == {"cell"}
