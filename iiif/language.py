"""Language values of every vintage turned into IIIF 3 language maps.

Presentation 2 writes ``"label": "text"``, ``{"@value": "text", "@language": "en"}`` or a
list of those; Presentation 3 writes ``{"en": ["text"]}``. All become ``{"en": ["text"]}``,
with ``"none"`` where no language is given.
"""

from __future__ import annotations

from typing import Any

from iiif._context import ReadContext, join
from iiif.html import sanitise_html, sanitise_value
from iiif.model import LanguageMap, MetadataEntry

NO_LANGUAGE = "none"


def _add(out: LanguageMap, language: str, text: str) -> None:
    values = out.setdefault(language, [])
    if text not in values:
        values.append(text)


def language_map(value: Any, path: str, ctx: ReadContext) -> LanguageMap:
    """Read a label, summary, metadata value...; every value is sanitised to IIIF's HTML
    subset (``iiif.html``: HTML values reduced to it, text kept as text unless it carries
    unsafe markup), with a warning for whatever was removed."""
    raw: LanguageMap = {}
    if ctx.version >= 3 and value is not None and not isinstance(value, dict):
        ctx.warn(path, 'Presentation 3 expects a language map such as {"en": ["..."]}, '
                       f"not a {type(value).__name__}")
    _collect(value, path, ctx, raw, depth=0)
    out: LanguageMap = {}
    for language, texts in raw.items():
        for text in texts:
            clean = clean_text(text, join(path, language), ctx)
            if clean:
                _add(out, language, clean)
    return out


def clean_text(text: str, path: str, ctx: ReadContext, *, html: bool | None = None) -> str:
    """``text`` sanitised by the IIIF rule (``html=True``: known to be HTML, e.g. a body
    with format text/html). What was removed is reported: as an error when it could have
    run script (the manifest then shows in ``loupe catalog problems``), else as a warning.
    "" when nothing is left."""
    result = sanitise_html(text) if html else sanitise_value(text)
    if result.removed:
        left = "" if result.text else "; nothing was left, so the value is dropped"
        report = ctx.error if result.unsafe else ctx.warn  # unsafe markup: the curator must see it
        report(path, f"{'unsafe ' if result.unsafe else ''}markup removed: {'; '.join(result.removed)}{left}"[:500])
    return result.text


def _collect(value: Any, path: str, ctx: ReadContext, out: LanguageMap, depth: int) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            _add(out, NO_LANGUAGE, value)
        return
    if isinstance(value, (bool, int, float)):
        ctx.warn(path, f"expected text, got {type(value).__name__} {value!r}; used as text")
        _add(out, NO_LANGUAGE, str(value))
        return
    if isinstance(value, list):
        if depth > 1:
            ctx.warn(path, "nested lists in a language value; ignored")
            return
        for i, item in enumerate(value):
            _collect(item, join(path, i), ctx, out, depth + 1)
        return
    if not isinstance(value, dict):
        ctx.warn(path, f"expected text, got {type(value).__name__}; ignored")
        return
    if "@value" in value or "@language" in value:  # Presentation 2 / JSON-LD value object
        text = value.get("@value")
        language = value.get("@language")
        if not isinstance(language, str) or not language.strip():
            language = NO_LANGUAGE
        if text is None:
            ctx.warn(path, "language value has no @value; ignored")
        elif isinstance(text, str):
            if text.strip():
                _add(out, language.strip(), text)
        else:
            ctx.warn(path, f"@value is not a string: {text!r}"[:200])
            _add(out, language.strip(), str(text))
        return
    # Presentation 3 language map.
    for language, texts in value.items():
        here = join(path, str(language))
        if not isinstance(language, str) or not language.strip():
            ctx.warn(here, "empty language code; 'none' used")
            language = NO_LANGUAGE
        elif language.strip() == "@none":
            ctx.warn(here, "language '@none' is not valid; 'none' used")
            language = NO_LANGUAGE
        if isinstance(texts, str):
            ctx.warn(here, "language map values must be lists of strings; a single string was given")
            texts = [texts]
        if not isinstance(texts, list):
            ctx.warn(here, f"language map value is not a list of strings: {texts!r}"[:200])
            continue
        for i, text in enumerate(texts):
            if isinstance(text, str):
                if text.strip():
                    _add(out, language.strip(), text)
            elif isinstance(text, (int, float)) and not isinstance(text, bool):
                ctx.warn(join(here, i), f"expected text, got number {text!r}; used as text")
                _add(out, language.strip(), str(text))
            else:
                ctx.warn(join(here, i), f"expected text, got {type(text).__name__}; ignored")


def pick(lmap: LanguageMap, prefer: tuple[str, ...] = ("en", NO_LANGUAGE), sep: str = "; ") -> str:
    """One plain string from a language map: the preferred languages in order, then the
    first language present; several values are joined with ``sep``."""
    for language in (*prefer, *lmap):
        if lmap.get(language):
            return _join(lmap[language], sep)
    return ""


def _join(texts: list[str], sep: str) -> str:
    """Values joined and sanitised again: two harmless text values can make unsafe markup
    together (``Title <iframe src=//x`` and ``x>``)."""
    joined = sep.join(texts)
    return sanitise_value(joined).text if len(texts) > 1 else joined


def metadata_entry(value: Any, path: str, ctx: ReadContext) -> MetadataEntry | None:
    """A ``{"label", "value"}`` pair (metadata item or requiredStatement)."""
    if not isinstance(value, dict):
        ctx.warn(path, f"metadata entry is not an object: {value!r}"[:200])
        return None
    label = language_map(value.get("label"), join(path, "label"), ctx)
    text = language_map(value.get("value"), join(path, "value"), ctx)
    if not label and not text:
        ctx.warn(path, "metadata entry has neither label nor value; ignored")
        return None
    if not label:
        ctx.warn(path, "metadata entry has no label")
    return MetadataEntry(label=label, value=text)


def metadata_list(value: Any, path: str, ctx: ReadContext) -> list[MetadataEntry]:
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.warn(path, "metadata must be a list")
        value = [value]
    entries = (metadata_entry(item, join(path, i), ctx) for i, item in enumerate(value))
    return [e for e in entries if e is not None]
