"""A gzip bomb: 300 MiB of zeros in about 300 KB on the wire must fail its feed at
`collect.max_bytes` without being inflated, and the other feeds are still collected.

Memory is measured on the real `newsletter collect` process: a small Python parent runs
it and reports its children's peak RSS (the command and its parse workers), once for the
good feed alone and once with three bombs beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import states
from tests.conftest import NEWSLETTER, command_environment

GOOD = "Richtfest in der Bahnhofstraße"
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "peak_kb": peak_kb}))
"""


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """300 MiB of zeros, gzip-compressed step by step (never whole in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(300)) + packer.flush()


def _collect_measured(feeds: FeedProject) -> tuple[int, str, float]:
    """The exit code, stderr and peak RSS in MB of one `newsletter collect` process."""
    command = [NEWSLETTER, "collect", "--config", str(feeds.project.config_path)]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=feeds.project.root,
        env=command_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(done.stdout)
    return answer["code"], answer["stderr"], answer["peak_kb"] / 1024


def test_a_gzip_bomb_fails_at_the_cap_without_being_inflated(
    feeds: FeedProject, bomb: bytes
) -> None:
    assert len(bomb) < 400_000
    feeds.server.routes["/good.xml"] = Route.feed("rss20.xml")
    feeds.configure({"Gut": "/good.xml"})
    code, _, baseline_mb = _collect_measured(feeds)
    assert code == 0

    for n in range(3):
        feeds.server.routes[f"/bomb-{n}.xml"] = Route(
            body=bomb, headers={"Content-Encoding": "gzip"}
        )
    feeds.configure({"Gut": "/good.xml", **{f"Bombe {n}": f"/bomb-{n}.xml" for n in range(3)}})
    code, stderr, peak_mb = _collect_measured(feeds)

    assert code == 1
    for n in range(3):
        url = feeds.server.url(f"/bomb-{n}.xml")
        assert f"Bombe {n} ({url}): larger than collect.max_bytes (5000000 bytes)" in stderr
    assert states(feeds.project) == {GOOD: "queued"}
    # Each bomb may cost its 5 MB cap and a step; inflated whole, each would cost 300 MiB.
    assert peak_mb - baseline_mb < 40, f"{baseline_mb:.0f} MB alone, {peak_mb:.0f} MB with bombs"
