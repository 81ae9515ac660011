"""Preview: the next issue in every variant, as files, without sending anything.

`index.html` shows them in a frame with a switcher for the variant (language and topic
selection) and the width (phone, tablet, desktop); `--serve` serves the folder on
localhost so the switcher works in any browser.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.config import MEDIA_DIR, Config
from pipeline.files import make_private_dir, open_private
from pipeline.issue.model import IssueContent
from pipeline.render.issue import RenderedIssue
from pipeline.render.personalize import Personalizable, html_values
from pipeline.send.compose import greeting

SAMPLE_READER = "Erika Mustermann"
WIDTHS = {"Phone": 375, "Tablet": 600, "Desktop": 800}
SWITCHER_SCRIPT = """
const frame = document.getElementById("frame");
const select = document.getElementById("variant");
const buttons = document.querySelectorAll("button[data-width]");
function show() {
  frame.src = select.value;
  document.getElementById("text").href = texts[select.value];
}
function width(px) {
  frame.style.width = px + "px";
  for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.width == px));
}
select.addEventListener("change", show);
for (const b of buttons) b.addEventListener("click", () => width(b.dataset.width));
show();
width(800);
"""


@dataclass(frozen=True)
class PreviewFile:
    locale: str
    key: str
    subject: str
    html_path: Path
    text_path: Path


def sample_values(config: Config, locale: str) -> dict[str, str]:
    return {
        "greeting": greeting(SAMPLE_READER, locale),
        "unsubscribe_url": f"{config.site.url}/unsubscribe/PREVIEW",
        "preferences_url": f"{config.site.url}/preferences/PREVIEW",
    }


def file_stem(number: int, key: str) -> str:
    """`issue-1.de` for the full issue, `issue-1.de.netzwerk-partner` for a topic variant."""
    return f"issue-{number}." + re.sub(r"[^a-z0-9.-]+", "-", key.replace(":", ".", 1)).strip("-")


def write_preview(
    content: IssueContent, variants: list[RenderedIssue], config: Config, out_dir: Path
) -> list[PreviewFile]:
    # No reader's data, but embargoed items and the signed links that open their events.
    make_private_dir(out_dir)
    written = []
    pictures: set[str] = set()
    for variant in variants:
        values = sample_values(config, variant.locale)
        stem = file_stem(content.number, variant.variant_key)
        html_path, text_path = out_dir / f"{stem}.html", out_dir / f"{stem}.txt"
        filled = Personalizable.parse(variant.html).fill(html_values(values))
        pictures.update(pictures_named(filled, config.site.url))
        _write(html_path, local_pictures(filled, config.site.url, "media/"))
        _write(text_path, Personalizable.parse(variant.text).fill(values))
        written.append(
            PreviewFile(variant.locale, variant.variant_key, variant.subject, html_path, text_path)
        )
    _write(out_dir / "index.html", index_page(content.number, written))
    _copy_pictures(pictures, config.sources.content_dir / MEDIA_DIR, out_dir / MEDIA_DIR)
    return written


def _media_prefix(site_url: str) -> str:
    return f"{site_url}/{MEDIA_DIR}/"


def pictures_named(page: str, site_url: str) -> set[str]:
    """The content folder's pictures an issue's HTML shows (by their served address)."""
    prefix = re.escape(_media_prefix(site_url))
    return set(re.findall(prefix + r'([A-Za-z0-9][A-Za-z0-9._-]*)"', page))


def local_pictures(page: str, site_url: str, base: str) -> str:
    """The HTML with the content folder's pictures taken from `base` instead of from
    site.base_url: beside a preview's files (`media/`), or from the desk's own `serve`."""
    return page.replace(_media_prefix(site_url), base)


def _copy_pictures(names: set[str], source: Path, target: Path) -> None:
    if not names:
        return
    target.mkdir(exist_ok=True)
    for name in sorted(names):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)


def _write(path: Path, text: str) -> None:
    with open_private(path) as handle:
        handle.write(text)


def index_page(number: int, files: list[PreviewFile]) -> str:
    options = "".join(
        f'<option value="{html.escape(f.html_path.name)}">{html.escape(f.key)} — '
        f"{html.escape(f.subject)}</option>"
        for f in files
    )
    widths = "".join(
        f'<button type="button" data-width="{px}">{label} {px}px</button>'
        for label, px in WIDTHS.items()
    )
    texts = json.dumps({f.html_path.name: f.text_path.name for f in files})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview of issue {number}</title>
<style>
body {{ margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #e9e6e0; color: #1f2933; }}
header {{ display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px;
         background: #1f2933; color: #fff; }}
header h1 {{ font-size: 16px; margin: 0 12px 0 0; }}
select, button {{ font: inherit; padding: 4px 10px; }}
button[aria-pressed="true"] {{ background: #0b5c56; color: #fff; border-color: #0b5c56; }}
header a {{ color: #fff; }}
main {{ display: flex; justify-content: center; padding: 24px 8px; }}
iframe {{ border: 0; background: #fff; box-shadow: 0 2px 18px rgba(0,0,0,.18); height: 85vh; }}
</style></head>
<body>
<header><h1>Preview of issue {number}</h1>
<label>Variant <select id="variant">{options}</select></label>
<span role="group" aria-label="Width">{widths}</span>
<a id="text" href="#">Plain text</a></header>
<main><iframe id="frame" title="The issue as a reader sees it"></iframe></main>
<script>const texts = {texts};</script>
<script>{SWITCHER_SCRIPT}</script>
</body></html>
"""


def serve_preview(
    out_dir: Path, port: int, ready: Callable[[str], None] = lambda _url: None
) -> None:
    """Serve the preview folder on localhost until interrupted."""
    handler = functools.partial(_QuietHandler, directory=str(out_dir))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        ready(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None
