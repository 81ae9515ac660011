"""How fast `newsletter bounces fetch` reads a bounce mailbox, on a real Dovecot.

    PYTHONPATH=. .venv/bin/python bench/bounces.py [N] [imap|pop3] [MB]

Puts N bounces (RFC 3464 reports of N deliveries, one reader each) into a Dovecot of its
own with IMAP APPEND, then times the whole command as a process, start to exit, beside
the read itself in this process (`fetch_bounces`) on a second mailbox of the same size.
SQLite, plain-text IMAP (or POP3) on loopback. With MB, each mailbox also holds one
message of MB megabytes (over the 10 MB cap: its header alone is read); the command's
peak memory (max RSS) is printed either way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

import yaml

from pipeline import db
from pipeline.bounces.fetch import default_classifier, fetch_bounces
from pipeline.config import load_config
from pipeline.tokens import make_delivery_token
from tests.bounces.dovecot import Dovecot, MailUser, remove, start_dovecot
from tests.bounces.helpers import dsn, mailbox_settings, reader_with_delivery

REPO = Path(__file__).resolve().parents[1]
NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
KEY = "bench-secret-key-of-the-bounce-mailbox-bench"


def _project(root: Path, server: Dovecot, user: MailUser, protocol: str, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    settings = mailbox_settings(server, user, protocol, "none")  # type: ignore[arg-type]
    raw["database"] = {"url": f"sqlite:///{folder / 'newsletter.db'}"}
    raw["bounces"] = {"mailbox": settings.model_dump(mode="json", exclude_none=True)}
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config_path


# Started from a small process: a child forked from this one (which held the big message
# to append it) would count this one's memory as its own peak.
_MEASURE = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("bounces fetch failed")
print(seconds, usage.ru_maxrss)
"""


def _huge(megabytes: int) -> bytes:
    line = b"A" * 76 + b"\r\n"
    header = b"Subject: Fotos\r\nMessage-ID: <fotos@example.net>\r\n\r\n"
    return header + line * (megabytes * 1024 * 1024 // len(line))


def _fill(config_path: Path, server: Dovecot, user: MailUser, count: int, megabytes: int) -> None:
    engine = db.make_engine(load_config(config_path).database.url)
    db.upgrade(engine)
    bounces = []
    for number in range(count):
        sent = reader_with_delivery(engine, f"r{number}@example.org")
        token = make_delivery_token(KEY, sent.delivery_id)
        bounces.append(dsn(token, f"r{number}@example.org", "5.1.1", "550 user unknown"))
    server.append(user, *bounces)
    if megabytes:
        server.append(user, _huge(megabytes))
    engine.dispose()


def main(count: int, protocol: Literal["imap", "pop3"] = "imap", megabytes: int = 0) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-bounces-"))
    server = start_dovecot(tls=False)
    try:
        by_command, in_process = server.new_user(), server.new_user()
        command_config = _project(root, server, by_command, protocol, "command")
        module_config = _project(root, server, in_process, protocol, "module")
        _fill(command_config, server, by_command, count, megabytes)
        _fill(module_config, server, in_process, count, megabytes)
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")},
            "NEWSLETTER_SECRET_KEY": KEY,
            "NEWSLETTER_BOUNCE_PASSWORD": by_command.password,
        }
        measured = subprocess.run(
            [sys.executable, "-c", _MEASURE, NEWSLETTER, "bounces", "fetch", "--config",
             str(command_config)],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        command_s, peak_kb = (float(x) for x in measured.stdout.split())
        peak_mb = peak_kb / 1024

        os.environ["NEWSLETTER_BOUNCE_PASSWORD"] = in_process.password
        config = load_config(module_config)
        engine = db.make_engine(config.database.url)
        started = time.perf_counter()
        report = fetch_bounces(config, engine, KEY, default_classifier())
        module_s = time.perf_counter() - started
        assert report.counts["hard"] == count, report.counts
        large = f", one message of {megabytes} MB" if megabytes else ""
        print(f"bounces fetch ({protocol}, {count} hard bounces{large}, SQLite):")
        print(f"  the command, start to exit: {command_s:6.2f} s  ({count / command_s:6.1f} /s)")
        print(f"  fetch_bounces in-process:   {module_s:6.2f} s  ({count / module_s:6.1f} /s)")
        print(f"  the command's peak memory:  {peak_mb:6.0f} MB (max RSS)")
    finally:
        remove(server)
        shutil.rmtree(root)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 500,
        "pop3" if len(sys.argv) > 2 and sys.argv[2] == "pop3" else "imap",
        int(sys.argv[3]) if len(sys.argv) > 3 else 0,
    )
