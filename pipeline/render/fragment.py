"""Item HTML made fit for MJML: parsed and re-serialised after nh3 has sanitised it.

MRML (mjml-python) parses an `mj-text`'s content strictly: a lone `<` or an unclosed `<p>`
makes the whole issue fail to compile. Running stored HTML through a real HTML parser
(html5lib, the WHATWG algorithm browsers use) and serialising it back closes every
element, escapes stray characters and writes void elements as `<br />`.

The serialiser is our own, not html5lib's: html5lib quotes a value holding `"` with `'`
and leaves the `"` raw, and MRML re-quotes every attribute with `"` and writes that one as
`\\"`, which HTML does not honour: `title='"><script>'` came out as a real `<script>`.
Here every value is quoted with `"`, and `&`, `<`, `>` and `"` are written as entities,
which MRML passes through untouched, in text and attributes alike.

On the way, what must be inline is put inline (MRML does not inline `mj-style`), and
headings are moved below the card's title so the issue's outline stays in order.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import html5lib

INLINE_STYLES = {
    "img": "display: block; max-width: 100%; height: auto; border: 0;",
    "p": "margin: 0 0 12px 0;",
    "h4": "margin: 16px 0 8px 0; font-size: 17px; line-height: 1.35;",
    "blockquote": "margin: 0 0 12px 0; padding: 0px 0px 0px 12px; border-left: 3px solid #cfc8bb;",
    "pre": "white-space: pre-wrap; word-wrap: break-word;",
}
# The card's title is an h3: anything an item calls a heading sits below it.
DEMOTED_HEADINGS = {"h1", "h2", "h3"}
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# html5lib writes foreign elements and attributes as `{namespace}name`, and keeps names with
# characters no serialiser could write back; nh3's output has neither, so such a node is
# left out (an element's content is kept) rather than written in a form MRML would misread.
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def mjml_safe(html: str) -> str:
    """Sanitised item HTML, well-formed for MRML and styled inline."""
    if not html:
        return ""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    out: list[str] = [escape_text(fragment.text or "")]
    for child in fragment:
        _serialise(child, out)
    return "".join(out)


def escape_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES)


def escape_attribute(value: str) -> str:
    return value.translate(_ATTRIBUTE_ESCAPES)


def _serialise(element: Element, out: list[str]) -> None:
    """`element` and its tail; comments go (MRML must not see any inside its layout)."""
    tag = element.tag
    if isinstance(tag, str) and _NAME.fullmatch(tag):
        _restyle(element)
        tag = element.tag
        attributes = "".join(
            f' {name}="{escape_attribute(value)}"'
            for name, value in element.attrib.items()
            if _NAME.fullmatch(name)
        )
        if tag in VOID_ELEMENTS:
            out.append(f"<{tag}{attributes} />")
        else:
            out.append(f"<{tag}{attributes}>")
            _content(element, out)
            out.append(f"</{tag}>")
    elif isinstance(tag, str):
        _content(element, out)
    out.append(escape_text(element.tail or ""))


def _content(element: Element, out: list[str]) -> None:
    out.append(escape_text(element.text or ""))
    for child in element:
        _serialise(child, out)


def _restyle(element: Element) -> None:
    if element.tag in DEMOTED_HEADINGS:
        element.tag = "h4"
    style = INLINE_STYLES.get(element.tag)
    if style is not None:
        existing = element.get("style", "")
        element.set("style", f"{style} {existing}".strip())
