"""Regenerate docs/ screenshots of the sample issue with headless Chromium (`make screenshots`).

The preview is taken of the sample content as a development site (`--dev`), with the
content folder's pictures beside it, as readers see them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
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
    probe = source.with_name(f"measure-{width}.html")
    probe.write_text(MEASURE.format(src=source.name, width=width), "utf-8")
    dom = run_chromium(
        chromium, work, "--allow-file-access-from-files", "--virtual-time-budget=5000",
        "--window-size=1000,1000", "--dump-dom", probe.as_uri(),
    )  # fmt: skip
    found = re.search(r'data-height="(\d+)"', dom)
    if found is None:
        sys.exit("chromium did not report the page's height")
    return int(found.group(1))


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
        subprocess.run([newsletter, "--dev", *args], cwd=project, check=True, capture_output=True)
    source = work / "preview" / "issue-1.de.html"
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
