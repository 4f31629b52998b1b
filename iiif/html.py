"""The small HTML subset IIIF allows in descriptive text, enforced: values are sanitised.

Presentation 2.1 and 3.0: a value that starts with ``<`` and ends with ``>`` is HTML,
limited to ``a b br i img p small span sub sup``, with no attributes but ``href`` (on
``a``), ``src`` and ``alt`` (on ``img``), and without scripts, comments or CDATA; any other
value is plain text. Viewers render the HTML (Mirador does, for annotation bodies too), so
whatever Loupe reads is reduced to that subset here, at the boundary, and nothing
downstream ever holds unsafe markup.

``sanitise_value`` applies the IIIF rule to one value:

* **HTML** (after trimming whitespace and invisible characters at both ends, which some
  consumers trim and others do not): parsed with the standard library's tolerant HTML
  parser and written out again from the allowed elements and attributes only, text
  escaped, attribute values quoted. Elements outside the subset are removed, their text
  kept, except for those whose content is code or another document (``script``,
  ``style``, ``iframe``, ``svg``...), which go whole. URLs must be ``http``, ``https``
  (``mailto`` for links) or relative, judged after entity decoding and after removing the
  tabs, newlines and control characters browsers ignore, so ``jav&#x09;ascript:`` is
  caught. The result is written back as IIIF HTML (wrapped in ``<span>`` when the text no
  longer starts and ends with a tag), and sanitising it again changes nothing.
* **Text** stays text, character for character, so ``a < b`` and ``Artist: <unknown>``
  stay readable, unless it carries markup that would be unsafe if a consumer rendered it
  as HTML anyway (a script, an event handler, a ``javascript:`` URL, a comment...). Such a
  value is treated as the HTML it was meant to be, sanitised and wrapped in ``<span>``.

Every removal is reported (``Sanitised.removed``) so that a curator learns that a record
carried unsafe or invalid markup. No I/O; the parser never fetches or resolves anything.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

ALLOWED_ELEMENTS = frozenset({"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"})
ALLOWED_ATTRIBUTES = {"a": frozenset({"href"}), "img": frozenset({"src", "alt"})}
VOID_ELEMENTS = frozenset({"br", "img"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
# URL schemes that run code or carry a document of their own.
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "livescript", "data", "mocha"})

# Elements whose content is code, another document or foreign markup: dropped whole.
_DROP_WITH_CONTENT = frozenset({
    "script", "style", "template", "iframe", "object", "applet", "noscript", "noembed", "noframes",
    "xmp", "svg", "math", "textarea", "title", "select", "frameset", "head",
})
# Elements that are unsafe in themselves (code, embedding, navigation, forms, raw text);
# finding one in a *text* value makes it be sanitised as HTML.
UNSAFE_ELEMENTS = _DROP_WITH_CONTENT | frozenset({
    "embed", "frame", "base", "link", "meta", "form", "input", "button", "option", "isindex", "keygen",
    "plaintext", "listing", "portal", "param", "video", "audio", "source", "track", "image", "bgsound",
    "marquee", "html", "body", "xml", "import", "layer", "ilayer", "dialog",
})
# Attributes that run code whatever their value, and those a browser reads as URLs.
_UNSAFE_ATTRIBUTES = frozenset({"style", "srcdoc"})
_URL_VALUED = frozenset({"href", "src", "action", "formaction", "background", "cite", "codebase", "data", "dynsrc",
                         "lowsrc", "longdesc", "poster", "srcset", "xlink:href", "usemap", "profile", "manifest",
                         "icon", "ping", "archive", "classid"})

_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
# A second, cruder opinion on text values, for parsers that read a tag differently from
# ours (old browsers, hand-written ones): anything in a tag that looks like a handler, a
# script URL or a style reference counts as unsafe too.
_TAG_TEXT = re.compile(r"<[A-Za-z/!?][^>]*>?")
_RISKY_IN_TAG = re.compile(r"\bon[a-z]+\s*=|(?:java|vb|live)script\s*:|=\s*[\"'`]?\s*data\s*:|expression\s*\(|url\s*\(|&\{",
                           re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_URL_IGNORED = re.compile(r"[\t\n\r]")  # browsers remove these anywhere in a URL


def unwind(stack: list[str], tag: str) -> None:
    """End ``tag`` on a stack of elements being dropped (and any left open inside it)."""
    if tag in stack:
        while stack and stack.pop() != tag:
            pass


def close_element(open_: list[str], out: list[str], tag: str) -> None:
    """Write the end of ``tag`` and of the elements still open inside it; an end tag with no
    open element is dropped (the output stays well formed)."""
    if tag in open_:
        while open_:
            top = open_.pop()
            out.append(f"</{top}>")
            if top == tag:
                break


@dataclass(frozen=True)
class Sanitised:
    """One value after sanitising: ``text`` ("" when nothing is left), whether it is HTML,
    and what was removed (human-readable reasons, each once; empty when nothing was)."""

    text: str
    is_html: bool
    removed: tuple[str, ...] = ()
    unsafe: bool = False  # something removed was dangerous, not merely outside the subset


# --- URLs --------------------------------------------------------------------------------

def url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (lower case), "" for a relative URL, or
    None when the text before the first ``:`` is no valid scheme (not a usable URL).

    Tabs and newlines anywhere and control characters and spaces at the ends are ignored,
    as the WHATWG URL parser does; entities must be decoded by the caller."""
    cleaned = _URL_IGNORED.sub("", url).strip("".join(map(chr, range(0x21))))
    head = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    if ":" not in head:
        return ""
    scheme = head.split(":", 1)[0]
    return scheme.lower() if _SCHEME.fullmatch(scheme) else None


def is_safe_url(url: str, schemes: frozenset[str] = LINK_SCHEMES, *, relative: bool = True) -> bool:
    """Whether ``url`` uses one of ``schemes`` (or is relative, when ``relative``)."""
    scheme = url_scheme(url)
    return scheme in schemes or (relative and scheme == "")


# --- detection ---------------------------------------------------------------------------

def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def trim_invisible(text: str) -> str:
    """``text`` without whitespace, control and format characters (BOM, zero-width space,
    bidi marks) at either end: a consumer that trims more than we do must not see HTML
    where we saw text."""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def looks_like_html(text: str) -> bool:
    """The IIIF rule: HTML when it starts with ``<`` and ends with ``>`` (trimmed)."""
    stripped = trim_invisible(text)
    return stripped.startswith("<") and stripped.endswith(">")


# --- the sanitiser -----------------------------------------------------------------------

class _Sanitiser(HTMLParser):
    """Re-writes a fragment from parser events, keeping only what is allowed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # allowed elements open in the output
        self.dropping: list[str] = []  # elements whose content is being dropped
        self.removed: dict[str, None] = {}
        self.unsafe = False

    def _remove(self, reason: str, unsafe: bool) -> None:
        self.removed.setdefault(reason, None)
        self.unsafe = self.unsafe or unsafe

    # elements
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.dropping:
            if tag in _DROP_WITH_CONTENT and not closed:
                self.dropping.append(tag)
            return
        if tag not in ALLOWED_ELEMENTS:
            unsafe = tag in UNSAFE_ELEMENTS
            self._remove(f"unsafe HTML element <{tag}>" if unsafe else
                         f"HTML element <{tag}> is not allowed (only {', '.join(sorted(ALLOWED_ELEMENTS))})",
                         unsafe)
            self._check_attributes(tag, attrs, allowed=frozenset())
            if tag in _DROP_WITH_CONTENT and not closed:
                self.dropping.append(tag)
            return
        kept = self._check_attributes(tag, attrs, allowed=ALLOWED_ATTRIBUTES.get(tag, frozenset()))
        rendered = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in kept)
        self.out.append(f"<{tag}{rendered}>")
        if tag not in VOID_ELEMENTS:
            if closed:
                self.out.append(f"</{tag}>")
            else:
                self.open.append(tag)

    def _check_attributes(self, tag: str, attrs: list[tuple[str, str | None]],
                          allowed: frozenset[str]) -> list[tuple[str, str]]:
        kept: list[tuple[str, str]] = []
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self._remove(f"unsafe HTML event handler attribute {name!r}", True)
            elif name in _UNSAFE_ATTRIBUTES:
                self._remove(f"unsafe HTML attribute {name!r}", True)
            elif name in _URL_VALUED and (not is_safe_url(value, IMAGE_SCHEMES if name == "src" else LINK_SCHEMES)
                                          or _RISKY_IN_TAG.search(_URL_IGNORED.sub("", value))):
                self._remove(f"unsafe URL in HTML attribute {name!r}", True)
            elif name not in allowed:
                self._remove(f"HTML attribute {name!r} is not allowed on <{tag}>", False)
            elif any(existing == name for existing, _ in kept):
                continue
            else:
                kept.append((name, value))
        return kept

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            unwind(self.dropping, tag)
            return
        close_element(self.open, self.out, tag)

    # text
    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def _unterminated_tail(self) -> None:
        """The parser keeps an unfinished tag at the end unparsed and would emit it as text;
        a browser drops it. Dropped here too, and reported (as unsafe when it could act)."""
        tail = _TAG_LIKE.search(self.rawdata)
        if tail is None or self.dropping:
            return
        self._remove("unterminated HTML tag at the end", _tail_is_unsafe(self.rawdata[tail.start():]))
        self.rawdata = self.rawdata[:tail.start()]

    # everything else goes
    def handle_comment(self, data: str) -> None:
        self._remove("HTML comments are not allowed", True)

    def handle_decl(self, decl: str) -> None:
        self._remove("HTML declarations are not allowed", True)

    def unknown_decl(self, data: str) -> None:
        self._remove("CDATA sections are not allowed" if data.upper().startswith("CDATA[")
                     else "HTML declarations are not allowed", True)

    def handle_pi(self, data: str) -> None:
        self._remove("processing instructions are not allowed", True)

    def result(self) -> str:
        self._unterminated_tail()
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def _tail_is_unsafe(tail: str) -> bool:
    """Whether an unterminated tag at the very end (``<iframe src=//x``) could act if a
    consumer put the text into its own markup, which would close the tag for it."""
    name = re.match(r"</?([A-Za-z][^\s/>]*)", tail)
    return (tail[1:2] in ("!", "?") or "=" in tail or
            (name is not None and name.group(1).lower() in UNSAFE_ELEMENTS))


def sanitise_html(text: str) -> Sanitised:
    """``text`` as IIIF HTML: only the allowed subset, written back canonically."""
    parser = _Sanitiser()
    parser.feed(trim_invisible(text))
    clean = parser.result()
    if trim_invisible(clean) and not looks_like_html(clean):
        clean = f"<span>{clean}</span>"  # still HTML, so escaped characters read right
    elif not trim_invisible(clean):
        clean = ""
    return Sanitised(clean, True, tuple(parser.removed), parser.unsafe)


def sanitise_value(text: str) -> Sanitised:
    """One descriptive value by the IIIF rule (see the module docstring)."""
    if looks_like_html(text):
        return sanitise_html(text)
    if not _TAG_LIKE.search(text):
        return Sanitised(text, False)
    probe = sanitise_html(text)
    if not probe.unsafe and not _risky_tags(text):
        return Sanitised(text, False)  # markup-like but harmless: kept as the text it is
    return Sanitised(probe.text, True, probe.removed or ("markup that could run script",), True)


def _risky_tags(text: str) -> bool:
    return any(_RISKY_IN_TAG.search(_URL_IGNORED.sub("", html.unescape(m.group())))
               for m in _TAG_TEXT.finditer(text))


def html_issues(text: str) -> list[str]:
    """Why ``text`` is not acceptable IIIF HTML (empty if it is, or if it is harmless text)."""
    if not isinstance(text, str):
        return []
    return list(sanitise_value(text).removed)
