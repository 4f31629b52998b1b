"""What a triplet's reference reads from the harvested demo: a canvas's whole image, or the
region its ``#xywh=`` names (canvas coordinates), and clear errors for what cannot be read."""

from __future__ import annotations

import pytest

from connector.catalog import Catalog
from connector.catalog_images import CatalogImages
from loupe_index.catalog_references import ReferenceReader, UnreadableReference
from loupe_index.catalog_targets import images_to_index


def test_a_canvas_reads_whole_and_a_fragment_reads_its_region(demo_settings) -> None:  # noqa: ANN001
    catalog = Catalog.open(demo_settings)
    try:
        item = next(i for i in images_to_index(catalog) if i.canvas_size)
        cw, ch = item.canvas_size
        with CatalogImages(demo_settings, catalog) as images:
            reader = ReferenceReader(catalog, images)
            whole = reader.read(item.canvas)
            left_half = reader.read(f"{item.canvas}#xywh=0,0,{cw // 2},{ch}")
            corner = reader.read(f"{item.canvas}#xywh={cw // 2},{ch // 2},{cw // 4},{ch // 4}")
            assert left_half.height == whole.height
            assert abs(left_half.width - whole.width / 2) <= 2
            assert abs(corner.width - whole.width / 4) <= 2 and abs(corner.height - whole.height / 4) <= 2
            # the region's pixels are the whole image's pixels there, not a resized whole image
            box = (whole.width // 2, whole.height // 2, whole.width // 2 + corner.width, whole.height // 2 + corner.height)
            assert list(whole.crop(box).getdata())[:50] == list(corner.getdata())[:50]

            with pytest.raises(UnreadableReference, match="not a canvas of the catalog"):
                reader.read("https://example.org/canvas/unknown")
            with pytest.raises(UnreadableReference, match="#xywh=x,y,w,h"):
                reader.read(f"{item.canvas}#xywh=1,2,three,4")
            with pytest.raises(UnreadableReference, match="outside the image"):
                reader.read(f"{item.canvas}#xywh={cw * 2},{ch * 2},10,10")
    finally:
        catalog.close()
