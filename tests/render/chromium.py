"""Headless Chromium (Debian's `chromium`) measuring a page's layout at a given width.

The page is given a script that writes the document's scroll width into the DOM once it
has loaded; `--dump-dom` prints the DOM, and the number is read back from it. Hosts are
mapped to nowhere so no page can reach the network.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
MEASURE = """<script>
window.addEventListener("load", function () {
  var root = document.documentElement;
  var marker = document.createElement("meta");
  marker.setAttribute("name", "layout-measure");
  marker.setAttribute("content", root.scrollWidth + "x" + root.clientWidth);
  document.head.appendChild(marker);
});
</script>"""


def available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def measure_width(page: Path, width: int) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page laid out in a window `width` px wide."""
    html = page.read_text("utf-8")
    probe = page.with_name(page.stem + ".measure.html")
    probe.write_text(html.replace("</head>", MEASURE + "</head>", 1), "utf-8")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={width},900",
             "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    found = re.search(r'name="layout-measure" content="(\d+)x(\d+)"', result.stdout)
    assert found, f"Chromium printed no measurement:\n{result.stderr[-2000:]}"
    return int(found.group(1)), int(found.group(2))
