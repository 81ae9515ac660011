"""Every public page and every mail links the imprint and the privacy policy; `serve`
refuses to start without them (German law expects both of a sign-up form)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from pipeline.tokens import make_token
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, confirm_link, sign_up

IMPRINT = "https://netzwerk-quartier.example.org/impressum"
PRIVACY = "https://netzwerk-quartier.example.org/datenschutz"


class Links(HTMLParser):
    """Each link's target and text, and the text of the element an id names."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.by_id: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str | None]] = {}
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.attributes[str(values["id"])] = values
        if tag == "a" or values.get("id"):
            href = values.get("href") if tag == "a" else None
            self._open.append((str(values.get("id") or ""), href, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "small", "p", "div", "label") and self._open:
            element_id, href, text = self._open.pop()
            joined = " ".join("".join(text).split())
            if href is not None:
                self.links[href] = joined
            if element_id:
                self.by_id[element_id] = joined


def links_of(page: str) -> Links:
    parser = Links()
    parser.feed(page)
    return parser


def public_pages(site: Site) -> dict[str, str]:
    subscriber = site.add_active("leser@example.org", locale="de")
    unsubscribe = make_token(SECRET_KEY, "unsubscribe", subscriber.id)
    preferences = make_token(SECRET_KEY, "preferences", subscriber.id)
    return {
        "sign-up": "/subscribe",
        "thanks": "/subscribe/thanks",
        "archive": "/archive",
        "unsubscribe": f"/unsubscribe/{unsubscribe}",
        "preferences": f"/preferences/{preferences}",
        "invalid link": "/unsubscribe/not-a-token",
    }


def test_every_public_page_links_imprint_and_privacy_policy(site: Site) -> None:
    with site.client() as client:
        for name, path in public_pages(site).items():
            for lang, imprint, privacy in (
                ("de", "Impressum", "Datenschutzerklärung"),
                ("en", "Imprint", "Privacy policy"),
            ):
                page = client.get(path, params={"lang": lang})
                links = links_of(page.text).links
                assert links.get(IMPRINT) == imprint, (name, lang, links)
                assert links.get(PRIVACY) == privacy, (name, lang, links)


def test_the_consent_checkbox_points_to_the_privacy_policy(site: Site) -> None:
    with site.client() as client:
        page = client.get("/subscribe", params={"lang": "de"}).text
    parsed = links_of(page)
    described_by = parsed.attributes["consent"]["aria-describedby"]
    assert described_by == "consent-privacy"
    assert "Datenschutzerklärung" in parsed.by_id["consent-privacy"]
    hint = re.search(r'<small id="consent-privacy">.*?</small>', page, re.S)
    assert hint and f'href="{PRIVACY}"' in hint.group(0)


def test_the_confirmation_mail_links_imprint_and_privacy_policy(site: Site) -> None:
    status, _ = sign_up(site, "neu@example.org")
    assert status == 200
    confirm_link(site, "neu@example.org")
    mail = site.wait_for_mail("neu@example.org")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Impressum: {IMPRINT}" in text
    assert f"Datenschutzerklärung: {PRIVACY}" in text
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert links_of(html).links.get(IMPRINT) == "Impressum"
    assert links_of(html).links.get(PRIVACY) == "Datenschutzerklärung"


def test_serve_refuses_to_start_without_a_privacy_policy(project: Project) -> None:
    def drop_privacy(raw: dict[str, object]) -> None:
        site = raw["site"]
        assert isinstance(site, dict)
        del site["privacy_url"]

    project.edit_config(drop_privacy)
    project.run("db", "upgrade")
    result = project.run("serve", "--port", "0", check=False, in_process=False)
    assert result.returncode != 0
    assert "site.privacy_url" in result.stderr
    assert "site.imprint_url" not in result.stderr
    assert result.stdout == ""
