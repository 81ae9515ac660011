"""Nothing a desk form can be sent gets a 500: every field of every form, fed arbitrary
text, unicode, huge values, missing and repeated fields, through the real server.

Hypothesis makes the inputs (derandomized: the same ones every run, so a failure
repeats); an invalid field is answered with a page naming it, never with a server error.
"""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.web.desk.forms import EDITABLE, EVENT_FIELDS, TEXT_FIELDS
from tests.conftest import Project, serve_command
from tests.desk.conftest import EDITOR, desk_csrf, item_id, signed_in
from tests.web.conftest import Site, csrf_of

EXAMPLES = 60
PARTNER = "2022-03-02-partner-wohnen-herne.md"
NASTY = [
    "",
    " ",
    "2026-12-03T00:00:00",
    "2026-12-03T00:00:00+14:00",
    "2026-02-30",
    "99999-01-01",
    "0000-00-00",
    "2026-12-03T25:61",
    "9" * 400,
    "-1",
    "event",
    "intro",
    "javascript:alert(1)",
    "https://",
    "https://example.org/" + "a" * 5000,
    "http://[::1",
    "\x00",
    "line\r\nbreak",
    "ß" * 2000,
    "\u202e\u200b\ufeff",
    "😀" * 100,
    "x" * 100_000,
    "{{ 7*7 }}",
    "---\ntitle: injected\n---",
    "yes",
    "de",
    "en",
    "xx",
]


# What a date or time field is most often sent: near misses of the format.
MOMENTS = [
    "2026-12-03T00:00:00",
    "2026-12-03T18:00",
    "2026-12-03 18:00",
    "2026-12-03",
    "20261203",
    "2026-W49-4",
    "2026-12-03T18:00:00Z",
    "2026-12-03T18:00+25:00",
]


def _values(name: str) -> st.SearchStrategy[str]:
    near = st.sampled_from(MOMENTS) if name == "date" or name.startswith("event_") else st.nothing()
    return st.one_of(near, st.sampled_from(NASTY), st.text(max_size=60))


def _form(
    fields: tuple[str, ...], always: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, list[str]]]:
    """Each field missing, once or repeated (the `always` ones never missing)."""
    values = {name: st.lists(_values(name), min_size=1, max_size=2) for name in fields}
    return st.fixed_dictionaries({name: values.pop(name) for name in always}, optional=values)


def _check(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text[:2000]


ADD_FIELDS = (*TEXT_FIELDS, *EVENT_FIELDS, "topics", "draft")
FORMS = {
    "add": _form(ADD_FIELDS, always=("date",)),
    "edit": _form(EDITABLE),
    "actions": _form(()),
    "issue": _form(("locale",)),
    "sign-in": _form(("email",)),
}
VALID_ITEM = {
    "title": ["Lesecafé"],
    "summary": ["Bücher tauschen und reden."],
    "kind": ["news"],
    "date": ["2026-12-03"],
}


@pytest.mark.parametrize("form", ["add", "edit", "actions", "issue", "sign-in"])
def test_no_desk_form_input_gets_a_server_error(desk: Site, form: str) -> None:
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        partner = item_id(desk, f"folder:{PARTNER}")

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True)
        @given(fields=FORMS[form], draw=st.data())
        def post(fields: dict[str, list[str]], draw: st.DataObject) -> None:
            data = fields | {"csrf": [csrf]}
            if form == "add":
                # A valid item with some fields changed, so that the changed ones get parsed.
                data = VALID_ITEM | data
                data["title"] = [f"{t} {draw.draw(st.uuids())}" for t in data["title"]]
                answer = client.post("/desk/items/new", data=data)
            elif form == "edit":
                answer = client.post(f"/desk/items/{partner}/edit", data=data)
            elif form == "actions":
                number = draw.draw(st.sampled_from([str(partner), "0", "9" * 30, str(2**63)]))
                action = draw.draw(st.sampled_from(["hold", "release", "drop", "approve", "x"]))
                answer = client.post(f"/desk/items/{number}/state/{action}", data=data)
            elif form == "issue":
                _check(client.post("/desk/issue/test", data=data))
                answer = client.post("/desk/issue/approve", data=data)
            else:
                with desk.client() as stranger:
                    token = csrf_of(stranger.get("/desk/sign-in").text)
                    answer = stranger.post("/desk/sign-in", data=data | {"csrf": [token]})
            _check(answer)
            if form in ("add", "edit") and answer.status_code == 400:
                named = re.findall(r'id="([a-z_]+)-error"', answer.text)
                assert named or 'role="alert"' in answer.text, answer.text[:2000]

        post()


def test_a_day_with_a_time_is_a_field_error_not_a_500(ready_project: Project) -> None:
    """The reported input, through `newsletter serve`."""
    ready_project.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    from tests.desk.test_sessions import desk_get, sign_in

    with serve_command(ready_project) as (url, _):
        cookie = sign_in(ready_project, url)
        page = desk_get(url, cookie, "/desk/items/new?lang=en")
        data = {
            "csrf": csrf_of(page.text),
            "title": "Lesecafé",
            "summary": "Bücher tauschen.",
            "kind": "news",
            "date": "2026-12-03T00:00:00",
        }
        answer = httpx.post(
            f"{url}/desk/items/new?lang=en",
            data=data,
            cookies={"desk_session": cookie},
            timeout=30,
        )
    assert answer.status_code == 400
    assert '<p class="error" id="date-error">Please enter a date.</p>' in answer.text
