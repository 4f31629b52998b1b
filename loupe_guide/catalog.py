"""A guide read from the catalog: each canvas of the guide's manifests an artwork (its first
image), each annotated region of it a detail; texts and media from the manifest and the
annotations. Reads the catalog only."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from connector.catalog import Catalog
from connector.catalog.schema import CanvasRow, CollectionRow, ManifestRow, RegionRow, Source
from connector.catalog.store import image_from_row
from connector.static_inputs import slugify
from iiif.geometry import canvas_to_image
from iiif.model import Box
from loupe_guide.errors import GuideError, UnknownGuide
from loupe_guide.model import Guide, GuideItem, LanguageMap
from loupe_guide.paths import DEFAULT_GUIDE, guide_dir, write_json_atomic
from loupe_guide.texts import artist_of, as_map, media_kind, merge

DEFINITION_FILE = "guide.json"
DETAIL_SEPARATOR = "__"
MAX_SLUG = 60


@dataclass(frozen=True)
class GuideDefinition:
    """What a curator chose: a collection (a IIIF Collection URI, or a catalog source's id,
    name or URL; None: every artwork in the catalog) and a label."""

    collection: str | None = None
    label: LanguageMap | None = None


def read_definition(data_dir: Path, guide: str) -> GuideDefinition | None:
    path = guide_dir(data_dir, guide) / DEFINITION_FILE
    if not path.exists():
        return GuideDefinition() if guide == DEFAULT_GUIDE else None
    try:
        data = json.loads(path.read_text())
        return GuideDefinition(data.get("collection"), as_map(data.get("label")) or None)
    except (ValueError, AttributeError) as e:
        raise GuideError(f"{path} is not a guide definition ({e})") from None


def write_definition(data_dir: Path, guide: str, definition: GuideDefinition) -> Path:
    path = guide_dir(data_dir, guide) / DEFINITION_FILE
    write_json_atomic(path, {"collection": definition.collection, "label": definition.label})
    return path


def guide_from_catalog(catalog: Catalog, data_dir: Path, guide: str) -> Guide:
    """The guide `guide` (``default``, a defined guide, or a catalog source's name). Raises
    UnknownGuide."""
    definition = read_definition(data_dir, guide)
    if definition is None:
        definition = GuideDefinition(collection=guide) if _source(catalog, guide) else None
    if definition is None:
        raise UnknownGuide(f"no guide {guide!r}: define it (`loupe lens build {guide} --collection REF`) or name "
                           f"a catalog source (`loupe source list`); '{DEFAULT_GUIDE}' is every artwork")
    manifests, label = manifest_ids(catalog, definition.collection)
    items: list[GuideItem] = []
    taken: set[str] = set()
    with catalog.session() as s:
        for manifest_id in manifests:
            m = s.scalars(select(ManifestRow).where(ManifestRow.id == manifest_id).options(
                selectinload(ManifestRow.canvases).selectinload(CanvasRow.images),
                selectinload(ManifestRow.canvases).selectinload(CanvasRow.regions))).one()
            for canvas in m.canvases:
                items += _canvas_items(m, canvas, taken)
    return Guide(guide, definition.label or label or {"none": [guide]}, items)


def _source(catalog: Catalog, ref: str) -> Source | None:
    with catalog.session() as s:
        for src in s.scalars(select(Source)):
            if ref in (str(src.id), src.name, src.url, f"source-{src.id}"):
                return src
    return None


def manifest_ids(catalog: Catalog, collection: str | None) -> tuple[list[int], LanguageMap]:
    query = select(ManifestRow.id).where(ManifestRow.status != "deleted").order_by(ManifestRow.id)
    if collection is None:
        with catalog.session() as s:
            return list(s.scalars(query)), {}
    with catalog.session() as s:
        collections = {c.uri: c for c in s.scalars(select(CollectionRow))}
    if collection in collections:
        uris = _descendants(collection, collections)
        with catalog.session() as s:
            return list(s.scalars(query.where(ManifestRow.collection_uri.in_(uris)))), as_map(
                collections[collection].label)
    src = _source(catalog, collection)
    if src is None:
        raise UnknownGuide(f"the guide's collection {collection!r} is neither a IIIF Collection in the catalog nor "
                           "a source (`loupe source list`)")
    label = as_map(collections[src.url].label) if src.url in collections else {"none": [src.name or src.url]}
    with catalog.session() as s:
        return list(s.scalars(query.where(ManifestRow.source_id == src.id))), label


def _descendants(uri: str, collections: dict[str, CollectionRow]) -> set[str]:
    out, todo = {uri}, [uri]
    while todo:
        parent = todo.pop()
        for child in (c.uri for c in collections.values() if c.parent_uri == parent):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def artwork_id(canvas_uri: str, label: LanguageMap, taken: set[str]) -> str:
    """The published file stem (the last segment of ``.../canvas/<stem>``), else a slug of
    the label or of the canvas id, made unique."""
    match = re.search(r"/canvas/([a-z0-9][a-z0-9-]*)/?$", canvas_uri)
    if match:  # the published file stem, whole: the id curators and eval files name
        return _unique(match.group(1), taken)
    base = slugify(_first(label) or canvas_uri.rstrip("/").rsplit("/", 1)[-1], fallback="artwork")
    return _unique(base[:MAX_SLUG].strip("-") or "artwork", taken)


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _first(lmap: LanguageMap) -> str | None:
    return next((t for texts in lmap.values() for t in texts), None)


def _canvas_items(m: ManifestRow, canvas: CanvasRow, taken: set[str]) -> list[GuideItem]:
    images = [row for row in canvas.images if row.alternative_of is None]
    if not images:
        return []
    image = image_from_row(images[0])
    several = len(m.canvases) > 1
    title = as_map(canvas.label) if several and canvas.label else as_map(m.label) or as_map(canvas.label)
    metadata = [{"label": as_map(e.get("label")), "value": as_map(e.get("value"))}
                for e in (m.metadata_ or []) if isinstance(e, dict)]
    art = GuideItem(id=artwork_id(canvas.uri, title, taken), kind="artwork", canvas=canvas.uri, manifest=m.uri,
                    title=title, artist=artist_of(m.metadata_ or []), text=merge({}, as_map(m.summary)),
                    metadata=metadata, source_id=m.source_id, image=image,
                    links=[{"label": {"none": [h]}, "href": h} for h in (m.homepage or []) if isinstance(h, str)])
    details: list[GuideItem] = []
    detail_names: set[str] = set()
    regions = [r for r in sorted(canvas.regions, key=lambda r: r.id) if r.made_by != "machine" or r.review == "accepted"]
    first_tags = [r.tags[0] for r in regions if r.tags]
    for region in regions:
        texts = as_map(region.texts)
        if region.x is None or region.w is None or not region.w or not region.h:  # about the whole canvas
            if region.point is None:
                merge(art.text, texts)
                _add_media(art, region, texts)
            continue
        box = canvas_to_image(image, Box(region.x, region.y, region.w, region.h), canvas.width, canvas.height)
        if box is None or box.w < 2 or box.h < 2:
            continue
        # The detail's name: its tag when that tells it apart on the canvas, else its text.
        tag = region.tags[0] if region.tags and first_tags.count(region.tags[0]) == 1 else None
        name = slugify(tag or _first(texts) or "", fallback="")[:40].strip("-")
        name = _unique(name or f"region-{len(details) + 1}", detail_names)
        tag_title = {"none": [tag]} if tag else {}
        detail = GuideItem(id=f"{art.id}{DETAIL_SEPARATOR}{name}", kind="detail", canvas=canvas.uri, manifest=m.uri,
                           parent=art.id, title=tag_title or _short(texts) or title, artist=art.artist, text=texts,
                           source_id=m.source_id, image=image, full_box=(box.x, box.y, box.w, box.h),
                           labels=tuple(dict.fromkeys([*(t for ts in texts.values() for t in ts),
                                                       *(str(t) for t in region.tags or ())])))
        _add_media(detail, region, texts)
        details.append(detail)
    taken.update(d.id for d in details)
    return [art, *details]


def _short(texts: LanguageMap) -> LanguageMap:
    """A title from an annotation's text: its first sentence, per language."""
    return {lang: [re.split(r"(?<=[.!?])\s", ts[0], maxsplit=1)[0][:80]] for lang, ts in texts.items() if ts}


def _add_media(item: GuideItem, region: RegionRow, texts: LanguageMap) -> None:
    languages = [lang for lang in texts if lang != "none"]
    lang = languages[0] if len(languages) == 1 else "none"
    for url in region.links or ():
        kind = media_kind(url)
        if kind == "audio":
            item.audio.setdefault(lang, url)
        elif kind == "video":
            item.video.setdefault(lang, url)
        elif isinstance(url, str) and url.startswith(("http://", "https://")):
            item.links.append({"label": {"none": [url]}, "href": url})
