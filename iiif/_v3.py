"""Presentation 3.0 (and, best effort, 4.0 drafts): manifests, canvases and collections."""

from __future__ import annotations

from typing import Any

from iiif._common import V3_BEHAVIORS, VIEWING_DIRECTIONS, canvas_id, check_canvas, check_enum, own_id, paint
from iiif._context import ReadContext, join
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
from iiif.language import language_map, metadata_entry, metadata_list
from iiif.model import Agent, Canvas, Collection, Manifest, Reference


def _rights(doc: dict, path: str, ctx: ReadContext) -> str | None:
    value = doc.get("rights")
    if value is None:
        return None
    if isinstance(value, list):
        ctx.warn(path, "rights must be a single URI, not a list")
    rights = first_string(value)
    if rights is None:
        ctx.warn(path, f"rights is not a URI: {value!r}"[:200])
    return rights_uri(rights, path, ctx)


def _providers(value: Any, path: str, ctx: ReadContext) -> list[Agent]:
    agents = []
    if value is not None and not isinstance(value, list):
        ctx.warn(path, "provider must be a list")
    for i, item in enumerate(as_list(value)):
        here = join(path, i) if isinstance(value, list) else path
        if not isinstance(item, dict):
            ctx.warn(here, "provider is not an object; ignored")
            continue
        ident = raw_id(item)
        agents.append(Agent(
            id=ident.strip() if isinstance(ident, str) and ident.strip() else None,
            label=language_map(item.get("label"), join(here, "label"), ctx),
            homepage=reference_ids(item.get("homepage"), join(here, "homepage"), ctx, "homepage"),
            logo=reference_ids(item.get("logo"), join(here, "logo"), ctx, "logo"),
        ))
    return agents


def _descriptive(doc: dict, path: str, ctx: ReadContext, kind: str) -> dict:
    """Properties shared by manifests and collections."""
    label = language_map(doc.get("label"), join(path, "label"), ctx)
    if not label:
        ctx.warn(join(path, "label"), f"{kind} has no label")
    required = None
    if doc.get("requiredStatement") is not None:
        required = metadata_entry(doc["requiredStatement"], join(path, "requiredStatement"), ctx)
    check_enum(doc.get("behavior"), V3_BEHAVIORS, join(path, "behavior"), ctx, "behavior")
    if doc.get("viewingDirection") is not None:
        check_enum(doc["viewingDirection"], VIEWING_DIRECTIONS, join(path, "viewingDirection"), ctx, "viewingDirection")
    return dict(
        label=label,
        summary=language_map(doc.get("summary"), join(path, "summary"), ctx),
        metadata=metadata_list(doc.get("metadata"), join(path, "metadata"), ctx),
        rights=_rights(doc, join(path, "rights"), ctx),
        required_statement=required,
        provider=_providers(doc.get("provider"), join(path, "provider"), ctx),
    )


def canvas_sizes(items: Any) -> dict[str, tuple[int | None, int | None]]:
    """Canvas id -> (width, height) without reporting anything (a pre-pass, so that
    annotations met before their canvas can still convert percent regions)."""
    sizes: dict[str, tuple[int | None, int | None]] = {}
    for item in as_list(items):
        ident = raw_id(item)
        if isinstance(ident, str) and isinstance(item, dict):
            w, h = to_float(item.get("width")), to_float(item.get("height"))
            sizes[split_fragment(ident)[0]] = (int(w) if w and w > 0 else None, int(h) if h and h > 0 else None)
    return sizes


def read_canvas(obj: Any, path: str, ctx: ReadContext) -> Canvas | None:
    if isinstance(obj, str):
        ctx.error(path, f"canvas given only by reference ({obj!r}); canvases must be embedded")
        return None
    if not isinstance(obj, dict):
        ctx.error(path, f"canvas is not an object: {obj!r}"[:200])
        return None
    kind = node_type(obj)
    if kind in ("Timeline", "Scene"):
        ctx.warn(path, f"{kind} (Presentation 4) is not supported; only Canvases are read")
        return None
    if kind != "Canvas":
        ctx.warn(path, f"expected a Canvas, found type {kind!r}")
    ident = canvas_id(raw_id(obj), join(path, id_key(obj)), ctx)
    if ident is None:
        ctx.error(path, "canvas without an id is skipped")
        return None
    ctx.register_id(ident, path, "canvas")
    duration = to_float(obj.get("duration"))
    canvas = Canvas(
        id=ident,
        label=language_map(obj.get("label"), join(path, "label"), ctx),
        width=to_int(obj.get("width"), join(path, "width"), ctx, "width"),
        height=to_int(obj.get("height"), join(path, "height"), ctx, "height"),
        duration=duration if duration and duration > 0 else None,
        thumbnail=reference_ids(obj.get("thumbnail"), join(path, "thumbnail"), ctx, "thumbnail"),
    )
    pages = obj.get("items")
    if pages is None and "content" in obj:
        ctx.warn(join(path, "content"), "'content' is a pre-3.0 draft name; read as items")
        pages = obj.get("content")
    if pages is not None and not isinstance(pages, list):
        ctx.warn(join(path, "items"), "items must be a list of AnnotationPages")
    for pi, page in enumerate(as_list(pages)):
        page_path = join(join(path, "items"), pi)
        if not page_is_embedded(page):
            ctx.error(page_path, "painting AnnotationPage is not embedded; its images are unknown")
            continue
        if node_type(page) not in (None, "AnnotationPage"):
            ctx.warn(page_path, f"expected an AnnotationPage, found type {node_type(page)!r}")
        page_id = raw_id(page)
        if isinstance(page_id, str) and page_id.strip():
            ctx.register_id(page_id.strip(), page_path, "annotation page")
        if "annotations" in page:
            ctx.warn(join(page_path, "annotations"),
                     "annotations belong on the Canvas, not on its painting AnnotationPage; ignored")
        annotations = page.get("items")
        if not isinstance(annotations, list):
            ctx.warn(join(page_path, "items"), "items must be a list of Annotations")
        for ai, ann in enumerate(as_list(annotations)):
            paint(canvas, ann, join(join(page_path, "items"), ai), ctx, v2=False)
    read_annotation_pages(obj.get("annotations"), join(path, "annotations"), ctx, canvas, default_target=ident)
    check_canvas(canvas, path, ctx)
    return canvas


def read_annotation_pages(value: Any, path: str, ctx: ReadContext, owner: Canvas | Manifest,
                          *, default_target: str | None = None) -> None:
    """A v3 ``annotations`` list: embedded pages add annotations, referenced ones refs."""
    if value is None:
        return
    if not isinstance(value, list):
        ctx.warn(path, "annotations must be a list of AnnotationPages")
    for i, page in enumerate(as_list(value)):
        here = join(path, i) if isinstance(value, list) else path
        if page_is_embedded(page):
            owner.annotations.extend(parse_annotation_page(page, here, ctx, default_target=default_target).annotations)
        else:
            ref = reference_id(page)
            if ref is None:
                ctx.error(here, "annotation page has neither items nor an id")
            elif ref not in owner.annotation_refs:
                owner.annotation_refs.append(ref)


def read_manifest(doc: dict, path: str, ctx: ReadContext) -> Manifest:
    manifest = Manifest(id=own_id(doc, path, ctx, "manifest"), version=ctx.version,
                        **_descriptive(doc, path, ctx, "manifest"))
    if manifest.id:
        ctx.register_id(manifest.id, path, "manifest")
    manifest.thumbnail = reference_ids(doc.get("thumbnail"), join(path, "thumbnail"), ctx, "thumbnail")
    manifest.homepage = reference_ids(doc.get("homepage"), join(path, "homepage"), ctx, "homepage")
    manifest.services = (service_blocks(doc.get("service"), join(path, "service"), ctx)
                         + service_blocks(doc.get("services"), join(path, "services"), ctx))
    manifest.nav_date = first_string(doc.get("navDate"))
    manifest.part_of = reference_ids(doc.get("partOf"), join(path, "partOf"), ctx, "partOf")
    items = doc.get("items")
    items_path = join(path, "items")
    if items is None and isinstance(doc.get("sequences"), list) and doc["sequences"]:
        items_path = join(join(path, "sequences"), 0) + ".canvases"
        ctx.warn(join(path, "sequences"), "Presentation 3 manifest uses 2.x sequences; canvases read from the first")
        first = doc["sequences"][0]
        items = first.get("canvases") if isinstance(first, dict) else None
    ctx.canvas_sizes.update(canvas_sizes(items))
    if items is None:
        ctx.error(join(path, "items"), "manifest has no items (canvases)")
    elif not isinstance(items, list):
        ctx.error(join(path, "items"), "items must be a list of Canvases")
    for i, item in enumerate(as_list(items)):
        here = join(items_path, i) if isinstance(items, list) else items_path
        canvas = read_canvas(item, here, ctx)
        if canvas is not None:
            manifest.canvases.append(canvas)
    if isinstance(items, list) and not manifest.canvases:
        ctx.error(join(path, "items"), "manifest has no readable canvas")
    read_annotation_pages(doc.get("annotations"), join(path, "annotations"), ctx, manifest)
    start_value = doc.get("start")
    if isinstance(start_value, dict) and "source" in start_value:  # a SpecificResource of a canvas
        start_value = start_value["source"]
    start = reference_id(start_value)
    if start and split_fragment(start)[0] not in {c.id for c in manifest.canvases}:
        ctx.warn(join(path, "start"), f"start {start!r} is not a canvas of this manifest")
    return manifest


def _reference(item: Any, path: str, ctx: ReadContext) -> Reference | None:
    if isinstance(item, str):
        ctx.warn(path, "collection member given as a bare URI; assumed to be a Manifest")
        return Reference(id=item.strip(), type="Manifest") if item.strip() else None
    if not isinstance(item, dict):
        ctx.error(path, f"collection member is not an object: {item!r}"[:200])
        return None
    kind = node_type(item)
    if kind not in ("Manifest", "Collection"):
        ctx.warn(path, f"collection member of type {kind!r} is not a Manifest or Collection; ignored")
        return None
    ident = raw_id(item)
    if not isinstance(ident, str) or not ident.strip():
        ctx.error(path, f"collection member ({kind}) has no id; ignored")
        return None
    if not is_absolute_uri(ident.strip()):
        ctx.warn(path, f"collection member id {ident.strip()!r} is not an absolute URI")
    return Reference(id=ident.strip(), type=kind,
                     label=language_map(item.get("label"), join(path, "label"), ctx),
                     thumbnail=reference_ids(item.get("thumbnail"), join(path, "thumbnail"), ctx, "thumbnail"))


def read_collection(doc: dict, path: str, ctx: ReadContext) -> Collection:
    collection = Collection(id=own_id(doc, path, ctx, "collection"), version=ctx.version,
                            **_descriptive(doc, path, ctx, "collection"))
    items = doc.get("items")
    items_path = join(path, "items")
    if items is not None and not isinstance(items, list):
        ctx.warn(items_path, "items must be a list")
    first = doc.get("first")
    embedded_first = isinstance(first, dict) and isinstance(first.get("items"), list)
    if embedded_first and items is None:  # the first page embedded: its members are ours
        items, items_path = first["items"], join(join(path, "first"), "items")
        collection.next = reference_id(first.get("next"))
    for i, item in enumerate(as_list(items)):
        here = join(items_path, i)
        ref = _reference(item, here, ctx)
        if ref is None:
            continue
        collection.members.append(ref)
        if ref.type == "Manifest" and isinstance(item, dict) and "items" in item:
            sub = ReadContext(url=ctx.url, version=ctx.version, problems=ctx.problems, seen_ids=ctx.seen_ids)
            collection.embedded_manifests.append(read_manifest(item, here, sub))
    collection.first = reference_id(first)
    collection.next = reference_id(doc.get("next")) or collection.next
    total = to_float(doc.get("total"))
    collection.total = int(total) if total is not None and total >= 0 else None
    if items is None and not collection.first:
        ctx.warn(join(path, "items"), "collection has no items")
    return collection
