"""The fast path (pipeline/collect/fast_feed.py) reads every feed it takes as feedparser does.

Over feedparser's own test corpus (its sdist's tests/, fetched by
scripts/fetch_feedparser_corpus.py), our test feeds and the bench's: wherever
`read_entries` accepts a file, the items `parse_feed` makes of it (titles, links, dates,
sanitised summaries and bodies, images, identities) equal those of feedparser's reading.
`make test` runs a fixed sample of the corpus; `make test-full` (CORPUS_FULL=1) runs it all.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.collect import feed_body
from pipeline.collect.fast_feed import read_entries
from pipeline.collect.normalize import FeedSource, ParsedFeed, parse_feed, parse_with_feedparser
from scripts.fetch_feedparser_corpus import corpus_dir
from tests.collect.conftest import FEEDS

SAMPLE = 150
# feedparser's test server sends the headers a file names in its comment ("Header: ...").
HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
# Each file is read as served with each of these types (a file's own Header lines win).
CONTENT_TYPES = (
    "application/rss+xml; charset=utf-8",
    "application/xml",
    "text/xml",
    "text/xml; charset=UTF-8",
    "Application/XML",  # not an XML type to feedparser: a warning, so never the fast path
)
SOURCE = FeedSource(url="http://127.0.0.1:8097/feed.xml", name="Corpus", kind="news")
AT = datetime(2026, 12, 1, tzinfo=UTC)


def corpus_files() -> list[Path]:
    files = sorted(corpus_dir().rglob("*.xml"))
    if os.environ.get("CORPUS_FULL"):
        return files
    step = len(files) / SAMPLE
    return [files[int(index * step)] for index in range(SAMPLE)]


def both_ways(
    body: bytes, headers: dict[str, str], url: str
) -> tuple[bool, ParsedFeed, ParsedFeed]:
    """Whether the fast path accepts the body, the production reading, feedparser's."""
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered.setdefault("content-location", url)
    accepted = read_entries(body, lowered) is not None
    return (
        accepted,
        parse_feed(body, headers, url, SOURCE, AT),
        parse_with_feedparser(body, lowered, url, SOURCE, AT),
    )


def assert_same(name: str, fast: ParsedFeed, slow: ParsedFeed) -> None:
    for number, (mine, theirs) in enumerate(zip(fast.items, slow.items, strict=False)):
        assert mine == theirs, f"{name}: entry {number} differs"
    assert (len(fast.items), fast.warning, fast.error) == (
        len(slow.items),
        slow.warning,
        slow.error,
    ), name


def check_files(files: list[Path], root: Path) -> tuple[int, int]:
    """(readings accepted by the fast path, readings in all), each asserted equal."""
    accepted = readings = 0
    for path in files:
        body = path.read_bytes()
        own = {
            name.decode().strip(): value.decode().strip() for name, value in HEADER.findall(body)
        }
        url = f"http://127.0.0.1:8097/{path.relative_to(root).as_posix()}"
        for content_type in CONTENT_TYPES:
            headers = {"Content-Type": content_type} | own
            fast_path, fast, slow = both_ways(body, headers, url)
            readings += 1
            if fast_path:
                accepted += 1
                assert_same(f"{path.relative_to(root)} as {headers}", fast, slow)
    return accepted, readings


def test_feedparser_corpus_reads_alike() -> None:
    root = corpus_dir()
    files = corpus_files()
    accepted, readings = check_files(files, root)
    print(f"fast path accepted {accepted} of {readings} readings of {len(files)} corpus files")
    # The comparison means something only if the fast path takes a fair share.
    assert accepted >= readings // 10


def test_own_feeds_read_alike_and_the_common_ones_fast() -> None:
    files = sorted(FEEDS.glob("*.xml")) + sorted(FEEDS.glob("*.rdf"))
    accepted_names = set()
    for path in files:
        fast_path, fast, slow = both_ways(
            path.read_bytes(),
            {"Content-Type": "application/rss+xml; charset=utf-8"},
            f"https://partner.example.org/{path.name}",
        )
        assert_same(path.name, fast, slow)
        if fast_path:
            accepted_names.add(path.name)
    assert {"rss20.xml", "relative-links.xml", "duplicates-a.xml"} <= accepted_names
    # atom10.xml has XHTML content: feedparser's to read.
    declined = {"atom10.xml", "broken.xml", "malformed.xml", "rss091.xml", "rss10.rdf"}
    assert not declined & accepted_names


ATOM = (
    "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
    "xmlns:media='http://search.yahoo.com/mrss/'><title>Quartier</title>"
    "<entry><id>https://atom.example.org/1</id><title type='html'>Stadt &amp;amp; Land</title>"
    "<updated>2026-11-04T12:00:00+01:00</updated><category term='Netzwerk'/>"
    "<category term='Netzwerk'/><link rel='alternate' href='/eins'/>"
    "<summary type='html'>&lt;p&gt;Kurz &lt;img src=\"/b.jpg\"&gt;&lt;/p&gt;</summary>"
    "<content type='html'>&lt;p&gt;Lang&lt;/p&gt;</content></entry>"
    "<entry><id>tag:atom.example.org,2026:2</id><title>Ohne Link</title>"
    "<published>Wed, 04 Nov 2026 10:00:00 GMT</published>"
    "<link rel='enclosure' type='image/png' href='/bild.png'/>"
    "<media:thumbnail url='https://atom.example.org/t.jpg'/>"
    "<content>Nur Text &lt;b&gt;</content></entry></feed>"
)


def test_plain_atom_is_read_alike_on_the_fast_path() -> None:
    fast_path, fast, slow = both_ways(
        ATOM.encode(), {"Content-Type": "application/atom+xml"}, "https://atom.example.org/feed"
    )
    assert fast_path
    assert [item.title for item in fast.items] == ["Stadt & Land", "Ohne Link"]
    assert_same("Atom", fast, slow)


@pytest.mark.parametrize("number", [0, 7, 499])
def test_bench_feeds_read_alike_on_the_fast_path(number: int) -> None:
    fast_path, fast, slow = both_ways(
        feed_body(number, 20),
        {"Content-Type": "application/rss+xml; charset=utf-8"},
        f"http://127.0.0.1:8097/feed/{number}.xml",
    )
    assert fast_path
    assert len(fast.items) == 20
    assert_same(f"bench feed {number}", fast, slow)


RSS = (
    "<rss version='2.0'><channel><title>T</title><item><title>Eintrag</title>"
    "<link>/a</link><description>&lt;p&gt;Text&lt;/p&gt;</description></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("case", "body", "content_type"),
    [
        ("a DOCTYPE", "<!DOCTYPE rss [<!ENTITY e 'x'>]>" + RSS, "application/xml"),
        ("Latin-1", "<?xml version='1.0' encoding='iso-8859-1'?>" + RSS, "application/xml"),
        ("text/plain", RSS, "text/plain; charset=utf-8"),
        ("a media type in capitals", RSS, "Application/XML"),
        ("two charsets, the last not UTF-8", RSS, "application/xml; charset=utf-8; charset=latin1"),
        ("no Content-Type", RSS, ""),
        ("text/xml, non-ASCII, no charset", RSS.replace("Eintrag", "Einträg"), "text/xml"),
        ("xml:base", RSS.replace("<item>", "<item xml:base='/blog/'>"), "application/xml"),
        ("not well-formed", RSS.replace("</item>", ""), "application/xml"),
        ("RSS 0.91", RSS.replace("2.0", "0.91"), "application/xml"),
        (
            "an unknown element",
            RSS.replace("<item>", "<item><x:y xmlns:x='urn:x'/>"),
            "application/xml",
        ),
        (
            "XHTML content",
            "<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>T</title>"
            "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>x</div></content>"
            "</entry></feed>",
            "application/atom+xml",
        ),
    ],
)
def test_declines_what_it_cannot_be_sure_of(case: str, body: str, content_type: str) -> None:
    headers = {"content-location": "https://partner.example.org/feed"}
    if content_type:
        headers["content-type"] = content_type
    encoded = body.encode("iso-8859-1" if case == "Latin-1" else "utf-8")
    assert read_entries(encoded, headers) is None, case
    # The plain feed itself is taken.
    assert read_entries(RSS.encode(), headers | {"content-type": "application/xml"}) is not None


WORDPRESS_ITEM = (
    "<item><title>{title}</title><link>https://wp.example.org/?p=1&amp;lang=de</link>"
    "<comments>https://wp.example.org/?p=1#respond</comments>"
    "<dc:creator><![CDATA[Redaktion]]></dc:creator>"
    "<pubDate>Tue, 01 Dec 2026 09:30:00 +0000</pubDate>"
    "<category><![CDATA[Quartier]]></category><category><![CDATA[Quartier]]></category>"
    "<category domain='tag'>Netzwerk</category>"
    "<guid isPermaLink='false'>https://wp.example.org/?p=1</guid>"
    "<description><![CDATA[{body} <a href='/mehr'>mehr</a>]]></description>"
    "<content:encoded><![CDATA[<p>{body}</p><img src='/wp-content/b.jpg' alt='Bild'>"
    "<img src='https://pixel.wp.com/g.gif' width='1' height='1'>]]></content:encoded>"
    "<wfw:commentRss>https://wp.example.org/?p=1/feed</wfw:commentRss>"
    "<slash:comments>0</slash:comments>"
    "<post-id xmlns='com-wordpress:feed-additions:1'>1</post-id>"
    "<media:content url='https://gravatar.example/a.jpg' medium='image'>"
    "<media:title type='html'>redaktion</media:title></media:content></item>"
)
WORDPRESS = (
    "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0' "
    "xmlns:content='http://purl.org/rss/1.0/modules/content/' "
    "xmlns:wfw='http://wellformedweb.org/CommentAPI/' xmlns:dc='http://purl.org/dc/elements/1.1/' "
    "xmlns:atom='http://www.w3.org/2005/Atom' "
    "xmlns:sy='http://purl.org/rss/1.0/modules/syndication/' "
    "xmlns:slash='http://purl.org/rss/1.0/modules/slash/' "
    "xmlns:media='http://search.yahoo.com/mrss/'><channel><title>WP</title>"
    "<atom:link href='https://wp.example.org/feed/' rel='self' type='application/rss+xml'/>"
    "<link>https://wp.example.org</link><description>Neues</description>"
    "<lastBuildDate>Tue, 01 Dec 2026 09:30:00 +0000</lastBuildDate><language>de-DE</language>"
    "<sy:updatePeriod>hourly</sy:updatePeriod><generator>https://wordpress.org/?v=6.7</generator>"
    "<image><url>https://wp.example.org/logo.png</url><title>WP</title>"
    "<link>https://wp.example.org</link></image>{items}</channel></rss>"
)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Stadt &amp; Land", "Straßenfest im Quartier"),
        ("Fish &amp;amp; Chips", "HTML-escaped entity in a title"),
        ("&lt;b&gt;Fett&lt;/b&gt; gedruckt", "Markup in a title"),
        ("AT&amp;T &amp;nbsp; oder &amp;foo;", "An unknown entity name in a title"),
        ("Mojibake: StraÃ\u009fe", "cp1252 \u0093quotes\u0094 and a C1 \u0085 ellipsis"),
        ("", "No title: feedparser's to read"),
    ],
)
def test_wordpress_shapes_read_alike_on_the_fast_path(title: str, body: str) -> None:
    feed = WORDPRESS.format(items=WORDPRESS_ITEM.format(title=title, body=body) * 2)
    fast_path, fast, slow = both_ways(
        feed.encode(),
        {"Content-Type": "application/rss+xml; charset=UTF-8"},
        "https://wp.example.org/feed/",
    )
    # Without a title of its own, feedparser titles the entry with the picture's media:title.
    assert fast_path == bool(title)
    assert fast.items and fast.items[0].categories == ("Quartier", "Netzwerk")
    assert_same(title, fast, slow)


@pytest.mark.parametrize(
    ("feed_start", "link"),
    [
        (
            "<feed xmlns='http://www.w3.org/2005/Atom' xml:base='https://cdn.example.org/blog/'>",
            "https://cdn.example.org/blog/eins.html",
        ),
        ("<feed xmlns='http://www.w3.org/2005/Atom'>", "https://atom.example.org/eins.html"),
    ],
)
def test_an_absolute_xml_base_reads_alike(feed_start: str, link: str) -> None:
    feed = (
        f"{feed_start}<title>B</title><entry><id>eintrag-1</id><title>Eins</title>"
        "<link href='eins.html'/><updated>2026-12-01T10:00:00Z</updated>"
        "<summary type='html' xml:base='https://static.example.org/a/'>"
        "&lt;img src='bild.jpg'&gt;&lt;a href='../b'&gt;b&lt;/a&gt;</summary></entry></feed>"
    )
    fast_path, fast, slow = both_ways(
        feed.encode(), {"Content-Type": "application/atom+xml"}, "https://atom.example.org/feed"
    )
    assert fast_path
    assert (fast.items[0].link, fast.items[0].image) == (
        link,
        "https://static.example.org/a/bild.jpg",
    )
    assert_same(feed_start, fast, slow)


def test_media_title_before_the_title_is_left_to_feedparser() -> None:
    """feedparser would take the picture's title as the entry's: not a shape read here."""
    item = WORDPRESS_ITEM.format(title="Titel", body="Text")
    picture = item[item.index("<media:content") : item.index("</item>")]
    feed = WORDPRESS.format(items="<item>" + picture + item.removeprefix("<item>"))
    headers = {"content-type": "application/rss+xml", "content-location": "https://wp.example/"}
    assert read_entries(feed.encode(), headers) is None
    assert read_entries(WORDPRESS.format(items=item).encode(), headers) is not None


def test_a_relative_xml_base_is_left_to_feedparser() -> None:
    feed = (
        "<feed xmlns='http://www.w3.org/2005/Atom' xml:base='/blog/'><entry><id>x</id>"
        "<title>Eins</title></entry></feed>"
    )
    headers = {"content-type": "application/atom+xml", "content-location": "https://a.example/"}
    assert read_entries(feed.encode(), headers) is None
