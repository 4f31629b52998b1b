"""SVG selectors reduced to geometry, so that none carries script.

An ``SvgSelector`` value is a whole SVG document that viewers insert into the page (Mirador
draws it with paper.js, others as inline SVG), so a hostile one can carry ``<script>``,
``onload=``, ``<foreignObject>`` with HTML, ``<a xlink:href="javascript:...">`` or
``<animate>``/``<set>`` that rewrite an ``href``. Loupe needs only the outline, so the
value is written back from an allowlist: the shape elements and ``svg``/``g``, with
geometry and presentation attributes whose values are numbers, path data, colours or
transforms; no text, comments, CDATA, URLs, ``url(...)`` references or ``style``. What
could act (scripts, handlers, links, animations, foreign content) is reported; what
annotation tools write routinely (``data-paper-data``, ``style``, namespaces) goes silently.
Tag and attribute names are matched case-insensitively and written in SVG's spelling
(``viewBox``). Parsed with the standard library's HTML parser, which resolves nothing.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from .html import close_element, unwind

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ALLOWED_ELEMENTS = frozenset({"svg", "g", "path", "polygon", "polyline", "rect", "circle", "ellipse", "line"})
# Lower-case name (as the parser reports it) -> SVG spelling.
ALLOWED_ATTRIBUTES = {name.lower(): name for name in (
    "viewBox", "preserveAspectRatio", "width", "height", "x", "y", "cx", "cy", "r", "rx", "ry",
    "x1", "y1", "x2", "y2", "d", "points", "transform", "pathLength", "id", "class",
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity",
    "vector-effect", "version",
)}
# Removed with everything inside them (code, text, HTML, definitions that are not drawn);
# other elements outside the allowlist (``a``, ``switch``...) are removed but their
# allowed children kept.
_DROP_WITH_CONTENT = frozenset({
    "script", "style", "foreignobject", "title", "desc", "metadata", "text", "iframe", "template",
    "noscript", "defs", "symbol", "clippath", "mask", "pattern", "marker", "lineargradient", "radialgradient",
})
# Removed without a word: what annotation tools write routinely and is harmless.
_BENIGN_ELEMENTS = frozenset({"title", "desc", "metadata", "defs", "symbol", "clippath", "mask", "pattern",
                              "marker", "lineargradient", "radialgradient", "stop", "text", "tspan", "switch"})
_RISKY_STYLE = re.compile(r"url\s*\(|expression|javascript|@import|behavior|binding", re.IGNORECASE)
# Numbers, path commands, colour names and #hex, percentages, transform functions: nothing
# that can name a URL (no ":" or "/"), escape a value or reference another resource.
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_#%.,+\-\s()]*")
_REFERENCE = re.compile(r"url\s*\(|expression\s*\(", re.IGNORECASE)


class _SvgSanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skipping: list[str] = []  # removed elements whose content goes too
        self.removed: dict[str, None] = {}

    def _remove(self, reason: str) -> None:
        self.removed.setdefault(reason, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.skipping or tag not in ALLOWED_ELEMENTS:
            if not self.skipping and tag not in _BENIGN_ELEMENTS:
                self._remove(f"SVG element <{tag}>")
            if not closed and (self.skipping or tag in _DROP_WITH_CONTENT):
                self.skipping.append(tag)
            return
        kept: dict[str, str] = {}
        for name, value in attrs:
            spelled = ALLOWED_ATTRIBUTES.get(name)
            value = value or ""
            if spelled is None:
                # Reported when it could act (handlers, links, styles with references);
                # namespace declarations, data-* and the like go silently.
                if (name.startswith("on") or "href" in name or
                        (name == "style" and _RISKY_STYLE.search(value))):
                    self._remove(f"SVG attribute {name!r}")
            elif not _SAFE_VALUE.fullmatch(value) or _REFERENCE.search(value):
                self._remove(f"SVG attribute {name!r} with a value that is not plain geometry")
            else:
                kept.setdefault(spelled, value)
        if tag == "svg":
            kept = {"xmlns": SVG_NAMESPACE, **kept}
        rendered = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in kept.items())
        if closed:
            self.out.append(f"<{tag}{rendered}/>")
        else:
            self.out.append(f"<{tag}{rendered}>")
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            unwind(self.skipping, tag)
            return
        close_element(self.open, self.out, tag)

    def handle_comment(self, data: str) -> None:
        self._remove("SVG comments")

    def handle_decl(self, decl: str) -> None:
        self._remove("declarations (DOCTYPE, entities)")

    def unknown_decl(self, data: str) -> None:
        self._remove("CDATA sections")

    def handle_pi(self, data: str) -> None:
        if not data.lower().startswith("xml "):  # the XML declaration is harmless; dropped silently
            self._remove("processing instructions")

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitise_svg(svg: str) -> tuple[str, list[str]]:
    """The SVG rewritten from its allowed geometry, and what was removed (each once)."""
    parser = _SvgSanitiser()
    parser.feed(svg)
    return parser.result(), list(parser.removed)
