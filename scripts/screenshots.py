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
# (file label, window width, dark mode)
SHOTS = (("phone", 375, False), ("desktop", 800, False), ("phone-dark", 375, True))
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
)  # fmt: skip
# Headless windows are at least 500 px wide: the page's height at a phone's width is
# measured in an iframe of that width, then the screenshot is taken at exactly that size.
MEASURE = """<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="{src}" style="width:{width}px;height:400px;border:0"></iframe><script>
window.addEventListener("load", function () {{
  var root = document.getElementById("f").contentDocument.documentElement;
  document.title = "height=" + root.scrollHeight;
  document.body.setAttribute("data-height", root.scrollHeight);
}});
</script></body></html>"""


def run_chromium(chromium: str, work: Path, *args: str) -> str:
    result = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={work / 'chrome'}", *args],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.stdout


def page_height(chromium: str, work: Path, source: Path, width: int) -> int:
    probe = work / f"measure-{width}.html"
    probe.write_text(MEASURE.format(src=source.name, width=width), "utf-8")
    dom = run_chromium(
        chromium, work, "--allow-file-access-from-files", "--virtual-time-budget=5000",
        "--window-size=1000,1000", "--dump-dom", probe.as_uri(),
    )  # fmt: skip
    found = re.search(r'data-height="(\d+)"', dom)
    if found is None:
        sys.exit("chromium did not report the page's height")
    return int(found.group(1))


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
    for label, width, dark in SHOTS:
        target = DOCS / f"sample-issue-{label}.png"
        height = page_height(chromium, work, source, width)
        run_chromium(
            chromium, work, f"--screenshot={target}", f"--window-size={width},{height}",
            *(["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []),
            source.as_uri(),
        )  # fmt: skip
        print(f"wrote {target.relative_to(REPO)} ({width}x{height})")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
