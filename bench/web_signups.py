"""How fast `newsletter serve` takes sign-ups and bounce webhooks, on a real uvicorn.

    PYTHONPATH=. .venv/bin/python bench/web_signups.py [N]

Prints sign-ups a second (form POST, one row, confirmation mail into the outbox) and
webhook events a second (Mailgun-signed, one transaction each), against SQLite.
One client, one request at a time: it measures latency-bound throughput, not a load test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from pipeline import db
from pipeline.config import load_config
from pipeline.web.app import create_app
from tests.web.conftest import run_server

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-mailgun-key"


def main(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        shutil.copy(REPO / "config.yaml", root / "config.yaml")
        raw = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
        raw["subscriptions"] = {"rate_limit": count * 2}
        (root / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
        config = load_config(root / "config.yaml")
        engine = db.make_engine(config.database.url)
        db.upgrade(engine)
        app = create_app(config, engine, "bench-key", webhook_secrets={"mailgun": KEY})
        for url in run_server(app):
            with httpx.Client(base_url=url, timeout=30) as client:
                csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/subscribe").text)
                assert csrf is not None
                started = time.perf_counter()
                for number in range(count):
                    data = {
                        "csrf": csrf.group(1),
                        "email": f"r{number}@example.org",
                        "consent": "yes",
                        "topics": ["netzwerk"],
                    }
                    assert client.post("/subscribe", data=data).status_code == 303
                signups = count / (time.perf_counter() - started)
                started = time.perf_counter()
                for number in range(count):
                    assert client.post("/webhooks/mailgun", content=_bounce(number)).is_success
                hooks = count / (time.perf_counter() - started)
            deadline = time.monotonic() + 60
            while len(list(config.provider.outbox_dir.glob("*.eml"))) < count:
                assert time.monotonic() < deadline, "confirmation mails did not all arrive"
                time.sleep(0.1)
        print(f"sign-ups:        {signups:7.1f} /s  ({count} form posts, SQLite, outbox)")
        print(f"webhook events:  {hooks:7.1f} /s  ({count} Mailgun hard bounces)")
    finally:
        shutil.rmtree(root)


def _bounce(number: int) -> bytes:
    timestamp, token = str(int(datetime.now(UTC).timestamp())), f"token{number:045d}"
    signature = hmac.new(KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    event = {"event": "failed", "severity": "permanent", "recipient": f"r{number}@example.org"}
    sig = {"timestamp": timestamp, "token": token, "signature": signature}
    return json.dumps({"signature": sig, "event-data": event}).encode()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
