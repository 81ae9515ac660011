"""Variants: one per language and topic selection the audience needs, each rendered once."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import deliveries, issue_variants
from pipeline.issue.build import render_variants
from pipeline.issue.variants import Variant, content_for, needed_variants, variant_for
from tests.conftest import Project
from tests.render.conftest import make_issue, make_item

ISSUE = make_issue(
    make_item(1, "report", topics=("netzwerk",)),
    make_item(2, "partner", topics=("partner",)),
    make_item(3, "event", topics=("veranstaltungen", "netzwerk")),
    make_item(4, "news"),
)
IN_ISSUE = frozenset({"netzwerk", "partner", "veranstaltungen"})


def test_reader_without_topics_gets_every_item() -> None:
    variant = variant_for("de", [], IN_ISSUE)
    assert variant == Variant("de", None)
    assert [i.id for i in content_for(ISSUE, variant).items] == [1, 2, 3, 4]


def test_reader_with_topics_gets_matching_items_and_items_without_topics() -> None:
    variant = variant_for("de", ["partner"], IN_ISSUE)
    assert variant.key == "de:partner"
    assert [i.id for i in content_for(ISSUE, variant).items] == [2, 4]


def test_topics_outside_the_issue_do_not_make_a_new_variant() -> None:
    assert variant_for("en", ["partner", "foerderung"], IN_ISSUE).key == "en:partner"
    assert variant_for("en", ["foerderung"], IN_ISSUE).key == "en:"
    assert variant_for("de", sorted(IN_ISSUE), IN_ISSUE).key == "de"


def test_only_the_variants_the_audience_needs_are_rendered_once_each(config: Config) -> None:
    readers = [("de", ["partner"]), ("de", ["partner", "foerderung"]), ("en", []), ("de", [])]
    keys = [v.key for v in needed_variants(readers, ISSUE, always=("de", "en"))]
    assert keys == ["de", "de:partner", "en"]
    rendered = render_variants(ISSUE, config, readers)
    assert [r.variant_key for r in rendered] == keys
    assert "Titel 1" not in rendered[1].html and "Titel 2" in rendered[1].html


def _received(project: Project) -> dict[str, EmailMessage]:
    messages = {}
    for path in project.outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages[str(message["To"].addresses[0].addr_spec)] = message
    return messages


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_each_reader_receives_the_variant_of_their_language_and_topics(
    ready_project: Project,
) -> None:
    ready_project.run("send")
    received = _received(ready_project)
    partner_only = _html(received["mehmet.yilmaz@example.org"])
    assert "Quartierswerk Herne" in partner_only
    assert "Jahresauftakt 2022" not in partner_only and "Quartierswerkstatt" not in partner_only
    everything = _html(received["quartiersbuero@example.org"])
    for title in ("Quartierswerk Herne", "Jahresauftakt 2022", "Quartierswerkstatt"):
        assert title in everything
    english_network = _html(received["j.kowalski@example.org"])
    assert '<html lang="en"' in english_network and "Jahresauftakt 2022" in english_network
    assert "Quartierswerk Herne" not in english_network
    with ready_project.engine().connect() as connection:
        stored = set(connection.execute(sa.select(issue_variants.c.variant)).scalars())
    assert stored == {"de", "de:netzwerk+veranstaltungen", "de:partner", "en", "en:netzwerk"}


def test_reader_whose_topics_have_no_item_this_time_gets_no_mail(project: Project) -> None:
    for partner in project.content_dir.glob("*partner*.md"):
        partner.unlink()
    project.run("db", "upgrade")
    project.run("subscribers", "import", "subscribers.csv", "--apply", "--consent-given-by", "t")
    project.run("collect")
    result = project.run("send")
    assert "3 recipients" in result.stdout
    assert "mehmet.yilmaz@example.org" not in _received(project)
    assert len(_received(project)) == 3
    with project.engine().connect() as connection:
        states = connection.execute(sa.select(deliveries.c.state)).scalars().all()
        variants = set(connection.execute(sa.select(issue_variants.c.variant)).scalars())
    assert sorted(states) == ["cancelled", "sent", "sent", "sent"]
    assert not any(key.endswith(":") for key in variants)
