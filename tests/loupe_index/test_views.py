"""The automatic views' geometry."""

from __future__ import annotations

import pytest

from loupe_index.views import CROPS, QUADRANTS, VIEW_LABELS, WHOLE, automatic_views


@pytest.mark.parametrize("size", [(900, 600), (1001, 777), (2, 2), (4000, 150)])
def test_ten_views_inside_the_image(size):
    w, h = size
    views = automatic_views(w, h)
    assert [label for label, _ in views] == list(VIEW_LABELS) and len(views) == 10
    for _, b in views:
        assert b.w > 0 and b.h > 0 and b.x >= 0 and b.y >= 0 and b.x + b.w <= w and b.y + b.h <= h
        assert all(float(v).is_integer() for v in (b.x, b.y, b.w, b.h))
    boxes = dict(views)
    assert boxes[WHOLE].as_tuple() == (0, 0, w, h)
    # the quadrants tile the image exactly
    assert sum(boxes[q].w * boxes[q].h for q in QUADRANTS) == w * h
    assert boxes["quadrant-top-left"].w + boxes["quadrant-top-right"].w == w
    assert boxes["quadrant-top-left"].h + boxes["quadrant-bottom-left"].h == h


def test_crops_are_two_thirds_at_the_centre_and_corners():
    boxes = dict(automatic_views(900, 600))
    for c in CROPS:
        assert (boxes[c].w, boxes[c].h) == (600, 400)
    assert boxes["crop-centre"].as_tuple() == (150, 100, 600, 400)
    assert boxes["crop-top-left"].as_tuple() == (0, 0, 600, 400)
    assert boxes["crop-top-right"].as_tuple() == (300, 0, 600, 400)
    assert boxes["crop-bottom-left"].as_tuple() == (0, 200, 600, 400)
    assert boxes["crop-bottom-right"].as_tuple() == (300, 200, 600, 400)
    assert boxes["quadrant-bottom-right"].as_tuple() == (450, 300, 450, 300)


@pytest.mark.parametrize("size", [(1, 100), (100, 0), (10.5, 20)])
def test_degenerate_sizes_are_refused(size):
    with pytest.raises(ValueError, match="2x2"):
        automatic_views(*size)
