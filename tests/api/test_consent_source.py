"""Where a consent came from: a sign-up through the API is recorded as `api:<token name>`
once its mailed button is pressed, as an operator reads it in `subscribers show` and the
GDPR export; an unsubscribe through the API is counted as its own way in the report."""

from __future__ import annotations

import json

from pipeline.report.issue_report import issue_report
from subscribers import gdpr
from tests.api.conftest import Api
from tests.report.helpers import add_deliveries, add_issue
from tests.web.conftest import confirm_link, press_button

SIGN_UP = {"email": "anna@example.org", "name": "Anna", "consent": True}


def test_a_confirmed_api_sign_up_says_which_token_brought_it(api: Api) -> None:
    token = api.token("subscribers:signup", name="website-box")
    with api.client(token) as client:
        assert client.post("/subscribers", json=SIGN_UP).status_code == 202
    with api.site.client() as browser:
        pressed = press_button(browser, confirm_link(api.site, "anna@example.org"))
        assert pressed.status_code == 200
    shown = json.loads(
        api.site.project.run("subscribers", "show", "anna@example.org", "--json").stdout
    )
    assert shown["state"] == "active"
    assert shown["consent"]["source"] == "api:website-box"
    assert "sign-up through the API (api:website-box)" in shown["consent"]["detail"]
    text = api.site.project.run("subscribers", "show", "anna@example.org").stdout
    assert "consent: api:website-box, " in text
    with api.site.engine.connect() as connection:
        exported = gdpr.export_person(connection, "anna@example.org")
    assert exported is not None
    assert exported["consent"]["source"] == "api:website-box"
    assert exported["consent"]["ip"] == "127.0.0.1"


def test_an_api_unsubscribe_is_counted_as_its_own_way(api: Api) -> None:
    reader = api.site.add_active("carla@example.org")
    with api.site.engine.begin() as connection:
        issue_id = add_issue(connection, 1, ["de"])
        add_deliveries(connection, issue_id, [reader.id])
    token = api.token("subscribers:write", name="crm")
    with api.client(token) as client:
        assert client.post(f"/subscribers/{reader.id}/unsubscribe").status_code == 200
    with api.site.engine.connect() as connection:
        found = issue_report(connection, api.site.config, 1).deliveries
    assert found.unsubscribed_by == {"one_click": 0, "page": 0, "mail": 0, "api": 1}
    report = api.site.project.run("report", "1").stdout
    assert "über die API 1" in report, report
