"""Our SigV4 signature of an SES call is the one botocore, AWS's own client, makes at the
same moment (botocore's clock is set to it: the one thing not real here)."""

from __future__ import annotations

from datetime import UTC, datetime

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from pipeline.send.providers.sigv4 import JsonPostSigner

URL = "https://email.eu-central-1.amazonaws.com/v2/email/outbound-emails"
HOST = "email.eu-central-1.amazonaws.com"
PATH = "/v2/email/outbound-emails"
PAYLOAD = '{"Content":{"Simple":{"Subject":{"Data":"Grüße"}}}}'.encode()


def botocore_headers(
    monkeypatch: pytest.MonkeyPatch, credentials: Credentials, at: datetime
) -> dict[str, str]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at.replace(tzinfo=None))
    request = AWSRequest(
        method="POST",
        url=URL,
        data=PAYLOAD,
        headers={"Content-Type": "application/json", "Host": HOST},
    )
    SigV4Auth(credentials, "ses", "eu-central-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, "temporary-session-token"])
def test_the_signature_is_botocores(monkeypatch: pytest.MonkeyPatch, token: str | None) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    at = datetime(2026, 12, 7, 11, 59, 58, tzinfo=UTC)
    signer = JsonPostSigner(credentials, "ses", "eu-central-1", HOST, PATH)
    assert signer.headers(PAYLOAD, at.timestamp()) == botocore_headers(monkeypatch, credentials, at)


def test_the_signing_key_follows_the_date_and_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = Credentials("AKIDEXAMPLE", "first-secret")
    signer = JsonPostSigner(credentials, "ses", "eu-central-1", HOST, PATH)
    for at, secret in [
        (datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC), "first-secret"),
        (datetime(2026, 12, 8, 0, 0, 1, tzinfo=UTC), "first-secret"),
        (datetime(2026, 12, 8, 0, 0, 2, tzinfo=UTC), "rotated-secret"),
    ]:
        credentials.secret_key = secret
        ours = signer.headers(PAYLOAD, at.timestamp())
        assert ours == botocore_headers(monkeypatch, credentials, at)
