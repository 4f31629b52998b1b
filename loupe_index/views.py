"""Automatic views for finding details, as the Smart Lens prototype did.

A detail that fills a tenth of a painting barely moves the embedding of the whole image, so
each image is also embedded as crops: the four quadrants and five crops at 2/3 of the size
(centre and the four corners), overlapping so that a detail cut by one quadrant border is
whole in some 2/3 crop. Boxes are in the pixels of the image they are computed for; the
indexer maps them to canvas coordinates for the payload.
"""

from __future__ import annotations

from iiif.model import Box

WHOLE = "whole"
QUADRANTS = ("quadrant-top-left", "quadrant-top-right", "quadrant-bottom-left", "quadrant-bottom-right")
CROPS = ("crop-centre", "crop-top-left", "crop-top-right", "crop-bottom-left", "crop-bottom-right")
VIEW_LABELS = (WHOLE, *QUADRANTS, *CROPS)


def automatic_views(width: int, height: int) -> list[tuple[str, Box]]:
    """The whole image, its four quadrants, and five crops at 2/3 size: ten integer boxes.

    The first box is the whole image: the indexer stores it as the ``image`` point and the
    other nine as ``view`` points, so the whole image is not embedded twice.
    """
    if int(width) != width or int(height) != height or width < 2 or height < 2:
        raise ValueError(f"automatic views need an image of at least 2x2 whole pixels, not {width}x{height}")
    w, h = int(width), int(height)
    hw, hh = w // 2, h // 2
    views = [(WHOLE, Box(0, 0, w, h))]
    quadrant_boxes = (Box(0, 0, hw, hh), Box(hw, 0, w - hw, hh), Box(0, hh, hw, h - hh), Box(hw, hh, w - hw, h - hh))
    views += list(zip(QUADRANTS, quadrant_boxes))
    cw, ch = max(1, round(w * 2 / 3)), max(1, round(h * 2 / 3))
    right, bottom = w - cw, h - ch
    crop_boxes = (Box(right // 2, bottom // 2, cw, ch), Box(0, 0, cw, ch), Box(right, 0, cw, ch),
                  Box(0, bottom, cw, ch), Box(right, bottom, cw, ch))
    views += list(zip(CROPS, crop_boxes))
    return views
