"""Presentation 2.0 / 2.1: manifests (first sequence), canvases and collections, upgraded
on the way in: ``description`` -> summary, ``attribution`` -> requiredStatement,
``license`` -> rights, ``logo`` -> a provider, ``related`` -> homepage, ``within`` -> partOf."""

from __future__ import annotations

from typing import Any

from iiif._common import V2_VIEWING_HINTS, VIEWING_DIRECTIONS, canvas_id, check_canvas, check_enum, own_id, paint
from iiif._context import ReadContext, join
from iiif._v3 import canvas_sizes
from iiif._values import (
    as_list,
    first_string,
    id_key,
    is_absolute_uri,
    node_type,
    raw_id,
    reference_id,
    reference_ids,
    rights_uri,
    split_fragment,
    to_float,
    to_int,
)
from iiif.annotations import page_is_embedded, parse_annotation_page
from iiif.image_service import service_blocks
from iiif.language import language_map, metadata_list
from iiif.model import Agent, Canvas, Collection, Manifest, MetadataEntry, Reference

ATTRIBUTION_LABEL = {"none": ["Attribution"]}


def _descriptive(doc: dict, path: str, ctx: ReadContext, kind: str) -> dict:
    label = language_map(doc.get("label"), join(path, "label"), ctx)
    if not label:
        ctx.warn(join(path, "label"), f"{kind} has no label")
    attribution = language_map(doc.get("attribution"), join(path, "attribution"), ctx)
    licenses = reference_ids(doc.get("license"), join(path, "license"), ctx, "license")
    if len(licenses) > 1:
        ctx.warn(join(path, "license"), f"{len(licenses)} licenses given; the first is used as rights")
    rights = rights_uri(licenses[0], join(path, "license"), ctx, "license") if licenses else None
    logos = reference_ids(doc.get("logo"), join(path, "logo"), ctx, "logo")
    if doc.get("viewingDirection") is not None:
        check_enum(doc["viewingDirection"], VIEWING_DIRECTIONS, join(path, "viewingDirection"), ctx, "viewingDirection")
    if doc.get("viewingHint") is not None:
        hints = [h for h in as_list(doc["viewingHint"]) if not (isinstance(h, str) and is_absolute_uri(h))]
        check_enum(hints, V2_VIEWING_HINTS, join(path, "viewingHint"), ctx, "viewingHint")
    return dict(
        label=label,
        summary=language_map(doc.get("description"), join(path, "description"), ctx),
        metadata=metadata_list(doc.get("metadata"), join(path, "metadata"), ctx),
        rights=rights,
        required_statement=MetadataEntry(label=dict(ATTRIBUTION_LABEL), value=attribution) if attribution else None,
        # A logo becomes a provider; the attribution names it when there is one.
        provider=[Agent(label=dict(attribution), logo=logos)] if logos else [],
    )


def _listish(value: Any, path: str, ctx: ReadContext, what: str) -> list | None:
    """A value that must be a list: a single object is accepted with a warning."""
    if value is None:
        return None
    if isinstance(value, dict):
        ctx.warn(path, f"{what} must be a list; a single object was given")
        return [value]
    if not isinstance(value, list):
        ctx.error(path, f"{what} must be a list, not {type(value).__name__} {value!r}"[:200])
        return None
    return value


def read_canvas(obj: Any, path: str, ctx: ReadContext) -> Canvas | None:
    if isinstance(obj, str):
        ctx.error(path, f"canvas given only by reference ({obj!r}); canvases must be embedded in the sequence")
        return None
    if not isinstance(obj, dict):
        ctx.error(path, f"canvas is not an object: {obj!r}"[:200])
        return None
    kind = node_type(obj)
    if kind != "Canvas":
        ctx.warn(path, f"expected an sc:Canvas, found type {kind!r}")
    ident = canvas_id(raw_id(obj), join(path, id_key(obj)), ctx)
    if ident is None:
        ctx.error(path, "canvas without an id is skipped")
        return None
    ctx.register_id(ident, path, "canvas")
    label = language_map(obj.get("label"), join(path, "label"), ctx)
    if not label:
        ctx.warn(join(path, "label"), "canvas has no label")
    canvas = Canvas(
        id=ident, label=label,
        width=to_int(obj.get("width"), join(path, "width"), ctx, "width"),
        height=to_int(obj.get("height"), join(path, "height"), ctx, "height"),
        thumbnail=reference_ids(obj.get("thumbnail"), join(path, "thumbnail"), ctx, "thumbnail"),
    )
    for name in ("width", "height"):
        if name not in obj:
            ctx.warn(path, f"canvas has no {name}")
    images = _listish(obj.get("images"), join(path, "images"), ctx, "images")
    for i, ann in enumerate(images or []):
        paint(canvas, ann, join(join(path, "images"), i), ctx, v2=True)
    other = _listish(obj.get("otherContent"), join(path, "otherContent"), ctx, "otherContent")
    for i, item in enumerate(other or []):
        here = join(join(path, "otherContent"), i)
        if page_is_embedded(item):
            canvas.annotations.extend(parse_annotation_page(item, here, ctx, default_target=ident).annotations)
        else:
            ref = reference_id(item)
            if ref is None:
                ctx.error(here, "otherContent entry has neither resources nor an @id")
            elif ref not in canvas.annotation_refs:
                canvas.annotation_refs.append(ref)
    check_canvas(canvas, path, ctx)
    return canvas


def _first_sequence(doc: dict, path: str, ctx: ReadContext) -> tuple[dict | None, str]:
    here = join(path, "sequences")
    sequences = _listish(doc.get("sequences"), here, ctx, "sequences")
    if sequences is None:
        if "sequences" not in doc:
            ctx.error(here, "manifest has no sequences, so no canvases")
        return None, here
    if not sequences:
        ctx.error(here, "manifest has an empty list of sequences, so no canvases")
        return None, here
    if len(sequences) > 1:
        ctx.warn(here, f"{len(sequences)} sequences; only the first is read")
    first = sequences[0]
    here = join(here, 0)
    if not isinstance(first, dict):
        ctx.error(here, f"sequence is not an object: {first!r}"[:200])
        return None, here
    if node_type(first) != "Sequence":
        ctx.warn(here, f"expected an sc:Sequence, found type {node_type(first)!r}")
    return first, here


def read_manifest(doc: dict, path: str, ctx: ReadContext) -> Manifest:
    manifest = Manifest(id=own_id(doc, path, ctx, "manifest"), version=2, **_descriptive(doc, path, ctx, "manifest"))
    if manifest.id:
        ctx.register_id(manifest.id, path, "manifest")
    manifest.thumbnail = reference_ids(doc.get("thumbnail"), join(path, "thumbnail"), ctx, "thumbnail")
    manifest.homepage = reference_ids(doc.get("related"), join(path, "related"), ctx, "related")
    manifest.services = service_blocks(doc.get("service"), join(path, "service"), ctx)
    manifest.nav_date = first_string(doc.get("navDate"))
    manifest.part_of = reference_ids(doc.get("within"), join(path, "within"), ctx, "within")
    sequence, seq_path = _first_sequence(doc, path, ctx)
    if sequence is not None:
        canvases = _listish(sequence.get("canvases"), join(seq_path, "canvases"), ctx, "canvases")
        ctx.canvas_sizes.update(canvas_sizes(canvases))
        if canvases is None and "canvases" not in sequence:
            ctx.error(join(seq_path, "canvases"), "sequence has no canvases")
        elif canvases == []:
            ctx.error(join(seq_path, "canvases"), "sequence has an empty list of canvases")
        for i, item in enumerate(canvases or []):
            canvas = read_canvas(item, join(join(seq_path, "canvases"), i), ctx)
            if canvas is not None:
                manifest.canvases.append(canvas)
        if canvases and not manifest.canvases:
            ctx.error(join(seq_path, "canvases"), "manifest has no readable canvas")
        start = reference_id(sequence.get("startCanvas", doc.get("startCanvas")))
        if start and split_fragment(start)[0] not in {c.id for c in manifest.canvases}:
            ctx.warn(join(seq_path, "startCanvas"), f"startCanvas {start!r} is not a canvas of this manifest")
        if sequence.get("viewingDirection") is not None:
            check_enum(sequence["viewingDirection"], VIEWING_DIRECTIONS, join(seq_path, "viewingDirection"), ctx,
                       "viewingDirection")
    for i, item in enumerate(as_list(doc.get("otherContent"))):
        ref = reference_id(item)
        if ref and ref not in manifest.annotation_refs:
            manifest.annotation_refs.append(ref)
    return manifest


def _members(value: Any, path: str, ctx: ReadContext, default_type: str | None) -> list[Reference]:
    out: list[Reference] = []
    items = _listish(value, path, ctx, path.rsplit(".", 1)[-1])
    for i, item in enumerate(items or []):
        here = join(path, i)
        if isinstance(item, str):
            if default_type is None:
                ctx.warn(here, "member given as a bare URI; assumed to be a Manifest")
            if item.strip():
                out.append(Reference(id=item.strip(), type=default_type or "Manifest"))
            continue
        if not isinstance(item, dict):
            ctx.error(here, f"member is not an object: {item!r}"[:200])
            continue
        kind = node_type(item)
        if kind not in ("Manifest", "Collection"):
            if default_type is None:
                ctx.warn(here, f"member of type {kind!r} is not a Manifest or Collection; ignored")
                continue
            ctx.warn(here, f"member has type {kind!r}; read as a {default_type}")
            kind = default_type
        elif default_type and kind != default_type:
            ctx.warn(here, f"a {kind} listed under {path.rsplit('.', 1)[-1]}")
        ident = reference_id(item)
        if ident is None:
            ctx.error(here, f"{kind} member has no @id; ignored")
            continue
        if not is_absolute_uri(ident):
            ctx.warn(here, f"member id {ident!r} is not an absolute URI")
        out.append(Reference(id=ident, type=kind, label=language_map(item.get("label"), join(here, "label"), ctx),
                             thumbnail=reference_ids(item.get("thumbnail"), join(here, "thumbnail"), ctx, "thumbnail")))
    return out


def read_collection(doc: dict, path: str, ctx: ReadContext) -> Collection:
    collection = Collection(id=own_id(doc, path, ctx, "collection"), version=2,
                            **_descriptive(doc, path, ctx, "collection"))
    members = (_members(doc.get("collections"), join(path, "collections"), ctx, "Collection")
               + _members(doc.get("manifests"), join(path, "manifests"), ctx, "Manifest")
               + _members(doc.get("members"), join(path, "members"), ctx, None))
    first = doc.get("first")
    if isinstance(first, dict) and any(k in first for k in ("manifests", "collections", "members")):
        # The first page embedded: its members belong to this collection, its next is ours.
        here = join(path, "first")
        members += (_members(first.get("collections"), join(here, "collections"), ctx, "Collection")
                    + _members(first.get("manifests"), join(here, "manifests"), ctx, "Manifest")
                    + _members(first.get("members"), join(here, "members"), ctx, None))
        collection.next = reference_id(first.get("next"))
    collection.first = reference_id(first)
    collection.next = reference_id(doc.get("next")) or collection.next
    seen: set[tuple[str, str]] = set()
    for ref in members:
        if (ref.id, ref.type) not in seen:
            seen.add((ref.id, ref.type))
            collection.members.append(ref)
    total = to_float(doc.get("total"))
    collection.total = int(total) if total is not None and total >= 0 else None
    if not members and not collection.first and not collection.next:
        ctx.warn(path, "collection lists no manifests, collections or members, and no pages")
    return collection
