"""Fetching: conditional GET, and every way a feed can fail without stopping the others."""

from __future__ import annotations

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import feed_row, states, states_of

GOOD = "Richtfest in der Bahnhofstraße"


def _with_good_feed(feeds: FeedProject, broken: dict[str, str], **settings: object) -> None:
    feeds.server.routes["/good.xml"] = Route.feed("rss20.xml")
    feeds.configure({"Gut": "/good.xml", **broken}, **settings)


def _errors(feeds: FeedProject, name: str) -> list[str]:
    report = feeds.collect()
    return [str(e) for s in report.sources if s.name == name for e in s.errors]


def test_second_collect_sends_validators_and_a_304_parses_nothing(feeds: FeedProject) -> None:
    feeds.server.routes["/etag.xml"] = Route.feed(
        "rss20.xml", etag='"v1"', headers={"Last-Modified": "Tue, 03 Nov 2026 13:30:00 GMT"}
    )
    feeds.configure({"Etag": "/etag.xml"})
    feeds.collect()

    second = feeds.collect()

    request = feeds.server.requests_to("/etag.xml")[1]
    assert request.headers["if-none-match"] == '"v1"'
    assert request.headers["if-modified-since"] == "Tue, 03 Nov 2026 13:30:00 GMT"
    assert second.sources[-1].note == "not modified since the last collect"
    assert not second.failed
    assert states(feeds.project) == {GOOD: "queued"}
    assert feed_row(feeds.project, "Etag")["items_found"] == 1


def test_user_agent_names_the_project_and_its_url(feeds: FeedProject) -> None:
    _with_good_feed(feeds, {})
    feeds.collect()
    agent = feeds.server.requests_to("/good.xml")[0].headers["user-agent"]
    assert agent.startswith("newsletter-pipeline/")
    assert "https://netzwerk-quartier.example.org" in agent


def test_404_and_500_fail_their_feed_and_the_others_are_stored(feeds: FeedProject) -> None:
    feeds.server.routes["/boom.xml"] = Route(status=500, body=b"oops")
    _with_good_feed(feeds, {"Fehlt": "/missing.xml", "Kaputt": "/boom.xml"})

    report = feeds.collect()

    assert report.failed
    failed = {s.name: str(s.errors[0]) for s in report.sources if s.errors}
    assert "HTTP 404" in failed["Fehlt"] and "HTTP 500" in failed["Kaputt"]
    assert states(feeds.project) == {GOOD: "queued"}
    health = feed_row(feeds.project, "Kaputt")
    assert health["consecutive_failures"] == 1 and "HTTP 500" in health["last_error"]
    feeds.collect()
    assert feed_row(feeds.project, "Kaputt")["consecutive_failures"] == 2
    assert feed_row(feeds.project, "Gut")["consecutive_failures"] == 0


def test_410_gone_disables_the_feed_and_says_so(feeds: FeedProject) -> None:
    feeds.server.routes["/gone.xml"] = Route(status=410)
    _with_good_feed(feeds, {"Weg": "/gone.xml"})

    first = feeds.collect()
    second = feeds.collect()

    assert "410 Gone" in str(next(s for s in first.sources if s.name == "Weg").errors[0])
    later = next(s for s in second.sources if s.name == "Weg")
    assert not later.errors and later.note is not None and "disabled" in later.note
    assert len(feeds.server.requests_to("/gone.xml")) == 1
    assert feed_row(feeds.project, "Weg")["gone_at"] is not None


def test_a_gone_feed_that_is_back_is_fetched_again_on_request(feeds: FeedProject) -> None:
    feeds.server.routes["/gone.xml"] = Route(status=410)
    _with_good_feed(feeds, {"Weg": "/gone.xml"})
    first = feeds.project.run("collect", check=False)
    assert "collect --retry-gone" in first.stderr

    feeds.server.routes["/gone.xml"] = Route.feed("atom10.xml")
    feeds.project.run("collect", check=False)
    assert len(feeds.server.requests_to("/gone.xml")) == 1, "a disabled feed was fetched"

    feeds.project.run("collect", "--retry-gone")
    assert len(feeds.server.requests_to("/gone.xml")) == 2
    assert feed_row(feeds.project, "Weg")["gone_at"] is None
    assert feed_row(feeds.project, "Weg")["items_found"] > 0


def test_a_feed_still_gone_is_disabled_again(feeds: FeedProject) -> None:
    feeds.server.routes["/gone.xml"] = Route(status=410)
    _with_good_feed(feeds, {"Weg": "/gone.xml"})
    feeds.collect()
    retried = feeds.project.run("collect", "--retry-gone", check=False)
    assert retried.returncode == 1 and "410 Gone" in retried.stderr
    assert len(feeds.server.requests_to("/gone.xml")) == 2
    assert feed_row(feeds.project, "Weg")["gone_at"] is not None


def test_retry_after_is_honoured(feeds: FeedProject) -> None:
    feeds.server.routes["/busy.xml"] = Route(status=503, headers={"Retry-After": "3600"})
    _with_good_feed(feeds, {"Besetzt": "/busy.xml"})

    assert "retrying after" in _errors(feeds, "Besetzt")[0]
    assert _errors(feeds, "Besetzt") == []
    assert len(feeds.server.requests_to("/busy.xml")) == 1


def test_a_retry_after_of_no_ascii_digits_is_no_wait_and_stops_nothing(
    feeds: FeedProject,
) -> None:
    # `²` (sent as the Latin-1 byte 0xB2) is a digit to str.isdigit and none to int().
    feeds.server.routes["/busy.xml"] = Route(status=503, headers={"Retry-After": "\u00b2"})
    _with_good_feed(feeds, {"Besetzt": "/busy.xml"})

    report = feeds.collect()

    busy = next(s for s in report.sources if s.name == "Besetzt")
    assert busy.errors and "503" in str(busy.errors[0])
    assert states_of(feeds.project, GOOD) == ["queued"]


def test_redirects_are_followed_and_a_loop_fails(feeds: FeedProject) -> None:
    feeds.server.routes["/moved.xml"] = Route(status=301, headers={"Location": "/good.xml"})
    feeds.server.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"})
    feeds.server.routes["/loop-b"] = Route(status=302, headers={"Location": "/loop-a"})
    _with_good_feed(feeds, {"Umgezogen": "/moved.xml", "Schleife": "/loop-a"})

    report = feeds.collect()

    assert "redirects" in str(next(s for s in report.sources if s.name == "Schleife").errors[0])
    moved = next(s for s in report.sources if s.name == "Umgezogen")
    assert not moved.errors and moved.counts.duplicates == 1  # the same entry as "Gut"
    assert states_of(feeds.project, GOOD) == ["queued", "dropped"]


def test_a_feed_moved_for_good_asks_for_its_new_address(feeds: FeedProject) -> None:
    feeds.server.routes["/moved.xml"] = Route(status=301, headers={"Location": "/new.xml"})
    feeds.server.routes["/for-now.xml"] = Route(status=302, headers={"Location": "/new.xml"})
    feeds.server.routes["/new.xml"] = Route.feed("atom10.xml")
    feeds.configure({"Umgezogen": "/moved.xml", "Vorübergehend": "/for-now.xml"})

    result = feeds.project.run("collect")

    new_address = feeds.server.url("/new.xml")
    assert f"Umgezogen ({feeds.server.url('/moved.xml')}): moved for good to {new_address}" in (
        result.stderr
    )
    assert "Vorübergehend" not in result.stderr, "a temporary redirect is no reason to warn"


def test_slow_feed_times_out(feeds: FeedProject) -> None:
    feeds.server.routes["/slow.xml"] = Route.feed("atom10.xml", delay_s=2)
    _with_good_feed(feeds, {"Langsam": "/slow.xml"}, timeout_s=0.5)

    assert _errors(feeds, "Langsam") == [
        f"Langsam ({feeds.server.url('/slow.xml')}): timed out after 0.5 s"
    ]
    assert states(feeds.project) == {GOOD: "queued"}


def test_body_over_the_byte_cap_is_refused(feeds: FeedProject) -> None:
    big = Route.feed("atom10.xml").body + b"<!-- " + b"x" * 20_000 + b" -->\n"
    feeds.server.routes["/big.xml"] = Route(body=big)
    feeds.server.routes["/big-gzip.xml"] = Route(body=big, gzip=True)  # small on the wire
    _with_good_feed(feeds, {"Gross": "/big.xml", "Gepackt": "/big-gzip.xml"}, max_bytes=10_000)

    report = feeds.collect()

    for name in ("Gross", "Gepackt"):
        (error,) = next(s for s in report.sources if s.name == name).errors
        assert "larger than collect.max_bytes" in str(error)
    assert states(feeds.project) == {GOOD: "queued"}


def test_html_page_and_unreadable_xml_fail_with_the_reason(feeds: FeedProject) -> None:
    feeds.server.routes["/page"] = Route.feed("not-a-feed.html", content_type="text/html")
    feeds.server.routes["/broken.xml"] = Route.feed("broken.xml")
    _with_good_feed(feeds, {"Seite": "/page", "Unlesbar": "/broken.xml"})

    report = feeds.collect()

    errors = {s.name: str(s.errors[0]) for s in report.sources if s.errors}
    assert "not an RSS or Atom feed" in errors["Seite"]
    assert "no readable entries" in errors["Unlesbar"] and "not well-formed" in errors["Unlesbar"]
    assert states(feeds.project) == {GOOD: "queued"}


def test_cli_prints_a_summary_per_source_and_exits_1_when_one_failed(feeds: FeedProject) -> None:
    feeds.server.routes["/boom.xml"] = Route(status=500)
    _with_good_feed(feeds, {"Kaputt": "/boom.xml"})

    result = feeds.project.run("collect", check=False)

    assert result.returncode == 1
    assert "Gut" in result.stdout and "Kaputt" in result.stdout
    assert "HTTP 500" in result.stderr
    assert states(feeds.project) == {GOOD: "queued"}
    feeds.server.routes["/boom.xml"] = Route.feed("atom10.xml")
    assert feeds.project.run("collect", check=False).returncode == 0


def test_the_summary_fits_80_columns_and_names_a_shortened_source_whole(
    feeds: FeedProject,
) -> None:
    """An operator's terminal: long partner names and a long error do not wrap the table."""
    long_name = "Stadtteilbüro Nordstadt – Neuigkeiten aus dem Quartier und der Nachbarschaft"
    feeds.server.routes["/boom.xml"] = Route(status=500)
    _with_good_feed(feeds, {long_name: "/boom.xml"})

    first = feeds.project.run("collect", check=False)
    second = feeds.project.run("collect", check=False)

    for result in (first, second):
        lines = result.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines), result.stdout
        table = lines[: lines.index("")]
        (row,) = [line for line in table if line.startswith("Stadtteilbüro Nordstadt")]
        assert row.endswith("  failed")
        below = " ".join(line.strip() for line in lines[lines.index("") :])
        assert f"{row.split('  ')[0]}: {long_name}" in below  # the shortened name, whole
        assert f"{long_name} (" in result.stderr and "HTTP 500" in result.stderr
