"""Opening images: reduced JPEG decoding, and the record that lets a resize undo it exactly."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from loupe_models.images import ImageTooLarge, draft_box, open_image


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_jpeg_is_decoded_at_the_smallest_scale_still_large_enough() -> None:
    image = open_image(jpeg(2000, 1293), 256)
    assert image.size == (500, 324)  # 1/4: a further halving would go below 256
    assert draft_box(image) == ((2000, 1293), (0, 0, 500.0, 323.25))


def test_no_reduction_without_a_size_or_for_small_images() -> None:
    assert open_image(jpeg(800, 600)).size == (800, 600)
    small = open_image(jpeg(300, 200), 256)
    assert small.size == (300, 200) and draft_box(small) is None


def test_crops_of_a_reduced_image_do_not_claim_its_geometry() -> None:
    image = open_image(jpeg(2000, 1293), 256)
    assert draft_box(image.crop((0, 0, 100, 100))) is None


def test_pixel_limit() -> None:
    with pytest.raises(ImageTooLarge, match="max_image_pixels"):
        open_image(jpeg(400, 300), max_pixels=100_000)


def test_other_sources(tmp_path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (40, 30)).save(path)
    assert open_image(path, 16).size == (40, 30)
    with open(path, "rb") as f:
        assert open_image(f).size == (40, 30)
    already = Image.new("RGB", (5, 5))
    assert open_image(already) is already
