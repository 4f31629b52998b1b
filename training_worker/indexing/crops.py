"""The pipeline's reader for indexing: fetch one image (a cache hit when harvested), decode it
once and crop every target (whole image, annotated regions, automatic views) from it.

It runs in the embedding pipeline's threads, so fetching, decoding and cropping of the next
images overlap with the model's work on the current batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image as PILImage

from connector.catalog_images import CatalogImages
from connector.images import FetchedImage

if TYPE_CHECKING:  # pragma: no cover
    from loupe_index.catalog_targets import ImageToIndex, Target


class ImageUnusable(ValueError):
    """Fetched, but nothing can be embedded from it (no size known, or too small)."""


@dataclass(frozen=True, eq=False)
class CropKey:
    """Travels with each crop through the pipeline to the writer."""

    image_no: int  # the image's position in this run
    target: "Target"
    last: bool  # the image's last target: its points are complete once this one is embedded


def full_size(fetched: FetchedImage) -> tuple[int, int]:
    """The full image's size in pixels, from the fetched copy and its mapping."""
    return max(1, round(fetched.width * fetched.scale_x)), max(1, round(fetched.height * fetched.scale_y))


class TargetReader:
    """``reader((image_no, item)) -> [(CropKey, crop), ...]`` for ``EmbeddingPipeline.run``."""

    def __init__(self, images: CatalogImages, max_side: int | None = None) -> None:
        self.images = images
        self.max_side = max_side

    def __call__(self, numbered: tuple[int, "ImageToIndex"]) -> list[tuple[CropKey, PILImage.Image]]:
        image_no, item = numbered
        fetched = self.images.fetch(item.source_id, item.image, self.max_side)
        targets = item.targets(full_size(fetched))
        if not targets:
            raise ImageUnusable(f"image {item.image.id} has no usable size ({fetched.width}x{fetched.height} fetched)")
        picture = fetched.open()
        whole = (0, 0, picture.width, picture.height)
        crops = []
        for i, target in enumerate(targets):
            box = fetched.pixel_box(target.pixels)
            crops.append((CropKey(image_no, target, i == len(targets) - 1),
                          picture if box == whole else picture.crop(box)))
        return crops
