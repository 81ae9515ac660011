"""Bounce fixtures as the mailbox holds them: placeholders filled, CRLF line ends.

tests/fixtures/bounces/<name>.eml carry `{{TOKEN}}`, `{{DELIVERY_ID}}`, `{{BOUNCE_LOCAL}}`
and `{{BOUNCE_DOMAIN}}` where a bounce of one of our mails has them (NOTICE there says
where each file comes from). The bytes are substituted as bytes, so an ISO-8859-1 fixture
stays ISO-8859-1.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.tokens import SecretKeys, make_delivery_token

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"
BOUNCE_LOCAL = "bounces"
BOUNCE_DOMAIN = "example.org"
BOUNCE_ADDRESS = f"{BOUNCE_LOCAL}@{BOUNCE_DOMAIN}"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.eml"))


def load_bounce(
    name: str,
    token: str = "",
    *,
    delivery_id: int = 0,
    bounce_local: str = BOUNCE_LOCAL,
    bounce_domain: str = BOUNCE_DOMAIN,
    crlf: bool = True,
) -> bytes:
    """The fixture `name` with the placeholders filled in, as raw message bytes."""
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    for placeholder, value in (
        (b"{{TOKEN}}", token),
        (b"{{DELIVERY_ID}}", str(delivery_id)),
        (b"{{BOUNCE_LOCAL}}", bounce_local),
        (b"{{BOUNCE_DOMAIN}}", bounce_domain),
    ):
        raw = raw.replace(placeholder, value.encode("ascii"))
    if crlf:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return raw


def bounce_for(
    name: str,
    secret_key: SecretKeys,
    delivery_id: int,
    *,
    bounce_local: str = BOUNCE_LOCAL,
    bounce_domain: str = BOUNCE_DOMAIN,
) -> bytes:
    """The fixture as a bounce of delivery `delivery_id`, its token signed with `secret_key`."""
    return load_bounce(
        name,
        make_delivery_token(secret_key, delivery_id),
        delivery_id=delivery_id,
        bounce_local=bounce_local,
        bounce_domain=bounce_domain,
    )
