"""Regenerate docs/ screenshots of the sample issue with headless Chromium (`make screenshots`).

The sample items point their images at the network's web site, which is not reachable
here; the screenshot swaps them for generated placeholder pictures so the layout shows
as readers see it.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
IMAGE_PREFIX = "https://netzwerk-quartier.example.org/img/"
WIDTHS = {"phone": (375, 2600), "desktop": (800, 1900)}


def gradient_png(path: Path, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> None:
    """A 480x320 vertical gradient with a horizon band: enough to read as a photo's place."""
    width, height = 480, 320
    rows = []
    for y in range(height):
        t = y / (height - 1)
        colour = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        if 200 < y < 212:
            colour = bytes((40, 70, 60))
        rows.append(b"\x00" + colour * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    )


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed: apt-get install chromium")
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    project = work / "project"
    project.mkdir()
    shutil.copy(REPO / "config.yaml", project / "config.yaml")
    shutil.copytree(REPO / "content", project / "content")
    newsletter = str(Path(sys.executable).with_name("newsletter"))
    for args in (("db", "upgrade"), ("collect",), ("preview", "--out", str(work / "preview"))):
        subprocess.run([newsletter, *args], cwd=project, check=True, capture_output=True)
    palette = [((214, 229, 224), (120, 160, 150)), ((236, 222, 206), (190, 140, 110)),
               ((222, 226, 238), (120, 130, 170))]  # fmt: skip
    page = (work / "preview" / "issue-1.de.html").read_text("utf-8")
    for index, name in enumerate(
        sorted(set(re.findall(re.escape(IMAGE_PREFIX) + r"([\w.-]+)", page)))
    ):
        local = work / name.replace(".jpg", ".png")
        gradient_png(local, *palette[index % len(palette)])
        page = page.replace(IMAGE_PREFIX + name, local.as_uri())
    source = work / "issue.html"
    source.write_text(page, "utf-8")
    for label, (width, height) in WIDTHS.items():
        target = DOCS / f"sample-issue-{label}.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={work / 'chrome'}",
             f"--screenshot={target}", f"--window-size={width},{height}", source.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        print(f"wrote {target.relative_to(REPO)}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
