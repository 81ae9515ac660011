"""The machine-click rules alone: hits in, verdicts out, times given, no server."""

from __future__ import annotations

import pytest

from pipeline.report.machine import (
    AGENT,
    CROWD,
    EARLY,
    HEAD,
    SWEEP,
    WINDOW_S,
    Hit,
    MachineRules,
    scanner_agent,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SENT_MINUTE = 29_000_000
LATER = (SENT_MINUTE + 30) * 60.0
"""Half an hour after the batch: no longer early."""


def hit(
    at: float = LATER,
    *,
    link: int | None = 1,
    nonce: bytes = b"mail-1",
    head: bool = False,
    links: int = 10,
    ip: str = "192.0.2.1",
    agent: str = BROWSER,
    minute: int = SENT_MINUTE,
) -> Hit:
    return Hit(at, head, minute, nonce, link, links, ip, agent)


def verdicts(rules: MachineRules[str], *hits: Hit) -> dict[str, str | None]:
    for number, one in enumerate(hits):
        rules.add(one, f"hit{number}")
    return dict(rules.release_all())


def rules(scanner_window_s: float = 10) -> MachineRules[str]:
    return MachineRules(scanner_window_s)


def test_a_readers_click_is_nobodys_machine() -> None:
    assert verdicts(rules(), hit()) == {"hit0": None}


def test_a_head_request_is_a_machines() -> None:
    assert verdicts(rules(), hit(head=True)) == {"hit0": HEAD}


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "   ",
        "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
        "Mimecast URL Protect",
        "Microsoft Office Existence Discovery",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1",
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Go-http-client/1.1",
    ],
)
def test_a_scanners_or_fetchers_user_agent_is_a_machines(agent: str) -> None:
    assert scanner_agent(agent)
    assert verdicts(rules(), hit(agent=agent)) == {"hit0": AGENT}


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    ],
)
def test_readers_browsers_are_not_scanners(agent: str) -> None:
    assert not scanner_agent(agent)


def test_a_click_within_the_window_after_the_batchs_minute_is_early() -> None:
    minute_ends = (SENT_MINUTE + 1) * 60.0
    found = verdicts(
        rules(10),
        hit(SENT_MINUTE * 60.0 + 1, nonce=b"a"),
        hit(minute_ends + 9.9, nonce=b"b"),
        hit(minute_ends + 10, nonce=b"c"),
    )
    assert found == {"hit0": EARLY, "hit1": EARLY, "hit2": None}


def test_a_window_of_zero_turns_early_off() -> None:
    assert verdicts(rules(0), hit(SENT_MINUTE * 60.0 + 1)) == {"hit0": None}


def test_every_click_of_a_sweep_counts_as_the_sweeps_from_the_first_on() -> None:
    """Three distinct links of one mail within the window: the first two were held and
    are let go as the sweep's too; a click of the same mail later is a reader's."""
    found = verdicts(
        rules(),
        hit(LATER, link=1),
        hit(LATER + 0.5, link=2),
        hit(LATER + 1.0, link=3),
        hit(LATER + 1.2, link=1),
        hit(LATER + 1.0 + WINDOW_S + 0.1, link=2),
    )
    assert found == {"hit0": SWEEP, "hit1": SWEEP, "hit2": SWEEP, "hit3": SWEEP, "hit4": None}


def test_every_link_of_a_mail_with_two_is_a_sweep_but_one_link_twice_is_not() -> None:
    assert verdicts(rules(), hit(link=1, links=2), hit(LATER + 1, link=2, links=2)) == {
        "hit0": SWEEP,
        "hit1": SWEEP,
    }
    assert verdicts(rules(), hit(link=1, links=1), hit(LATER + 1, link=1, links=1)) == {
        "hit0": None,
        "hit1": None,
    }


def test_a_reader_opening_links_one_by_one_is_no_sweep() -> None:
    spaced = [hit(LATER + n * (WINDOW_S + 1), link=n + 1) for n in range(5)]
    assert set(verdicts(rules(), *spaced).values()) == {None}


def test_different_mails_clicked_together_are_no_sweep() -> None:
    found = verdicts(
        rules(),
        *(hit(LATER, link=n, nonce=f"mail-{n}".encode(), ip=f"192.0.2.{n}") for n in range(4)),
    )
    assert set(found.values()) == {None}


def test_many_mails_from_one_address_and_agent_within_seconds_are_a_crowd() -> None:
    crowd = [hit(LATER + n * 0.1, nonce=f"mail-{n}".encode()) for n in range(5)]
    found = verdicts(rules(), *crowd, hit(LATER + 0.6, nonce=b"other", ip="198.51.100.7"))
    assert found == {f"hit{n}": CROWD for n in range(5)} | {"hit5": None}


def test_one_address_with_different_agents_is_no_crowd() -> None:
    """One office behind one address: its readers' browsers differ."""
    found = verdicts(
        rules(),
        *(hit(nonce=f"mail-{n}".encode(), agent=f"{BROWSER} build/{n}") for n in range(6)),
    )
    assert set(found.values()) == {None}


def test_a_verdict_of_its_own_is_kept_when_a_sweep_follows() -> None:
    found = verdicts(
        rules(), hit(head=True, link=1), hit(LATER + 0.1, link=2), hit(LATER + 0.2, link=3)
    )
    assert found == {"hit0": HEAD, "hit1": SWEEP, "hit2": SWEEP}


def test_clicks_are_held_for_the_window_and_let_go_in_order() -> None:
    held = rules()
    held.add(hit(LATER, link=1), "first")
    held.add(hit(LATER + 1, link=2, nonce=b"mail-2"), "second")
    assert held.release(LATER + WINDOW_S - 0.01) == []
    assert held.release(LATER + WINDOW_S) == [("first", None)]
    assert len(held) == 1
    assert held.release(LATER + 1 + WINDOW_S) == [("second", None)]
    assert len(held) == 0


def test_a_mail_let_go_starts_afresh() -> None:
    """Once a mail's clicks are let go, its earlier links no longer count toward a sweep."""
    held = rules()
    held.add(hit(LATER, link=1), "a")
    held.add(hit(LATER + 0.1, link=2), "b")
    assert [v for _, v in held.release(LATER + 0.1 + WINDOW_S)] == [None, None]
    held.add(hit(LATER + 10, link=3), "c")
    assert held.release_all() == [("c", None)]
