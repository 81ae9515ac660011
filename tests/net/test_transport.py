"""The public-only transport connects to the address it checked, yet speaks to the host by
its name: Host header, TLS SNI and the certificate check all use the name.

A TLS server on 127.0.0.1 holds a certificate for `localhost` from a test CA (trusted
through SSL_CERT_FILE); `NEWSLETTER_TEST_PUBLIC_NETS` makes loopback count as public here.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline.errors import AddressRefused
from pipeline.net import PublicOnlyTransport


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(folder: Path, host: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `host`: (CA file, certificate file, key file)."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("test CA"))
        .issuer_name(_name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class TLSServer:
    def __init__(self, certificate: Path, key: Path) -> None:
        self.server_names: list[str | None] = []
        self.hosts: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hosts.append(self.headers.get("Host"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return None

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        context.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]


StartTLS = Callable[[str], TLSServer]


@pytest.fixture
def tls_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartTLS]:
    """Starts a TLS server on 127.0.0.1 with a certificate for the name given."""
    servers: list[TLSServer] = []

    def start(host: str) -> TLSServer:
        (tmp_path / host).mkdir()
        ca, certificate, key = _issue(tmp_path / host, host)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        server = TLSServer(certificate, key)
        threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    monkeypatch.setenv("NEWSLETTER_TEST_PUBLIC_NETS", "127.0.0.0/8,::1/128")
    yield start
    for server in servers:
        server.httpd.shutdown()
        server.httpd.server_close()


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=PublicOnlyTransport(httpx.Limits())) as client:
        return await client.get(url)


def test_tls_uses_the_host_name_for_sni_host_and_certificate(tls_for: StartTLS) -> None:
    server = tls_for("localhost")

    response = asyncio.run(_get(f"https://localhost:{server.port}/"))

    assert response.status_code == 200
    assert server.server_names == ["localhost"]
    assert server.hosts == [f"localhost:{server.port}"]


def test_a_certificate_for_another_name_is_refused(tls_for: StartTLS) -> None:
    server = tls_for("elsewhere.example")

    with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
        asyncio.run(_get(f"https://localhost:{server.port}/"))
    assert server.hosts == []


def test_without_the_hook_loopback_is_refused_before_connecting(
    tls_for: StartTLS, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = tls_for("localhost")
    monkeypatch.delenv("NEWSLETTER_TEST_PUBLIC_NETS")

    with pytest.raises(AddressRefused, match="localhost"):
        asyncio.run(_get(f"https://localhost:{server.port}/"))
    assert server.server_names == [] and server.hosts == []
