"""Image-caption pairs from the catalog: each annotated region's crop with its annotation
texts, tags and the image's labels (every language present), each whole image (and, if
asked, its automatic detail views) with its labels and metadata.

Regions are split, by a stable hash, into those trained on and those held out to measure
region-to-image recall: a held-out region's crop should find its own image.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterator

from PIL import Image
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import ManifestRow
from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from loupe_index.catalog_targets import ImageToIndex, images_to_index
from loupe_models.training.clip_trainer import Pair


@dataclass
class CatalogPairs:
    pairs: list[Pair] = field(default_factory=list)
    wholes: list[Image.Image] = field(default_factory=list)  # one per image: the recall gallery
    held_out: list[tuple[Image.Image, int]] = field(default_factory=list)  # (region crop, index in wholes)
    trained_regions: list[tuple[Image.Image, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"images": 0, "regions": 0, "views": 0, "held_out": 0})
    problems: list[str] = field(default_factory=list)


def metadata_captions(catalog: Catalog) -> dict[str, list[str]]:
    """Manifest URI -> "Label: value" for every metadata entry and language."""
    out: dict[str, list[str]] = {}
    with catalog.session() as s:
        for uri, metadata in s.execute(select(ManifestRow.uri, ManifestRow.metadata_)):
            texts = []
            for entry in metadata or ():
                labels = _texts((entry or {}).get("label"))
                for value in _texts((entry or {}).get("value")):
                    texts.append(f"{labels[0]}: {value}" if labels else value)
            out[uri] = texts
    return out


def held_out(key: str, share: float, seed: int) -> bool:
    digest = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32 < share


def catalog_pairs(catalog: Catalog, images: CatalogImages, *, source_id: int | None, views: bool,
                  holdout: float, seed: int, captions_per_item: int,
                  progress: Callable[[int], None] | None = None) -> CatalogPairs:
    out = CatalogPairs()
    metadata = metadata_captions(catalog)
    for n, item in enumerate(images_to_index(catalog, source_id=source_id), start=1):
        try:
            _add_image(out, item, images, metadata.get(item.manifest, []), views=views, holdout=holdout,
                       seed=seed, limit=captions_per_item)
        except FetchError as e:
            out.problems.append(f"{item.image.id}: {e}")
        if progress:
            progress(n)
    return out


def _add_image(out: CatalogPairs, item: ImageToIndex, images: CatalogImages, metadata: list[str], *,
               views: bool, holdout: float, seed: int, limit: int) -> None:
    fetched = images.fetch(item.source_id, item.image)
    size = max(1, round(fetched.width * fetched.scale_x)), max(1, round(fetched.height * fetched.scale_y))
    targets = item.targets(size)
    if not targets:
        return
    picture = fetched.open()
    whole_no = len(out.wholes)
    out.wholes.append(picture)
    for target in targets:
        crop = picture if target.kind == "image" else picture.crop(fetched.pixel_box(target.pixels))
        captions = list(target.labels) + (metadata if target.kind == "image" else [])
        captions = list(dict.fromkeys(c.strip() for c in captions if c and c.strip()))[:limit]
        if target.kind == "region":
            if held_out(f"{item.canvas}#{target.xywh}", holdout, seed):
                out.held_out.append((crop, whole_no))
                out.counts["held_out"] += 1
                continue
            out.trained_regions.append((crop, whole_no))
        elif target.kind == "view" and not views:
            continue
        if not captions:
            continue
        out.counts[{"image": "images", "region": "regions", "view": "views"}[target.kind]] += 1
        out.pairs.extend(Pair(crop, caption) for caption in captions)


def _texts(value: object) -> list[str]:
    return list(_walk(value))


def _walk(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
