"""The fast signer a send uses makes exactly the tokens the web pages accept."""

from __future__ import annotations

import pytest

from pipeline.tokens import InvalidToken, TokenMaker, make_token, read_token


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
