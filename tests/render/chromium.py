"""Headless Chromium (Debian's `chromium`) measuring a page's layout at a given width.

Headless windows have a minimum width (500 px), so the page is laid out in an iframe of
exactly the width asked for; a script in the framing page writes the frame's scroll
width into the DOM once it has loaded, `--dump-dom` prints the DOM, and the number is
read back from it. Hosts are mapped to nowhere so no page can reach the network.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FRAME = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><iframe id="page" src="{src}" style="width:{width}px;height:900px;border:0">
</iframe><script>
window.addEventListener("load", function () {{
  var root = document.getElementById("page").contentDocument.documentElement;
  var marker = document.createElement("meta");
  marker.setAttribute("name", "layout-measure");
  marker.setAttribute("content", root.scrollWidth + "x" + root.clientWidth);
  document.head.appendChild(marker);
}});
</script></body></html>"""


def available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def measure_width(page: Path, width: int) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page laid out in a window `width` px wide."""
    probe = page.with_name(page.stem + f".frame-{width}.html")
    probe.write_text(FRAME.format(src=page.name, width=width), "utf-8")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--allow-file-access-from-files",
             "--window-size=1000,1000",
             "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    found = re.search(r'name="layout-measure" content="(\d+)x(\d+)"', result.stdout)
    assert found, f"Chromium printed no measurement:\n{result.stderr[-2000:]}"
    return int(found.group(1)), int(found.group(2))
