"""Checks on the small HTML subset that IIIF allows in descriptive text.

Both Presentation 2.1 and 3.0 say that a value starting with ``<`` and ending with ``>`` is
HTML, limited to ``a b br i img p small span sub sup``, without scripts, event handlers or
comments. The reader reports violations as warnings; sanitising for display is the
viewer's job, but a curator should learn that a record carries unsafe markup.
"""

from __future__ import annotations

import re

ALLOWED_ELEMENTS = frozenset({"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"})
_UNSAFE_ELEMENTS = frozenset({"script", "style", "iframe", "object", "embed", "form", "link", "meta", "base"})
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9:-]*)([^<>]*)>")
_ATTR = re.compile(r"""([^\s"'=<>/]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


def looks_like_html(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("<") and stripped.endswith(">")


def html_issues(text: str) -> list[str]:
    """Human-readable reasons why ``text`` is not acceptable IIIF HTML (empty if it is, or
    if it is plain text)."""
    if not isinstance(text, str) or not looks_like_html(text):
        return []
    issues: list[str] = []
    if "<!--" in text:
        issues.append("HTML comments are not allowed")
    for m in _TAG.finditer(text):
        name = m.group(1).lower()
        if name in _UNSAFE_ELEMENTS:
            issues.append(f"unsafe HTML element <{name}>")
        elif name not in ALLOWED_ELEMENTS:
            issues.append(f"HTML element <{name}> is not allowed "
                          f"(only {', '.join(sorted(ALLOWED_ELEMENTS))})")
        for attr in _ATTR.finditer(m.group(2)):
            attr_name = attr.group(1).lower()
            value = (attr.group(2) or "").strip("'\"").strip().lower()
            if attr_name.startswith("on"):
                issues.append(f"unsafe HTML event handler attribute {attr_name!r}")
            elif value.startswith(("javascript:", "vbscript:", "data:text/html")):
                issues.append(f"unsafe URL in HTML attribute {attr_name!r}")
    seen: set[str] = set()
    return [i for i in issues if not (i in seen or seen.add(i))]
