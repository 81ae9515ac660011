"""Fetch feedparser's own test corpus (its sdist's tests/) into .tools/, once per version.

The version is the one requirements.lock pins, so the corpus is the one the installed
feedparser was tested with. tests/collect/test_fast_feed.py calls `corpus_dir()`; run this
script by hand to fetch ahead of a run: `.venv/bin/python scripts/fetch_feedparser_corpus.py`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
CACHE = REPO / ".tools" / "feedparser-corpus"


def locked_version() -> str:
    match = re.search(r"^feedparser==(\S+)", LOCK.read_text("utf-8"), re.MULTILINE)
    if match is None:
        raise SystemExit(f"{LOCK}: no line `feedparser==<version>`")
    return match[1]


def corpus_dir() -> Path:
    """The unpacked tests/ folder of feedparser's sdist, fetched from PyPI if not cached."""
    version = locked_version()
    target = CACHE / version
    done = target / ".complete"
    if done.exists():
        return target / "tests"
    with tempfile.TemporaryDirectory() as folder:
        pip = [sys.executable, "-m", "pip", "download", "-qq", "--no-binary", ":all:"]
        subprocess.run([*pip, "--no-deps", "--dest", folder, f"feedparser=={version}"], check=True)
        (archive,) = Path(folder).glob("feedparser-*.tar.gz")
        prefix = f"feedparser-{version}/tests/"
        with tarfile.open(archive) as sdist:
            members = [member for member in sdist.getmembers() if member.name.startswith(prefix)]
            for member in members:
                member.name = member.name.removeprefix(f"feedparser-{version}/")
            sdist.extractall(target, members=members, filter="data")
    done.touch()
    return target / "tests"


if __name__ == "__main__":
    print(corpus_dir())
