"""What to embed for each image of the catalog, without the pixels: the whole image, every
annotated region on it, and the automatic views, each with the box to crop (full-image
pixels) and the region to report (canvas coordinates), plus the payload fields.

The indexing job fetches the image (``connector.images.ImageFetcher.fetch(item.image)``),
crops each target's ``pixels`` box, embeds the crops and turns each into an ``IndexPoint``
with ``item.point(target, vector)``. Reading the catalog only, this module never writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from connector.catalog.schema import CanvasRow, ImageRow, ManifestRow, RegionRow, Source
from connector.catalog.store import Catalog
from iiif.geometry import canvas_to_image, image_to_canvas
from iiif.model import Box, Image, ImageService

from .points import IndexPoint, Xywh, as_xywh, year_from
from .views import automatic_views

# Regions smaller than this (full-image pixels, either side) carry too little to embed.
MIN_REGION_PIXELS = 16


@dataclass(frozen=True)
class Target:
    """One thing to embed: ``pixels`` to crop from the full image, ``xywh`` for the payload."""

    kind: str  # image | region | view
    pixels: Box
    xywh: Xywh
    labels: tuple[str, ...] = ()
    view: str | None = None


@dataclass(frozen=True)
class ImageToIndex:
    """One catalog image (the default of a Choice) and what its points will say."""

    image: Image  # for ImageFetcher.fetch
    content_key: str
    canvas: str
    canvas_size: tuple[int, int] | None
    manifest: str
    source_id: int
    source: str | None
    collection: str | None
    rights: str | None
    date: str | None
    year: int | None
    labels: tuple[str, ...]  # manifest and canvas labels, whole-canvas annotation texts and tags
    regions: tuple[tuple[Box, tuple[str, ...]], ...]  # annotated regions in canvas coordinates

    def full_size(self, fetched_size: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """Full-image pixel size from the catalog, else as found when fetching."""
        w = self.image.width or (self.image.service.width if self.image.service else None)
        h = self.image.height or (self.image.service.height if self.image.service else None)
        if w and h:
            return int(w), int(h)
        return fetched_size

    def targets(self, fetched_size: tuple[int, int] | None = None) -> list[Target]:
        """Whole image, regions on it, then the nine automatic views (the whole-image view is
        the image target itself). Empty when the image's size is unknown: pass the size of
        the fetched full image then."""
        size = self.full_size(fetched_size)
        if size is None or size[0] < 2 or size[1] < 2:
            return []
        image = self._sized_image(size)
        cw, ch = self.canvas_size or (None, None)
        out: list[Target] = []
        whole_xywh = self._to_canvas(image, Box(0, 0, *size))
        if whole_xywh is None:
            return []
        out.append(Target("image", Box(0, 0, *size), whole_xywh, self.labels))
        merged: dict[Xywh, tuple[Box, list[str]]] = {}
        for box, texts in self.regions:
            pixels = canvas_to_image(image, box, cw, ch)
            if pixels is None or pixels.w < MIN_REGION_PIXELS or pixels.h < MIN_REGION_PIXELS:
                continue
            xywh = as_xywh(box)
            entry = merged.setdefault(xywh, (pixels, []))
            entry[1].extend(texts)
        for xywh, (pixels, texts) in merged.items():
            out.append(Target("region", pixels, xywh, tuple(dict.fromkeys([*texts, *self.labels]))))
        for label, box in automatic_views(*size)[1:]:
            xywh = self._to_canvas(image, box)
            if xywh is not None:
                out.append(Target("view", box, xywh, self.labels, view=label))
        return out

    def point(self, target: Target, vector: Sequence[float]) -> IndexPoint:
        return IndexPoint(vector=vector, canvas=self.canvas, content_key=self.content_key, kind=target.kind,
                          xywh=target.xywh, manifest=self.manifest, image=self.image.id, source_id=self.source_id,
                          source=self.source, collection=self.collection, labels=target.labels, rights=self.rights,
                          date=self.date, year=self.year, view=target.view)

    def _sized_image(self, size: tuple[int, int]) -> Image:
        if self.image.width and self.image.height:
            return self.image
        return Image(id=self.image.id, width=size[0], height=size[1], service=self.image.service,
                     target_box=self.image.target_box, source_box=self.image.source_box)

    def _to_canvas(self, image: Image, pixels: Box) -> Xywh | None:
        cw, ch = self.canvas_size or (None, None)
        box = image_to_canvas(image, pixels, cw, ch)
        if box is None:  # canvas size unknown and image painted over all of it: canvas = pixels
            box = pixels if image.target_box is None and not (cw and ch) else None
        try:
            return as_xywh(box)
        except ValueError:  # rounds to nothing on the canvas
            return None


def images_to_index(catalog: Catalog, *, source_id: int | None = None,
                    skip_keys: Iterable[str] = ()) -> Iterator[ImageToIndex]:
    """Every default image of every live manifest, in catalog order, except ``skip_keys``
    (content keys already indexed)."""
    skip = set(skip_keys)
    query = select(ManifestRow.id).where(ManifestRow.status != "deleted").order_by(ManifestRow.id)
    if source_id is not None:
        query = query.where(ManifestRow.source_id == source_id)
    with catalog.session() as s:
        sources = {src.id: src.name for src in s.scalars(select(Source))}
        ids = s.scalars(query).all()
    for manifest_id in ids:  # one short read per manifest: no transaction stays open while embedding
        with catalog.session() as s:
            m = s.scalars(select(ManifestRow).where(ManifestRow.id == manifest_id).options(
                selectinload(ManifestRow.canvases).selectinload(CanvasRow.images),
                selectinload(ManifestRow.canvases).selectinload(CanvasRow.regions))).one_or_none()
            items = [] if m is None else [
                _item(m, canvas, row, sources.get(m.source_id))
                for canvas in m.canvases for row in canvas.images
                if row.alternative_of is None and row.content_key not in skip]
        yield from items


def image_item(m: ManifestRow, canvas: CanvasRow, row: ImageRow, source_name: str | None) -> ImageToIndex:
    """What the points of one image of a loaded manifest (canvases, images, regions) say."""
    return _item(m, canvas, row, source_name)


def _item(m: ManifestRow, canvas: CanvasRow, row: ImageRow, source_name: str | None) -> ImageToIndex:
    manifest_labels = _texts(m.label)
    whole: list[str] = []
    regions: list[tuple[Box, tuple[str, ...]]] = []
    for r in canvas.regions:
        if not _usable(r):
            continue
        texts = [*_texts(r.texts), *[str(t) for t in r.tags or ()]]
        if r.x is None or r.y is None or r.w is None or r.h is None:
            if r.point is None:  # about the whole canvas
                whole.extend(texts)
            continue
        if r.w > 0 and r.h > 0:
            regions.append((Box(r.x, r.y, r.w, r.h), tuple(texts)))
    size = (canvas.width, canvas.height) if canvas.width and canvas.height else None
    return ImageToIndex(
        image=_image(row), content_key=row.content_key, canvas=canvas.uri, canvas_size=size, manifest=m.uri,
        source_id=m.source_id, source=source_name or str(m.source_id), collection=m.collection_uri,
        rights=m.rights, date=m.nav_date, year=year_from(m.nav_date, m.metadata_),
        labels=tuple(dict.fromkeys([*manifest_labels, *_texts(canvas.label), *whole])), regions=tuple(regions))


def _usable(r: RegionRow) -> bool:
    """Curators' regions, and machine regions a curator accepted."""
    return r.made_by != "machine" or r.review == "accepted"


def _image(row: ImageRow) -> Image:
    svc = None
    if row.service_id:
        info = row.service or {}
        svc = ImageService(id=row.service_id, version=row.service_version or 2, level=row.service_level,
                           profile=info.get("profile"), width=info.get("width"), height=info.get("height"),
                           sizes=[tuple(x) for x in info.get("sizes") or ()], tiles=list(info.get("tiles") or ()),
                           extra_features=list(info.get("extra_features") or ()), formats=list(info.get("formats") or ()))
    return Image(id=row.uri, format=row.format, width=row.width, height=row.height, service=svc,
                 target_box=Box(*row.target_xywh) if row.target_xywh else None,
                 source_box=Box(*row.source_xywh) if row.source_xywh else None)


def _texts(value: Mapping | Sequence | str | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    return [t for v in value for t in _texts(v)]
