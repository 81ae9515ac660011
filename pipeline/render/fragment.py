"""Item HTML made fit for MJML: parsed and re-serialised after nh3 has sanitised it.

MRML (mjml-python) parses an `mj-text`'s content strictly: a lone `<` or an unclosed `<p>`
makes the whole issue fail to compile. Running stored HTML through a real HTML parser
(html5lib, the WHATWG algorithm browsers use) and serialising it back closes every
element, escapes stray characters and writes void elements as `<br />`.

On the way, what must be inline is put inline (MRML does not inline `mj-style`), and
headings are moved below the card's title so the issue's outline stays in order.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

import html5lib
from html5lib.serializer import HTMLSerializer

_walker = html5lib.getTreeWalker("etree")
_serializer = HTMLSerializer(
    quote_attr_values="always",
    omit_optional_tags=False,
    use_trailing_solidus=True,
    minimize_boolean_attributes=False,
    resolve_entities=False,
)
INLINE_STYLES = {
    "img": "display: block; max-width: 100%; height: auto; border: 0;",
    "p": "margin: 0 0 12px 0;",
    "h4": "margin: 16px 0 8px 0; font-size: 17px; line-height: 1.35;",
    "blockquote": "margin: 0 0 12px 0; padding: 0px 0px 0px 12px; border-left: 3px solid #cfc8bb;",
    "pre": "white-space: pre-wrap; word-wrap: break-word;",
}
# The card's title is an h3: anything an item calls a heading sits below it.
DEMOTED_HEADINGS = {"h1", "h2", "h3"}


def mjml_safe(html: str) -> str:
    """Sanitised item HTML, well-formed for MRML and styled inline."""
    if not html:
        return ""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    for element in fragment.iter():
        _restyle(element)
    # Comments go: MRML must not see any inside the layout it builds.
    tokens = (token for token in _walker(fragment) if token["type"] != "Comment")
    return str(_serializer.render(tokens))


def _restyle(element: Element) -> None:
    if not isinstance(element.tag, str):
        return
    if element.tag in DEMOTED_HEADINGS:
        element.tag = "h4"
    style = INLINE_STYLES.get(element.tag)
    if style is not None:
        existing = element.get("style", "")
        element.set("style", f"{style} {existing}".strip())
