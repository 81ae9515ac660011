"""The SNS certificate and confirmation fetch reads at most 1 MB, a gzip bomb included."""

from __future__ import annotations

import zlib

import pytest

from pipeline.errors import BodyRefused
from pipeline.web.context import FETCH_MAX_BYTES, fetch_url
from tests.collect.conftest import Route, running_server


def test_a_packed_answer_is_refused_at_the_cap_without_being_inflated() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(100)) + packer.flush()
    with running_server() as server:
        server.routes["/bomb.pem"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
        server.routes["/cert.pem"] = Route(body=b"-----BEGIN CERTIFICATE-----", gzip=True)

        assert fetch_url(server.url("/cert.pem")) == b"-----BEGIN CERTIFICATE-----"
        with pytest.raises(BodyRefused, match=f"larger than .* \\({FETCH_MAX_BYTES} bytes\\)"):
            fetch_url(server.url("/bomb.pem"))
