"""AWS Signature Version 4 for one kind of request: a JSON POST to one path of one service.

botocore's SigV4Auth builds an AWSRequest and an email-package header object per call,
canonicalises every header and derives the signing key afresh: a third of the CPU of a
one-message SES call (bench/send_command.py's profile). Here the canonical request's fixed
parts are made once and the signing key once a day (it depends on the date only):
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
The credentials are still botocore's (the standard chain), read once per call so that an
instance role's refreshed keys are used as they change.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Protocol

ALGORITHM = "AWS4-HMAC-SHA256"
CONTENT_TYPE = "application/json"


class FrozenCredentials(Protocol):
    access_key: str
    secret_key: str
    token: str | None


class Credentials(Protocol):
    def get_frozen_credentials(self) -> FrozenCredentials: ...


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class JsonPostSigner:
    def __init__(self, credentials: Credentials, service: str, region: str, host: str, path: str):
        self.credentials = credentials
        self.service = service
        self.region = region
        self.host = host
        self.path = path
        self._key: tuple[str, str, bytes] | None = None  # (date, secret, signing key)

    def headers(self, payload: bytes, now: float | None = None) -> dict[str, str]:
        """The headers that sign this body: Content-Type, Host, X-Amz-Date, Authorization
        (and X-Amz-Security-Token with temporary credentials)."""
        frozen = self.credentials.get_frozen_credentials()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        date = stamp[:8]
        signed = {"content-type": CONTENT_TYPE, "host": self.host, "x-amz-date": stamp}
        if frozen.token:
            signed["x-amz-security-token"] = frozen.token
        names = ";".join(signed)  # already in sorted order
        canonical = "\n".join(
            [
                "POST",
                self.path,
                "",
                *(f"{name}:{value}" for name, value in signed.items()),
                "",
                names,
                hashlib.sha256(payload).hexdigest(),
            ]
        )
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        to_sign = "\n".join(
            [ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(
            self._signing_key(date, frozen.secret_key), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-Amz-Date": stamp,
            "Authorization": f"{ALGORITHM} Credential={frozen.access_key}/{scope}, "
            f"SignedHeaders={names}, Signature={signature}",
        }
        if frozen.token:
            headers["X-Amz-Security-Token"] = frozen.token
        return headers

    def _signing_key(self, date: str, secret: str) -> bytes:
        if self._key is None or self._key[:2] != (date, secret):
            key = _hmac(("AWS4" + secret).encode(), date)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            self._key = (date, secret, key)
        return self._key[2]
