"""The collection's images as training samples for the vision job kinds (``augment``, ``detector``):
each image from the image cache (fetched as the harvest fetched it) with its annotated regions
as labelled boxes in that file's pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from loupe_core.settings import Settings
from loupe_models.augmentation import Sample
from loupe_tagging import resolve_scope
from loupe_tagging.scope import scope_images

UNLABELLED = "region"  # the label of a region whose annotation has no text
MAX_LABEL = 80


@dataclass
class CatalogSamples:
    samples: list[Sample] = field(default_factory=list)
    canvases: dict[str, tuple[str, str]] = field(default_factory=dict)  # source id -> (manifest, canvas)
    problems: list[str] = field(default_factory=list)


def catalog_samples(settings: Settings, collection: str) -> CatalogSamples:
    """Every image of `collection` (``all``, a source, a collection URI or key). An image that
    cannot be fetched is a problem, not an error. Raises ScopeError for an unknown collection."""
    out = CatalogSamples()
    catalog = Catalog.open(settings)
    images = CatalogImages(settings, catalog)
    try:
        scope = resolve_scope(catalog, collection)
        for item in scope_images(catalog, scope):
            try:
                fetched = images.fetch(item.source_id, item.image)
            except (FetchError, OSError, ValueError) as e:
                out.problems.append(f"{item.image.id}: {e}")
                continue
            full = (round(fetched.width * fetched.scale_x), round(fetched.height * fetched.scale_y))
            regions = [t for t in item.targets(full) if t.kind == "region"]
            boxes = [fetched.pixel_box(t.pixels) for t in regions]
            labels = tuple((t.labels[0] if t.labels else UNLABELLED)[:MAX_LABEL] for t in regions)
            out.samples.append(Sample(item.image.id, fetched.path, boxes, labels))
            out.canvases[item.image.id] = (item.manifest, item.canvas)
    finally:
        images.close()
        catalog.close()
    return out
