"""Canvas <-> image pixel mapping, with handwritten layouts."""

from __future__ import annotations

import pytest

from iiif.geometry import canvas_to_image, image_points_to_canvas, image_size, image_to_canvas, intersect
from iiif.model import Box, Image, ImageService


def approx_box(box: Box | None) -> tuple | None:
    return None if box is None else pytest.approx(box.as_tuple())


def test_whole_canvas_image_at_double_resolution():
    # Canvas 1000x500, image 2000x1000 painted over the whole canvas.
    image = Image(id="i", width=2000, height=1000)
    assert canvas_to_image(image, Box(100, 50, 200, 100), 1000, 500).as_tuple() == (200, 100, 400, 200)
    assert image_to_canvas(image, Box(200, 100, 400, 200), 1000, 500).as_tuple() == (100, 50, 200, 100)


def test_image_painted_into_a_sub_region_of_the_canvas():
    # A 173x173 detail painted at 400,400 (2.1 fixture 34 layout) on a 1200x1800 canvas.
    detail = Image(id="d", width=173, height=173, target_box=Box(400, 400, 173, 173))
    assert canvas_to_image(detail, Box(400, 400, 173, 173), 1200, 1800).as_tuple() == (0, 0, 173, 173)
    # A box half over the detail is clipped to it.
    assert canvas_to_image(detail, Box(300, 450, 200, 50), 1200, 1800).as_tuple() == (0, 50, 100, 50)
    # A box elsewhere on the canvas misses the detail.
    assert canvas_to_image(detail, Box(0, 0, 100, 100), 1200, 1800) is None


def test_sub_region_with_scaling():
    # Recipe 0036: a 2138x2414 miniature painted into 1091x1232 at 3949,994.
    image = Image(id="m", width=2138, height=2414, target_box=Box(3949, 994, 1091, 1232))
    assert approx_box(canvas_to_image(image, Box(3949, 994, 1091, 1232))) == (0, 0, 2138, 2414)
    middle = canvas_to_image(image, Box(3949 + 1091 / 4, 994 + 1232 / 4, 1091 / 2, 1232 / 2))
    assert approx_box(middle) == (2138 / 4, 2414 / 4, 2138 / 2, 2414 / 2)
    # Without a target box, the canvas size is needed (none given -> unknown).
    assert canvas_to_image(Image(id="x", width=10, height=10), Box(0, 0, 1, 1)) is None


def test_image_larger_than_the_canvas():
    # Canvas 100x100 showing a 4000x4000 image: regions scale up 40 times.
    image = Image(id="big", width=4000, height=4000)
    assert canvas_to_image(image, Box(10, 20, 30, 40), 100, 100).as_tuple() == (400, 800, 1200, 1600)
    # Boxes spilling off the canvas are clipped to the image.
    assert canvas_to_image(image, Box(90, 90, 50, 50), 100, 100).as_tuple() == (3600, 3600, 400, 400)


def test_source_box_paints_only_part_of_the_image():
    # 2.1 fixture 36: region 100,100,1000,1600 of a 1200x1800 image fills a 1000x1600 canvas.
    image = Image(id="p", width=1200, height=1800, source_box=Box(100, 100, 1000, 1600))
    assert canvas_to_image(image, Box(0, 0, 1000, 1600), 1000, 1600).as_tuple() == (100, 100, 1000, 1600)
    assert canvas_to_image(image, Box(10, 10, 20, 20), 1000, 1600).as_tuple() == (110, 110, 20, 20)
    # Pixels outside the painted region are not on the canvas.
    assert image_to_canvas(image, Box(0, 0, 50, 50), 1000, 1600) is None
    assert image_to_canvas(image, Box(50, 50, 100, 100), 1000, 1600).as_tuple() == (0, 0, 50, 50)


def test_source_box_and_target_box_together():
    # Recipe 0299 layout: region 1768,2423,1768,2080 of 3536x4999 into a 1768x2080 canvas at 0,0,
    # then a target box halving it.
    image = Image(id="r", width=3536, height=4999, source_box=Box(1768, 2423, 1768, 2080),
                  target_box=Box(0, 0, 884, 1040))
    assert approx_box(canvas_to_image(image, Box(0, 0, 884, 1040))) == (1768, 2423, 1768, 2080)
    assert approx_box(image_to_canvas(image, Box(1768, 2423, 884, 1040))) == (0, 0, 442, 520)


def test_size_from_image_service_when_image_has_none():
    image = Image(id="s", service=ImageService(id="svc", version=2, width=3000, height=1500))
    assert image_size(image) == (3000, 1500)
    assert canvas_to_image(image, Box(0, 0, 100, 50), 300, 150).as_tuple() == (0, 0, 1000, 500)


def test_unknown_image_size_gives_none():
    image = Image(id="u")
    assert canvas_to_image(image, Box(0, 0, 10, 10), 100, 100) is None
    assert image_to_canvas(image, Box(0, 0, 10, 10), 100, 100) is None


def test_degenerate_boxes_give_none():
    image = Image(id="i", width=100, height=100)
    assert canvas_to_image(image, Box(10, 10, 0, 5), 100, 100) is None
    assert canvas_to_image(image, Box(0, 0, 10, 10), 0, 100) is None


def test_image_to_canvas_clips_to_canvas():
    # Image painted partly off the canvas (target box runs past the right edge).
    image = Image(id="o", width=200, height=100, target_box=Box(50, 0, 100, 50))
    assert image_to_canvas(image, Box(0, 0, 200, 100), 120, 50).as_tuple() == (50, 0, 70, 50)


@pytest.mark.parametrize("box", [Box(0, 0, 10, 10), Box(123.5, 77, 300, 41), Box(600, 200, 400, 300)])
def test_round_trip(box):
    image = Image(id="rt", width=3000, height=2000, target_box=Box(0, 0, 1500, 1000),
                  source_box=Box(0, 0, 3000, 2000))
    there = canvas_to_image(image, box, 1500, 1000)
    assert approx_box(image_to_canvas(image, there, 1500, 1000)) == box.as_tuple()


def test_intersect():
    assert intersect(Box(0, 0, 10, 10), Box(5, 5, 10, 10)).as_tuple() == (5, 5, 5, 5)
    assert intersect(Box(0, 0, 10, 10), Box(10, 0, 5, 5)) is None


def test_image_points_to_canvas():
    image = Image(id="p", width=400, height=200, target_box=Box(100, 100, 200, 100))
    assert image_points_to_canvas(image, [(0, 0), (400, 200), (200, 100)]) == [(100, 100), (300, 200), (200, 150)]
    assert image_points_to_canvas(Image(id="u"), [(1, 1)], 10, 10) is None
