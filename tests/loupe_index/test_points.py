"""Payload fields: regions, labels, and the year that date filters use."""

from __future__ import annotations

import pytest

from iiif.model import Box
from loupe_index import IndexPoint, year_from
from loupe_index.points import as_xywh


@pytest.mark.parametrize("nav_date, metadata, year", [
    ("1856-01-01T00:00:00Z", [{"label": {"en": ["Date"]}, "value": {"en": ["1700"]}}], 1856),
    (None, [{"label": {"en": ["Title"]}, "value": {"en": ["Room 1500"]}},
            {"label": {"nl": ["Datering"]}, "value": {"nl": ["ca. <b>1520</b> - 1530"]}}], 1520),
    (None, [{"label": {"fr": ["Date de création"]}, "value": {"none": ["XVIe siècle"]}}], None),
    (None, [{"label": "Year", "value": "2021"}], 2021),
    (None, None, None),
])
def test_year_from_nav_date_or_dated_metadata(nav_date, metadata, year):
    assert year_from(nav_date, metadata) == year


def test_regions_are_whole_canvas_units():
    assert as_xywh(Box(10.4, 20.6, 30.5, 40)) == (10, 21, 30, 40)
    assert as_xywh(None) is None
    with pytest.raises(ValueError, match="no area"):
        as_xywh((0, 0, 0.2, 5))


def test_payload_fields():
    p = IndexPoint(vector=[1.0, 0.0], canvas="c", content_key="k", kind="view", xywh=Box(0, 0, 5, 5), manifest="m",
                   image="i", source_id=3, source="rijks", labels=["  a  dog ", "a dog", "", "night"], year=1600,
                   view="crop-centre")
    assert p.payload("v") == {
        "source_id": 3, "source": "rijks", "collection": None, "manifest": "m", "canvas": "c", "image": "i",
        "xywh": [0, 0, 5, 5], "kind": "view", "labels": ["a dog", "night"], "rights": None, "date": None,
        "year": 1600, "content_key": "k", "vector": "v", "view": "crop-centre"}
