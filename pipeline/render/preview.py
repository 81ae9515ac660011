"""Preview: the next issue in every variant, as files, without sending anything."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.issue.model import IssueContent
from pipeline.render.issue import RenderedIssue
from pipeline.render.personalize import Personalizable, html_values
from pipeline.send.compose import greeting

SAMPLE_READER = "Erika Mustermann"


@dataclass(frozen=True)
class PreviewFile:
    locale: str
    html_path: Path
    text_path: Path


def sample_values(config: Config, locale: str) -> dict[str, str]:
    return {
        "greeting": greeting(SAMPLE_READER, locale),
        "unsubscribe_url": f"{config.site.url}/unsubscribe/PREVIEW",
        "preferences_url": f"{config.site.url}/preferences/PREVIEW",
    }


def write_preview(
    content: IssueContent, variants: list[RenderedIssue], config: Config, out_dir: Path
) -> list[PreviewFile]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for variant in variants:
        values = sample_values(config, variant.locale)
        html_path = out_dir / f"issue-{content.number}.{variant.locale}.html"
        text_path = out_dir / f"issue-{content.number}.{variant.locale}.txt"
        html_path.write_text(Personalizable.parse(variant.html).fill(html_values(values)), "utf-8")
        text_path.write_text(Personalizable.parse(variant.text).fill(values), "utf-8")
        written.append(PreviewFile(variant.locale, html_path, text_path))
    _write_index(content, variants, written, out_dir / "index.html")
    return written


def _write_index(
    content: IssueContent, variants: list[RenderedIssue], files: list[PreviewFile], path: Path
) -> None:
    rows = "\n".join(
        f'<li>{html.escape(v.locale)}: <a href="{f.html_path.name}">HTML</a> · '
        f'<a href="{f.text_path.name}">Text</a> — {html.escape(v.subject)}</li>'
        for v, f in zip(variants, files, strict=True)
    )
    path.write_text(
        f'<!doctype html><html lang="en"><meta charset="utf-8">'
        f"<title>Preview of issue {content.number}</title>"
        f"<h1>Preview of issue {content.number}</h1><ul>{rows}</ul></html>\n",
        "utf-8",
    )
