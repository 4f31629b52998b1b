"""The pixels a reference names: an image file, or a catalog region (canvas URI with an
optional ``#xywh=x,y,w,h`` in canvas coordinates) cropped from the cached catalog image.
The Combiner's training and the composed evaluation read triplets with it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL import Image

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from iiif.geometry import canvas_to_image
from iiif.model import Box
from loupe_models.training.triplets import is_catalog_ref

from .catalog_targets import ImageToIndex, images_to_index


class UnreadableReference(ValueError):
    """A triplet names an image that cannot be read."""


class ReferenceReader:
    def __init__(self, catalog: Catalog, images: CatalogImages) -> None:
        self.catalog = catalog
        self.images = images
        self._canvases: dict[str, ImageToIndex] | None = None

    def read(self, ref: str) -> Image.Image:
        if not is_catalog_ref(ref):
            try:
                with Image.open(Path(ref)) as im:
                    im.draft("RGB", (512, 512))
                    return im.convert("RGB")
            except OSError as e:
                raise UnreadableReference(f"image {ref}: {e}") from None
        canvas, _, fragment = ref.partition("#")
        item = self._items().get(canvas)
        if item is None:
            raise UnreadableReference(f"{canvas} is not a canvas of the catalog")
        fetched = self.images.fetch(item.source_id, item.image)
        picture = fetched.open()
        if not fragment.startswith("xywh="):
            return picture
        try:
            x, y, w, h = (float(v) for v in fragment[5:].split(","))
        except ValueError:
            raise UnreadableReference(f"{ref}: the fragment is #xywh=x,y,w,h") from None
        size = item.full_size((round(fetched.width * fetched.scale_x), round(fetched.height * fetched.scale_y)))
        image = item.image if item.image.width and item.image.height else \
            dataclasses.replace(item.image, width=size[0], height=size[1])
        cw, ch = item.canvas_size or (None, None)
        pixels = canvas_to_image(image, Box(x, y, w, h), cw, ch)
        if pixels is None:
            raise UnreadableReference(f"{ref}: the region is outside the image")
        return picture.crop(fetched.pixel_box(pixels))

    def _items(self) -> dict[str, ImageToIndex]:
        if self._canvases is None:
            self._canvases = {}
            for item in images_to_index(self.catalog):
                self._canvases.setdefault(item.canvas, item)
        return self._canvases
