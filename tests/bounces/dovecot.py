"""A real Dovecot (IMAP and POP3) of the tests' own, started from a config file of its own.

Each instance listens on 127.0.0.1 on free ports, keeps its sockets, state, log and the
users' Maildirs in one temp folder, and reads each user from a passwd-file of its own
that `new_user` writes (a file a user: Dovecot caches one file's users), so each test
has a mailbox nobody else writes to. One instance speaks plain text (`ssl = no`); the other has a
self-signed certificate made here with openssl, for implicit TLS (imaps, pop3s) and
STARTTLS on the plain ports. Messages go in with IMAP APPEND, as a delivery lands them.

Dovecot refuses uid 0 for a mail user: as root, the mail user is 65534 (nobody) and
the folder is opened to it.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534
STARTUP_S = 15


@dataclass(frozen=True)
class MailUser:
    username: str
    password: str


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    pop3_port: int
    imaps_port: int | None = None
    pop3s_port: int | None = None
    certificate: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else "(no log written)"

    @property
    def passwd_dir(self) -> Path:
        return self.root / "passwd"

    def new_user(self) -> MailUser:
        """A user of its own, with an empty mailbox (made on first login)."""
        user = MailUser(f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex)
        line = f"{user.username}:{{PLAIN}}{user.password}::::::\n"
        (self.passwd_dir / user.username).write_text(line, encoding="ascii")
        return user

    def imap(self, user: MailUser) -> imaplib.IMAP4:
        """A plain-text IMAP session of the user's, for putting messages in and looking."""
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(user.username, user.password)
        return client

    def append(self, user: MailUser, *raws: bytes, folder: str = "INBOX") -> None:
        """Put the messages in, in one session, unread (no flags), as a delivery would."""
        client = self.imap(user)
        try:
            for raw in raws:
                status, detail = client.append(folder, "", None, raw)
                assert status == "OK", detail
        finally:
            client.logout()

    def folder(self, user: MailUser, folder: str = "INBOX") -> list[tuple[bytes, set[str]]]:
        """Every message in the folder: its raw bytes and flags (read without marking seen)."""
        client = self.imap(user)
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, data = client.uid("search", None, "ALL")
            found = []
            for uid in data[0].split():
                _, fetched = client.uid("fetch", uid, "(FLAGS BODY.PEEK[])")
                head, body = fetched[0]  # type: ignore[misc]
                flags = imaplib.ParseFlags(head)
                found.append((bytes(body), {flag.decode() for flag in flags}))
            return found
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class DovecotDidNotStart(RuntimeError):
    pass


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _config(server: Dovecot, key: Path | None) -> str:
    root = server.root
    as_root = os.geteuid() == 0
    uid, gid = (NOBODY, NOBODY) if as_root else (os.getuid(), os.getgid())
    lines = [
        "protocols = imap pop3",
        "listen = 127.0.0.1",
        f"base_dir = {root}/run",
        f"state_dir = {root}/state",
        f"log_path = {root}/dovecot.log",
        "auth_mechanisms = plain login",
        "auth_failure_delay = 0",
        "disable_plaintext_auth = no",
        "mail_location = maildir:~/Maildir",
        "first_valid_uid = 100" if as_root else f"first_valid_uid = {uid}",
        "pop3_uidl_format = %08Xu%08Xv",
        # No growing per-address penalty for the tests' deliberate wrong passwords.
        "service anvil {",
        "  unix_listener anvil-auth-penalty {",
        "    mode = 0",
        "  }",
        "}",
        "namespace inbox {",
        "  inbox = yes",
        "  separator = /",
        "}",
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {server.passwd_dir}/%u",
        "}",
        "userdb {",
        "  driver = static",
        f"  args = uid={uid} gid={gid} home={root}/home/%u",
        "}",
    ]
    if not as_root:
        me = os.environ.get("USER") or str(uid)
        lines += [f"default_internal_user = {me}", f"default_login_user = {me}"]
        for login in ("imap-login", "pop3-login"):
            lines += [f"service {login} {{", "  chroot =", "}"]
    if server.certificate is None or key is None:
        lines.append("ssl = no")
        imaps = pop3s = 0
    else:
        lines += [
            "ssl = yes",
            f"ssl_cert = <{server.certificate}",
            f"ssl_key = <{key}",
        ]
        imaps, pop3s = server.imaps_port or 0, server.pop3s_port or 0
    lines += [
        "service imap-login {",
        f"  inet_listener imap {{\n    port = {server.imap_port}\n  }}",
        f"  inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}",
        "}",
        "service pop3-login {",
        f"  inet_listener pop3 {{\n    port = {server.pop3_port}\n  }}",
        f"  inet_listener pop3s {{\n    port = {pop3s}\n    ssl = yes\n  }}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def start_dovecot(*, tls: bool) -> Dovecot:
    """Start an instance (and wait until its ports answer); DovecotDidNotStart with its
    log when it cannot."""
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    root.chmod(0o755)  # the mail user (nobody, as root) reads its home under it
    server = Dovecot(root, free_port(), free_port())
    key = None
    if tls:
        server.imaps_port, server.pop3s_port = free_port(), free_port()
        server.certificate, key = _certificate(root)
    (root / "home").mkdir()
    server.passwd_dir.mkdir()
    if os.geteuid() == 0:
        os.chown(root / "home", NOBODY, NOBODY)
    config = root / "dovecot.conf"
    config.write_text(_config(server, key), encoding="ascii")
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    ports = [server.imap_port, server.pop3_port, server.imaps_port, server.pop3s_port]
    deadline = time.monotonic() + STARTUP_S
    while not all(_answers(port) for port in ports if port):
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            assert server.process.stdout is not None
            output = server.process.stdout.read().decode(errors="replace")
            raise DovecotDidNotStart(
                f"dovecot -c {config} did not start:\n{output}\n--- dovecot.log ---\n{server.log}"
            )
        time.sleep(0.05)
    return server


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def remove(server: Dovecot) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
