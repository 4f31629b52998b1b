"""Annotations of Presentation 2 (``oa:Annotation`` with ``resource`` and ``on``) and 3
(W3C ``Annotation`` with ``body`` and ``target``) read into ``Annotation``s, and their
pages (v3 ``AnnotationPage``, v2 ``sc:AnnotationList``).

Motivations are given v3 names (``sc:painting`` -> ``painting``, ``oa:commenting`` ->
``commenting``). Bodies without an explicit ``purpose`` take the annotation's motivation
as purpose, so that a tagging annotation's text is a tag (``Body.type == "Tag"``).
"""

from __future__ import annotations

from typing import Any

from iiif._context import ReadContext, join
from iiif._values import (
    as_list,
    clean_id,
    first_string,
    id_key,
    is_absolute_uri,
    node_type,
    node_types,
    raw_id,
    reference_id,
    reference_ids,
)
from iiif.html import LINK_SCHEMES, SCRIPT_SCHEMES, is_safe_url, url_scheme
from iiif.language import clean_text, language_map
from iiif.model import Annotation, AnnotationPage, Body
from iiif.selectors import parse_target

# W3C Web Annotation motivations plus the IIIF ones.
MOTIVATIONS = frozenset({
    "painting", "supplementing", "commenting", "tagging", "identifying", "describing", "linking",
    "classifying", "assessing", "bookmarking", "editing", "highlighting", "moderating",
    "questioning", "replying", "contentState",
})
_CANONICAL = {m.lower(): m for m in MOTIVATIONS}
_TEXT_TYPES = {"TextualBody", "ContentAsText"}
# Schemes kept for a body's id or source (identifying and linking bodies name things by URI).
LINK_ID_SCHEMES = LINK_SCHEMES | frozenset({"urn", "doi", "info", "tag"})


def normalise_motivation(value: Any) -> str | None:
    """``"sc:painting"`` -> ``"painting"``; ``None`` for non-strings."""
    if not isinstance(value, str) or not value.strip():
        return None
    name = value.strip()
    if name.startswith(("http://", "https://")):
        name = name.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    elif ":" in name:
        name = name.split(":", 1)[1]
    return _CANONICAL.get(name.lower(), name)


def motivations_of(obj: dict, path: str, ctx: ReadContext) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(as_list(obj.get("motivation"))):
        name = normalise_motivation(raw)
        here = join(path, "motivation")
        if name is None:
            ctx.warn(here, f"motivation is not a string: {raw!r}"[:200])
            continue
        if name not in MOTIVATIONS:
            ctx.warn(here, f"unknown motivation {raw!r}")
        if name not in out:
            out.append(name)
    return out


def _purpose(value: Any) -> str | None:
    return normalise_motivation(first_string(value))


def _language(value: Any) -> str | None:
    if isinstance(value, dict):  # v2 {"@value", "@language"} style language objects are rare
        value = value.get("@value")
    return first_string(value)


def parse_bodies(value: Any, path: str, ctx: ReadContext, motivations: list[str]) -> list[Body]:
    """Bodies of one annotation; Choices are flattened (each option becomes a body)."""
    inherited = motivations[0] if len(motivations) == 1 else None
    out: list[Body] = []
    items = as_list(value)
    for i, item in enumerate(items):
        here = join(path, i) if isinstance(value, list) else path
        out.extend(_body(item, here, ctx, inherited))
    return out


def _body(item: Any, path: str, ctx: ReadContext, inherited: str | None) -> list[Body]:
    if isinstance(item, str):
        text = item.strip()
        if not text:
            return []
        if is_absolute_uri(text) and " " not in text:
            link = _safe_link(text, path, ctx)
            return [Body(type="SpecificResource", id=link, purpose=inherited)] if link else []
        ctx.warn(path, "body is a bare string that is not a URI; read as text")
        text = _clean_body_text(text, None, path, ctx)
        return [_text_body(text, None, None, inherited)] if text else []
    if not isinstance(item, dict):
        ctx.error(path, f"body is not an object or URI: {item!r}"[:200])
        return []
    types = node_types(item)
    kind = types[0] if types else None
    purpose = _purpose(item.get("purpose")) or inherited
    if kind == "Choice":
        bodies: list[Body] = []
        for key in ("default", "item", "items"):
            options = item.get(key)
            for i, option in enumerate(as_list(options)):
                here = join(join(path, key), i) if isinstance(options, list) else join(path, key)
                if option != "rdf:nil":
                    bodies.extend(_body(option, here, ctx, purpose))
        return bodies
    text = item.get("value", item.get("chars"))
    if "Tag" in types:
        fmt = first_string(item.get("format"))
        if isinstance(text, str):
            text = _clean_body_text(text, fmt, join(path, "value"), ctx)
        if not isinstance(text, str) or not text.strip():
            ctx.warn(path, "tag has no text; ignored")
            return []
        return [Body(type="Tag", value=text, language=_language(item.get("language")),
                     format=fmt, purpose="tagging")]
    ident = _safe_link(raw_id(item), path, ctx)
    if (set(types) & _TEXT_TYPES) or (kind in (None, "Text") and isinstance(text, str) and ident is None):
        if isinstance(text, dict):  # {"@value": ...} as chars
            text = text.get("@value")
        if not isinstance(text, str):
            ctx.warn(path, "textual body has no text; ignored")
            return []
        language = _language(item.get("language", item.get("@language")))
        fmt = first_string(item.get("format"))
        text = _clean_body_text(text, fmt, join(path, "value" if "value" in item else "chars"), ctx)
        if not text:
            return []
        return [_text_body(text, language, fmt, purpose, ident)]
    if kind == "SpecificResource":
        source = item.get("source", item.get("full"))
        source_id = _safe_link(reference_id(source), join(path, "source"), ctx) or ident
        if not source_id:
            ctx.warn(path, "SpecificResource body has no source; ignored")
            return []
        return [Body(type="SpecificResource", id=source_id, purpose=purpose,
                     format=first_string(item.get("format")))]
    if ident is None:
        ctx.warn(path, f"body of type {kind or '(none)'} has neither an id nor text; ignored")
        return []
    return [Body(type=kind or "SpecificResource", id=ident, purpose=purpose,
                 format=first_string(item.get("format")), language=_language(item.get("language")))]


def _clean_body_text(text: str, fmt: str | None, path: str, ctx: ReadContext) -> str:
    """A body's text sanitised: as HTML when its format says text/html, else by the IIIF
    rule (HTML when it looks like HTML). "" when nothing is left (the body is dropped)."""
    is_html = (fmt or "").split(";", 1)[0].strip().lower() == "text/html"
    clean = clean_text(text, path, ctx, html=is_html or None)
    if text.strip() and not clean:
        ctx.warn(path, "annotation body has no text left after sanitising; ignored")
    return clean


def _safe_link(value: object, path: str, ctx: ReadContext) -> str | None:
    """A body's id or source as a link viewers may follow: dropped with a warning when its
    scheme can run code (``javascript:``, ``data:``...; only http, https, mailto, urn, doi,
    info and tag are kept) or is not a scheme at all."""
    if not isinstance(value, str) or not value.strip():
        return None
    link = value.strip()
    if is_safe_url(link, LINK_ID_SCHEMES):
        return link
    report = ctx.error if url_scheme(link) in SCRIPT_SCHEMES else ctx.warn
    report(path, f"annotation body link {link[:100]!r} has an unsafe or unknown scheme; dropped")
    return None


def _text_body(text: str, language: str | None, fmt: str | None, purpose: str | None,
               ident: str | None = None) -> Body:
    if purpose == "tagging":
        return Body(type="Tag", value=text, language=language, format=fmt, purpose="tagging", id=ident)
    return Body(type="TextualBody", value=text, language=language, format=fmt, purpose=purpose, id=ident)


def _creator(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, str) and item.strip():
            return item.strip()
        if isinstance(item, dict):
            for key in ("name", "nickname", "label", "id", "@id"):
                found = item.get(key)
                if isinstance(found, str) and found.strip():
                    return found.strip()
                if isinstance(found, dict):  # a language map as the name
                    texts = [t for ts in found.values() if isinstance(ts, list) for t in ts if isinstance(t, str)]
                    if texts:
                        return texts[0]
    return None


def parse_annotation(obj: Any, path: str, ctx: ReadContext, *, default_target: str | None = None) -> Annotation | None:
    """One annotation; ``default_target`` is used (with a warning) when it has none."""
    if isinstance(obj, str):
        ctx.error(path, f"annotation given only by reference ({obj!r}); annotations must be embedded")
        return None
    if not isinstance(obj, dict):
        ctx.error(path, f"annotation is not an object: {obj!r}"[:200])
        return None
    kind = node_type(obj)
    if kind not in (None, "Annotation"):
        ctx.warn(path, f"expected an Annotation, found type {kind!r}")
    ident = clean_id(raw_id(obj), join(path, id_key(obj)), ctx, kind="annotation", required=False)
    if ident is None and ctx.version >= 3 and raw_id(obj) is None:
        ctx.warn(path, "annotation has no id")
    if ident:
        ctx.register_id(ident, path, "annotation")
    motivations = motivations_of(obj, path, ctx)
    body_key = "body" if "body" in obj else "resource"
    bodies = parse_bodies(obj.get(body_key), join(path, body_key), ctx, motivations)
    if "bodyValue" in obj and isinstance(obj["bodyValue"], str):
        inherited = motivations[0] if len(motivations) == 1 else None
        text = _clean_body_text(obj["bodyValue"], "text/plain", join(path, "bodyValue"), ctx)
        if text:
            bodies.append(_text_body(text, None, "text/plain", inherited))
    target_key = "target" if "target" in obj else "on"
    raw_target = obj.get(target_key)
    if raw_target is None:
        targets = []
        if default_target:
            ctx.warn(path, f"annotation has no target; assuming {default_target}")
            targets = parse_target(default_target, path, ctx)
        else:
            ctx.error(path, "annotation has no target")
    else:
        targets = parse_target(raw_target, join(path, target_key), ctx)
    creator = _creator(obj.get("creator"))
    if creator:
        creator = clean_text(creator, join(path, "creator"), ctx) or None
    return Annotation(id=ident, motivations=motivations, bodies=bodies, targets=targets,
                      creator=creator, created=first_string(obj.get("created")))


def page_is_embedded(obj: Any) -> bool:
    """Whether an AnnotationPage/List value carries its annotations (else it is a reference)."""
    return isinstance(obj, dict) and ("items" in obj or "resources" in obj)


def parse_annotation_page(obj: dict, path: str, ctx: ReadContext, *,
                          default_target: str | None = None) -> AnnotationPage:
    """An embedded or top-level AnnotationPage (v3 ``items``) or AnnotationList (v2 ``resources``)."""
    ident = clean_id(raw_id(obj), join(path, id_key(obj)), ctx, kind="annotation page", required=False)
    if ident:
        ctx.register_id(ident, path, "annotation page")
    key = "items" if "items" in obj else "resources"
    raw_items = obj.get(key)
    if raw_items is None:
        raw_items = []
    elif not isinstance(raw_items, list):
        ctx.warn(join(path, key), f"{key} must be a list")
        raw_items = [raw_items]
    annotations = []
    for i, item in enumerate(raw_items):
        ann = parse_annotation(item, join(join(path, key), i), ctx, default_target=default_target)
        if ann is not None:
            annotations.append(ann)
    part_key = "partOf" if "partOf" in obj else "within"
    part_of = reference_ids(obj.get(part_key), join(path, part_key), ctx, part_key)
    next_ref = reference_id(obj.get("next"))
    return AnnotationPage(id=ident, annotations=annotations, next=next_ref, part_of=part_of[0] if part_of else None,
                          label=language_map(obj.get("label"), join(path, "label"), ctx))
