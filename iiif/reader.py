"""The tolerant IIIF reader: any parsed JSON value in, a ``ReadResult`` out, never an
exception.

Presentation 2.0/2.1 and 3.0 manifests, collections, annotation pages/lists, annotation
collections/layers and single annotations are read into ``iiif.model``; everything odd
becomes a ``Problem`` whose ``where`` is a path in the document (``items[2].items[0]``),
prefixed with the document URL when one is given. Presentation 4 drafts are read with
the 3.0 rules, best effort, with a warning.

A single Annotation document (e.g. a content-state annotation) is returned as an
``AnnotationPage`` with ``id=None`` holding that one annotation. An AnnotationCollection
(v2 ``sc:Layer``) is returned as an ``AnnotationPage`` with the collection's id and label,
``next`` pointing at its first page (or, when that page is embedded, holding its
annotations with ``next`` pointing at the page after it).
"""

from __future__ import annotations

import json
import re
from typing import Any

from iiif import _v2, _v3
from iiif._context import ReadContext, join
from iiif._values import as_list, clean_id, id_key, node_types, raw_id, reference_id, with_article
from iiif.annotations import page_is_embedded, parse_annotation, parse_annotation_page
from iiif.image_service import read_info_json, service_version
from iiif.language import language_map
from iiif.model import AnnotationPage, Problem, ReadResult

__all__ = ["read", "read_bytes", "read_info_json"]

_PRESENTATION_CONTEXT = re.compile(r"iiif\.io/api/presentation/(\d+)")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_MAX_PLACEHOLDER_PROBLEMS = 5
_DOCUMENT_TYPES = ("Manifest", "Collection", "AnnotationPage", "AnnotationList", "AnnotationCollection",
                   "Layer", "Annotation")
_ACTIVITY_TYPES = ("OrderedCollection", "OrderedCollectionPage", "Update", "Create", "Delete", "Add", "Remove",
                   "Refresh", "Move")
_PARTS = ("Canvas", "Sequence", "Range", "Image", "Timeline", "Scene", "SpecificResource", "Choice")


def read(doc: Any, url: str | None = None) -> ReadResult:
    """Read a parsed IIIF JSON document. ``url`` (where it came from) prefixes problem
    paths and stands in for a missing top-level id."""
    ctx = ReadContext(url=url.strip() if isinstance(url, str) and url.strip() else None)
    try:
        return _read(doc, ctx)
    except Exception as e:  # noqa: BLE001 - the reader's contract is to never raise
        ctx.error("", f"internal reader error ({type(e).__name__}: {e}); the document could not be read")
        return ReadResult(type="Unknown", version=None, resource=None, problems=ctx.problems)


def read_bytes(data: bytes | str, url: str | None = None) -> ReadResult:
    """Parse JSON (UTF-8) and read it; invalid JSON gives an ``Unknown`` result with one problem."""
    where = url.strip() if isinstance(url, str) and url.strip() else "document"
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            byte = bytes(data)[e.start:e.start + 1].hex()
            return _unreadable(where, f"not valid JSON: not UTF-8 text (byte 0x{byte} at offset {e.start})")
    elif isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        return _unreadable(where, f"not valid JSON: expected bytes or text, got {type(data).__name__}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return _unreadable(where, f"not valid JSON: line {e.lineno} column {e.colno}: {e.msg}")
    except RecursionError:
        return _unreadable(where, "not valid JSON: nested too deeply to parse")
    return read(doc, url)


def _unreadable(where: str, what: str) -> ReadResult:
    return ReadResult(type="Unknown", version=None, resource=None, problems=[Problem(where=where, what=what)])


def _unknown(ctx: ReadContext, version: int | None) -> ReadResult:
    return ReadResult(type="Unknown", version=version, resource=None, problems=ctx.problems)


def _check_placeholders(doc: Any, ctx: ReadContext) -> None:
    """Report unrendered template placeholders (``{{ page.major }}``) left by site builders."""
    found = 0
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((join(path, str(k)), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((join(path, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str) and ("{{" in value or "{%" in value):
            m = _PLACEHOLDER.search(value)
            if m:
                found += 1
                if found <= _MAX_PLACEHOLDER_PROBLEMS:
                    ctx.error(path, f"unrendered template placeholder {m.group()!r}: the document was published "
                                    "from a template that was never filled in")
    if found > _MAX_PLACEHOLDER_PROBLEMS:
        ctx.error("", f"{found - _MAX_PLACEHOLDER_PROBLEMS} more unrendered template placeholders")


def _detect_version(doc: dict, ctx: ReadContext, kind: str | None) -> int | None:
    """The Presentation major version from the ``@context``; guessed from the keys (with
    a warning) when the context does not say."""
    contexts = as_list(doc.get("@context"))
    strings = [c for c in contexts if isinstance(c, str)]
    for value in strings:
        m = _PRESENTATION_CONTEXT.search(value)
        if m:
            return int(m.group(1))
    # Content Search responses: v1 are Presentation 2 lists, v2 are Presentation 3 pages.
    if any("iiif.io/api/search/1" in c for c in strings):
        return 2
    if any("iiif.io/api/search/2" in c or "w3.org/ns/anno.jsonld" in c for c in strings):
        return 3
    if kind is None or kind in _ACTIVITY_TYPES:
        return None
    guess = 2 if ("@id" in doc or "@type" in doc) else 3
    usable = [c for c in contexts if isinstance(c, str) and c.strip()]
    if not usable:
        ctx.warn("@context", f"no IIIF Presentation @context; read as Presentation {guess}")
    elif not any(_PLACEHOLDER.search(c) for c in usable):
        ctx.warn("@context", f"unrecognised @context {usable[0]!r}; read as Presentation {guess}")
    return guess


def _guess_type(doc: dict) -> str | None:
    if "sequences" in doc:
        return "Manifest"
    if "manifests" in doc or "collections" in doc:
        return "Collection"
    if "resources" in doc:
        return "AnnotationList"
    return None


def _read(doc: Any, ctx: ReadContext) -> ReadResult:
    if not isinstance(doc, dict):
        kind = "null" if doc is None else type(doc).__name__
        ctx.error("", f"a IIIF document must be a JSON object, not {kind}")
        return _unknown(ctx, None)
    _check_placeholders(doc, ctx)
    types = node_types(doc)
    kind = next((t for t in types if t in _DOCUMENT_TYPES), types[0] if types else None)
    type_key = "@type" if "@type" in doc and "type" not in doc else "type"
    if kind is None and service_version(doc) is not None and ("width" in doc or "protocol" in doc):
        ctx.error("", "this is an Image API info.json, not a Presentation document; read it with read_info_json")
        return _unknown(ctx, None)
    if kind is None:
        guessed = _guess_type(doc)
        if guessed is None:
            ctx.error(type_key, "document has no type (@type/type); it is not a IIIF Presentation resource")
            return _unknown(ctx, _detect_version(doc, ctx, None))
        ctx.error(type_key, f"document has no type; read as a {guessed} because of its properties")
        kind = guessed
    version = _detect_version(doc, ctx, kind)
    ctx.version = version or 3
    if kind in _ACTIVITY_TYPES:
        ctx.error(type_key, f"{kind} is an IIIF Change Discovery (Activity Streams) document, not a Presentation "
                            "resource; harvest it as a Change Discovery source")
        return _unknown(ctx, None)
    if kind.startswith("ImageService"):
        ctx.error(type_key, "this is an Image API info.json, not a Presentation document; read it with read_info_json")
        return _unknown(ctx, None)
    if kind in ("TermList", "TermPage"):
        ctx.error(type_key, f"{kind} is a Content Search autocomplete response, not a Presentation resource")
        return _unknown(ctx, None)
    if kind not in _DOCUMENT_TYPES:
        if kind in _PARTS:
            ctx.error(type_key, f"{with_article(kind)} on its own is not read; read the manifest that contains it")
        else:
            ctx.error(type_key, f"unknown document type {kind!r}")
        return _unknown(ctx, version)
    if version is not None and version >= 4:
        ctx.warn("@context", f"Presentation {version} is a draft, not supported; read with the 3.0 rules, best effort")
    elif version is not None and version not in (2, 3):
        ctx.warn("@context", f"unknown Presentation version {version}; read with the {ctx.version} rules")
    v2 = ctx.version == 2
    if kind == "Manifest":
        manifest = _v2.read_manifest(doc, "", ctx) if v2 else _v3.read_manifest(doc, "", ctx)
        return ReadResult(type="Manifest", version=version, resource=manifest, problems=ctx.problems)
    if kind == "Collection":
        collection = _v2.read_collection(doc, "", ctx) if v2 else _v3.read_collection(doc, "", ctx)
        return ReadResult(type="Collection", version=version, resource=collection, problems=ctx.problems)
    if kind in ("AnnotationPage", "AnnotationList"):
        if kind == "AnnotationList" and not v2:
            ctx.warn(type_key, "AnnotationList is Presentation 2 vocabulary")
        page = parse_annotation_page(doc, "", ctx)
        return ReadResult(type="AnnotationPage", version=version, resource=page, problems=ctx.problems)
    if kind in ("AnnotationCollection", "Layer"):
        return ReadResult(type="AnnotationCollection", version=version,
                          resource=_annotation_collection(doc, ctx), problems=ctx.problems)
    annotation = parse_annotation(doc, "", ctx)
    page = AnnotationPage(id=None, annotations=[annotation] if annotation else [])
    return ReadResult(type="AnnotationPage", version=version, resource=page, problems=ctx.problems)


def _annotation_collection(doc: dict, ctx: ReadContext) -> AnnotationPage:
    ident = clean_id(raw_id(doc), id_key(doc), ctx, kind="annotation collection")
    label = language_map(doc.get("label"), "label", ctx)
    first = doc.get("first")
    if first is None:
        lists = [reference_id(x) for x in as_list(doc.get("otherContent"))]
        lists = [x for x in lists if x]
        if len(lists) > 1:
            ctx.warn("otherContent", f"layer lists {len(lists)} annotation lists; only the first is followed")
        if not lists:
            ctx.warn("first", "annotation collection has no first page")
        return AnnotationPage(id=ident, next=lists[0] if lists else None, label=label)
    if page_is_embedded(first):
        page = parse_annotation_page(first, "first", ctx)
        return AnnotationPage(id=ident, annotations=page.annotations, next=page.next, label=label)
    first_id = reference_id(first)
    if first_id is None:
        ctx.error("first", "first page has no id")
    return AnnotationPage(id=ident, next=first_id, label=label)
