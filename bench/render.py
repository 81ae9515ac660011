"""Render figures for a 30-item issue: compile time, and personalised messages a second.

    .venv/bin/python bench/render.py

Targets (issue 5): compiling (Jinja2 + MJML) under 100 ms; personalised messages (HTML and
text with per-recipient signed links) at 20,000 or more a second on one core.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mjml import mjml2html

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import load_config  # noqa: E402
from pipeline.issue.model import IssueContent, IssueItem  # noqa: E402
from pipeline.issue.select import group_into_sections  # noqa: E402
from pipeline.render.issue import render_issue, render_mjml  # noqa: E402
from pipeline.render.personalize import Personalizable, html_values  # noqa: E402
from pipeline.send.compose import ReaderLinks, greeting, unsubscribe_headers  # noqa: E402

KINDS = ("intro", "report", "partner", "event", "news")
SUMMARY = (
    "Partner aus Kommune, Wohnungswirtschaft und Kultur zeigen, wie ein leerstehendes "
    "Kaufhaus zum Treffpunkt der Nachbarschaft wird. Mit Rundgang und offener Diskussion."
)


def thirty_items() -> IssueContent:
    start = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    items = []
    for n in range(30):
        kind = KINDS[1 + n % 4] if n else "intro"
        event = kind == "event"
        items.append(
            IssueItem(
                id=n + 1, key=f"folder:item-{n}.md", source="content folder", kind=kind,
                title=f"Beitrag {n + 1}: Quartiersentwicklung gemeinsam gestalten",
                summary=SUMMARY, body_html="",
                link=f"https://netzwerk-quartier.example.org/beitrag/{n}",
                image=f"https://netzwerk-quartier.example.org/img/{n}.jpg" if n % 2 else None,
                image_alt="Menschen im Gespräch auf einem Marktplatz" if n % 2 else None,
                topics=("netzwerk",), published_at=start - timedelta(days=n),
                event_start=start + timedelta(days=n) if event else None,
                event_end=start + timedelta(days=n, hours=2) if event else None,
                event_location="Quartiershalle, Musterstraße 1, Wuppertal" if event else None,
                event_online_url=None,
            )
        )  # fmt: skip
    sections = group_into_sections(items, max_per_section=30)
    return IssueContent(number=42, date=start, sections=sections)


def timed(action: object, repeat: int) -> list[float]:
    assert callable(action)
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        action()
        times.append((time.perf_counter() - begin) * 1000)
    return times


def main() -> None:
    config = load_config(REPO / "config.yaml")
    site = config.site
    content = thirty_items()
    subject = "Neues aus dem Netzwerk – Ausgabe 42"
    render_issue(content, site=site, locale="de", subject=subject)  # warm the template cache
    jinja = timed(lambda: render_mjml(content, site=site, locale="de", subject=subject), 30)
    source, _, _ = render_mjml(content, site=site, locale="de", subject=subject)
    mjml = timed(lambda: mjml2html(source, disable_comments=True), 30)
    total = timed(lambda: render_issue(content, site=site, locale="de", subject=subject), 30)
    variant = render_issue(content, site=site, locale="de", subject=subject)
    print(f"30-item issue: HTML {len(variant.html.encode()) / 1024:.1f} KB, "
          f"text {len(variant.text.encode()) / 1024:.1f} KB")  # fmt: skip
    print(f"compile (Jinja2 + MJML), median of 30: {statistics.median(total):.1f} ms "
          f"(Jinja2 {statistics.median(jinja):.1f} ms, MJML {statistics.median(mjml):.1f} ms); "
          "target < 100 ms")  # fmt: skip

    page, text = Personalizable.parse(variant.html), Personalizable.parse(variant.text)
    links = ReaderLinks(site, "bench-secret-key")
    count = 20_000

    def personalise(with_tokens: bool) -> float:
        begin = time.perf_counter()
        for subscriber_id in range(count):
            if with_tokens:
                values = {"greeting": greeting("Erika Mustermann", "de")}
                values |= links(subscriber_id)
                unsubscribe_headers(site, values["unsubscribe_url"])
            else:
                values = {
                    "greeting": "Hallo Erika Mustermann,",
                    "unsubscribe_url": f"{site.url}/unsubscribe/{subscriber_id}",
                    "preferences_url": f"{site.url}/preferences/{subscriber_id}",
                }
            page.fill(html_values(values))
            text.fill(values)
        return count / (time.perf_counter() - begin)

    print(f"personalised messages (HTML + text, signed per-reader links): "
          f"{personalise(True):,.0f}/s on one core; target >= 20,000/s")  # fmt: skip
    print(f"  of which filling alone (links precomputed): {personalise(False):,.0f}/s")


if __name__ == "__main__":
    main()
