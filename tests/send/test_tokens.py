"""The fast signer a send uses makes exactly the tokens the web pages accept."""

from __future__ import annotations

import pytest

from pipeline.tokens import (
    ClickTokenMaker,
    InvalidToken,
    ReaderLink,
    TokenMaker,
    make_token,
    read_click_token,
    read_link,
    read_token,
)


@pytest.mark.parametrize("purpose", ["unsubscribe", "preferences"])
def test_send_tokens_are_the_tokens_of_make_token(purpose: str) -> None:
    maker = TokenMaker("a-secret", purpose)
    for subscriber_id in [1, 7, 42, 999, 123_456, 10**9, 2**53]:
        token = maker(subscriber_id)
        assert token == make_token("a-secret", purpose, subscriber_id)
        assert read_token("a-secret", purpose, token) == subscriber_id


def test_a_send_token_opens_only_its_own_page() -> None:
    token = TokenMaker("a-secret", "unsubscribe")(42)
    with pytest.raises(InvalidToken):
        read_token("a-secret", "preferences", token)
    with pytest.raises(InvalidToken):
        read_token("another-secret", "unsubscribe", token)


def test_every_message_of_a_send_gets_a_click_token_of_its_own() -> None:
    """Past one draw of randomness too: the nonce tells one mail's clicks apart."""
    maker = ClickTokenMaker("a-secret-of-enough-length-0123456789")
    tokens = [maker(7, 2, 29_000_000, None if n % 2 else n) for n in range(10_000)]
    read = [read_click_token("a-secret-of-enough-length-0123456789", t) for t in tokens]
    assert len({click.nonce for click in read}) == len(tokens)
    assert {(c.issue_id, c.variant_no, c.minute) for c in read} == {(7, 2, 29_000_000)}
    assert [c.subscriber_id for c in read[:4]] == [0, None, 2, None]
    with pytest.raises(InvalidToken):
        read_click_token("another-secret-of-enough-length-0123", tokens[0])


def test_reader_links_name_their_issue_and_open_the_same_pages() -> None:
    token = TokenMaker("a-secret", "unsubscribe", issue=12)(42)
    assert read_link("a-secret", "unsubscribe", token) == ReaderLink(42, 12)
    assert read_token("a-secret", "unsubscribe", token) == 42
    assert read_link("a-secret", "unsubscribe", make_token("a-secret", "unsubscribe", 42)) == (
        ReaderLink(42, None)
    )
