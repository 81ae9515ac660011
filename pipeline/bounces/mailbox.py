"""Reading the bounce mailbox: IMAP (imap-tools) or POP3 (poplib), behind one interface.

A reader lists the messages' ids, fetches one message's bytes as the server holds them,
and files a message once its verdict is stored: over IMAP it is moved to the processed or
the unrecognised folder (made when missing), never deleted, and fetched with BODY.PEEK so
that a reply left in the folder stays unread; POP3 has no folders, so a filed message is
deleted (the deletion takes effect at QUIT) and a kept one is left alone.

A message over MAX_MESSAGE_BYTES (the sizes come with the listing: IMAP's RFC822.SIZE,
POP3's LIST) is not read whole: only its header is fetched, and it is `Oversized`. No
bounce is that big (a bounce returns the headers, or a mail we sent, a few hundred KB at
most); one that is, is someone's attachment, for a person to look at.

Ids are stable across sessions: IMAP's `UIDVALIDITY/UID`, POP3's UIDL. Every failure of
the server or the connection becomes a MailboxError naming the server; the password
appears in none of them.
"""

from __future__ import annotations

import imaplib
import poplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal, Protocol

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    ImapToolsError,
    MailboxCopyError,
    MailboxFolderCreateError,
    MailboxLoginError,
    MailboxMoveError,
)

from pipeline.config import BounceMailbox
from pipeline.errors import MailboxError

Destination = Literal["processed", "unrecognised", "kept"]
TIMEOUT_S = 30.0
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# poplib refuses a line over 2048 bytes ("line too long") and loses the session with it;
# a bounce returning an HTML mail has longer ones. imaplib allows 1,000,000: so does this.
poplib._MAXLINE = 1_000_000  # type: ignore[attr-defined]


class MessageUnreadable(MailboxError):
    """The server refused one message (a broken file on its side); the others can be read."""


@dataclass(frozen=True)
class Oversized:
    """A message over MAX_MESSAGE_BYTES: its header alone, and where it is to be filed
    (over IMAP the unrecognised folder; POP3 leaves it on the server, never deleting what
    it did not read whole)."""

    size: int
    header: bytes
    destination: Destination


class MailboxReader(Protocol):
    name: str

    def ids(self) -> list[str]:
        """The ids of the messages in the mailbox (the folder, over IMAP), oldest first."""
        ...

    def fetch(self, message_id: str) -> bytes | Oversized | None:
        """The message's bytes (its header only, if Oversized); None when it is gone
        (another reader filed it meanwhile)."""
        ...

    def file(self, message_id: str, destination: Destination) -> None: ...


def mailbox_name(settings: BounceMailbox) -> str:
    """The mailbox as `status` and the claims name it (no password, ever)."""
    where = f"{settings.protocol}://{settings.username}@{settings.host}:{settings.effective_port}"
    return f"{where}/{settings.folder}" if settings.protocol == "imap" else where


@contextmanager
def open_mailbox(
    settings: BounceMailbox, password: str, timeout_s: float = TIMEOUT_S
) -> Iterator[MailboxReader]:
    """A logged-in reader, logged out (POP3: its deletions committed) when done."""
    name = mailbox_name(settings)
    try:
        if settings.protocol == "imap":
            with _imap(settings, password, timeout_s) as reader:
                yield reader
        else:
            with _pop3(settings, password, timeout_s) as reader:
                yield reader
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, ImapToolsError) as exc:
        raise MailboxError(f"bounce mailbox {name}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    return f"{type(exc).__name__}: {exc}"


# IMAP

_IMAP_UID = re.compile(rb"\bUID (\d+)")
_IMAP_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


class ImapReader:
    def __init__(self, box: BaseMailBox, settings: BounceMailbox):
        self.name = mailbox_name(settings)
        self._box = box
        self._settings = settings
        status = box.folder.status(settings.folder, ["UIDVALIDITY"])
        self._validity = str(status["UIDVALIDITY"])
        self._made: set[str] = set()
        self._sizes: dict[str, int] = {}

    def ids(self) -> list[str]:
        uids = self._box.uids("ALL")
        if uids:
            self._sizes = self._listed_sizes()
        return [f"{self._validity}/{uid}" for uid in uids]

    def _listed_sizes(self) -> dict[str, int]:
        status, data = self._box.client.uid("fetch", "1:*", "(RFC822.SIZE)")
        if status != "OK":
            raise MailboxError(f"bounce mailbox {self.name}: FETCH RFC822.SIZE: {data!r}")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = _IMAP_UID.search(line), _IMAP_SIZE.search(line)
            if uid is not None and size is not None:
                sizes[uid.group(1).decode()] = int(size.group(1))
        return sizes

    def _uid(self, message_id: str) -> str:
        validity, _, uid = message_id.partition("/")
        if validity != self._validity or not uid.isdigit():
            raise MailboxError(f"bounce mailbox {self.name}: {message_id!r} is not of this folder")
        return uid

    def fetch(self, message_id: str) -> bytes | Oversized | None:
        uid = self._uid(message_id)
        size = self._sizes.get(uid, 0)
        if size > MAX_MESSAGE_BYTES:
            header = self._peek(message_id, "BODY.PEEK[HEADER]")
            return None if header is None else Oversized(size, header, "unrecognised")
        return self._peek(message_id, "BODY.PEEK[]")

    def _peek(self, message_id: str, part: str) -> bytes | None:
        status, data = self._box.client.uid("fetch", self._uid(message_id), f"({part})")
        if status != "OK":
            answer = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
            raise MessageUnreadable(f"the server refused to give the message: {answer[:200]}")
        for part in data:
            if isinstance(part, tuple):
                return bytes(part[1])
        return None

    def file(self, message_id: str, destination: Destination) -> None:
        if destination == "kept":
            return
        folder = (
            self._settings.processed_folder
            if destination == "processed"
            else self._settings.unrecognised_folder
        )
        if folder not in self._made:
            self._make_folder(folder)
            self._made.add(folder)
        uid = self._uid(message_id)
        try:
            self._box.move(uid, folder)
        except (MailboxMoveError, MailboxCopyError):
            if uid in self._box.uids(f"UID {uid}"):
                raise
            # Gone: another reader of the mailbox filed it first (Dovecot: EXPUNGEISSUED).

    def _make_folder(self, folder: str) -> None:
        if self._box.folder.exists(folder):
            return
        try:
            self._box.folder.create(folder)
        except MailboxFolderCreateError:
            if not self._box.folder.exists(folder):  # else another reader just made it
                raise


@contextmanager
def _imap(settings: BounceMailbox, password: str, timeout_s: float) -> Iterator[ImapReader]:
    host, port = settings.host, settings.effective_port
    box: BaseMailBox
    if settings.tls == "tls":
        box = MailBox(host, port, timeout=timeout_s, ssl_context=ssl.create_default_context())
    elif settings.tls == "starttls":
        context = ssl.create_default_context()
        box = MailBoxStartTls(host, port, timeout=timeout_s, ssl_context=context)
    else:  # the config allows `none` for loopback hosts only
        box = MailBoxUnencrypted(host, port, timeout=timeout_s)
    try:
        box.login(settings.username, password, initial_folder=settings.folder)
    except MailboxLoginError as exc:
        raise MailboxError(
            f"bounce mailbox {mailbox_name(settings)}: login refused for {settings.username!r}; "
            "check bounces.mailbox and NEWSLETTER_BOUNCE_PASSWORD"
        ) from exc
    _refresh_capabilities(box)
    try:
        yield ImapReader(box, settings)
    finally:
        # The session is over either way; what was filed stays filed.
        with suppress(OSError, imaplib.IMAP4.error, ImapToolsError):
            box.logout()


def _refresh_capabilities(box: BaseMailBox) -> None:
    """imaplib keeps the capabilities of the greeting; servers list more after login
    (Dovecot: MOVE), and imap-tools moves with one atomic UID MOVE only when it is listed."""
    status, data = box.client.capability()
    if status == "OK" and data and isinstance(data[0], bytes):
        box.client.capabilities = tuple(data[0].decode("ascii", "replace").upper().split())


# POP3


class Pop3Reader:
    def __init__(self, client: poplib.POP3, settings: BounceMailbox):
        self.name = mailbox_name(settings)
        self._client = client
        _response, listing, _octets = client.uidl()
        self._numbers: dict[str, str] = {}
        for line in listing:
            number, _, uidl = line.decode("ascii", errors="replace").partition(" ")
            self._numbers[uidl.strip()] = number
        _response, sizes, _octets = client.list()
        self._sizes: dict[str, int] = {}
        for line in sizes:
            number, _, size = line.decode("ascii", errors="replace").partition(" ")
            if size.strip().isdigit():
                self._sizes[number] = int(size)

    def ids(self) -> list[str]:
        return list(self._numbers)

    def fetch(self, message_id: str) -> bytes | Oversized | None:
        number = self._numbers.get(message_id)
        if number is None:
            return None
        size = self._sizes.get(number, 0)
        try:
            if size > MAX_MESSAGE_BYTES:
                _response, lines, _octets = self._client.top(int(number), 0)
                return Oversized(size, b"\r\n".join(lines) + b"\r\n", "kept")
            _response, lines, _octets = self._client.retr(int(number))
        except poplib.error_proto as exc:
            if "no such message" in str(exc).lower():
                return None
            answer = exc.args[0].decode("ascii", "replace") if exc.args else ""
            refused = f"the server refused to give the message: {answer[:200]}"
            raise MessageUnreadable(refused) from exc
        return b"\r\n".join(lines) + b"\r\n"

    def file(self, message_id: str, destination: Destination) -> None:
        """Delete a filed message (its verdict and bytes are in the database by now); a
        kept one (a reader's reply) stays on the server."""
        number = self._numbers.get(message_id)
        if destination != "kept" and number is not None:
            self._client.dele(int(number))


@contextmanager
def _pop3(settings: BounceMailbox, password: str, timeout_s: float) -> Iterator[Pop3Reader]:
    host, port = settings.host, settings.effective_port
    client: poplib.POP3
    if settings.tls == "tls":
        context = ssl.create_default_context()
        client = poplib.POP3_SSL(host, port, timeout=timeout_s, context=context)
    else:
        client = poplib.POP3(host, port, timeout=timeout_s)
        if settings.tls == "starttls":
            client.stls(context=ssl.create_default_context())
    try:
        try:
            client.user(settings.username)
            client.pass_(password)
        except poplib.error_proto as exc:
            raise MailboxError(
                f"bounce mailbox {mailbox_name(settings)}: login refused for "
                f"{settings.username!r}; check bounces.mailbox and NEWSLETTER_BOUNCE_PASSWORD"
            ) from exc
        yield Pop3Reader(client, settings)
    finally:
        # QUIT commits the deletions, even after an error: each is of a message whose
        # verdict and bytes are already stored.
        try:
            client.quit()
        except (OSError, poplib.error_proto):
            client.close()
