"""From catalog rows to what the indexer embeds: targets in image pixels, regions in canvas
coordinates, payload fields; and those points found again in the index."""

from __future__ import annotations

import numpy as np
import pytest

from connector.catalog import Catalog
from connector.catalog.store import HarvestedManifest
from iiif.model import Annotation, Body, Box, Canvas, Image, ImageService, Manifest, MetadataEntry, Target
from loupe_index import SearchFilters
from loupe_index.catalog_targets import images_to_index

CANVAS = "https://example.org/canvas/1"
MANIFEST = "https://example.org/manifest/altarpiece"


def note(aid: str, box: Box | None, text: str, purpose: str | None = None, *, target: str = CANVAS) -> Annotation:
    return Annotation(id=aid, motivations=["commenting"], bodies=[Body(type="TextualBody", value=text, purpose=purpose)],
                      targets=[Target(source=target, box=box)])


@pytest.fixture
def catalog(settings):
    cat = Catalog.open(settings)
    src = cat.add_source("https://example.org/collection", name="example")
    canvas = Canvas(
        id=CANVAS, label={"en": ["Front"]}, width=2000, height=1000,
        images=[Image(id="https://example.org/img/1/full/max/0/default.jpg", width=4000, height=2000,
                      service=ImageService(id="https://example.org/img/1", version=3, level=1, width=4000, height=2000))],
        annotations=[note("a1", Box(100, 100, 200, 200), "a dog"), note("a2", Box(100, 100, 200, 200), "dog", "tagging"),
                     note("a3", None, "night scene", "tagging"), note("a4", Box(0, 0, 4, 4), "speck")])
    unsized = Canvas(id="https://example.org/canvas/2", images=[Image(id="https://example.org/img/2.jpg")])
    manifest = Manifest(id=MANIFEST, version=3, label={"en": ["Altarpiece"]}, rights="http://rightsstatements.org/vocab/NoC-US/1.0/",
                        metadata=[MetadataEntry({"en": ["Date"]}, {"en": ["c. 1520, Antwerp"]})], canvases=[canvas, unsized])
    with cat.session() as s:
        cat.write_manifest(s, src.id, HarvestedManifest(uri=MANIFEST, manifest=manifest, etag=None, last_modified=None,
                                                        content_hash="h1"))
        s.commit()
    yield cat
    cat.close()


def test_targets_of_a_catalog_image(catalog):
    items = list(images_to_index(catalog))
    assert [i.canvas for i in items] == [CANVAS, "https://example.org/canvas/2"]
    item = items[0]
    assert (item.manifest, item.source, item.year, item.rights) == (MANIFEST, "example", 1520,
                                                                  "http://rightsstatements.org/vocab/NoC-US/1.0/")
    assert item.labels == ("Altarpiece", "Front", "night scene")  # whole-canvas tags join the labels
    targets = item.targets()
    kinds = [t.kind for t in targets]
    assert kinds == ["image", "region"] + ["view"] * 9  # the 4x4 speck is too small to embed
    image, region, *views = targets
    assert image.pixels.as_tuple() == (0, 0, 4000, 2000) and image.xywh == (0, 0, 2000, 1000)
    assert region.pixels.as_tuple() == (200, 200, 400, 400) and region.xywh == (100, 100, 200, 200)
    assert region.labels[:2] == ("a dog", "dog")  # two annotations on one box: one point
    centre = next(v for v in views if v.view == "crop-centre")
    assert centre.pixels.as_tuple() == (666, 333, 2667, 1333) and centre.xywh == (333, 166, 1334, 666)
    assert list(images_to_index(catalog, skip_keys=[item.content_key]))[0].canvas != CANVAS


def test_an_image_of_unknown_size_waits_for_the_fetched_size(catalog):
    item = list(images_to_index(catalog))[1]
    assert item.targets() == []
    targets = item.targets(fetched_size=(300, 200))
    assert targets[0].xywh == (0, 0, 300, 200) and len(targets) == 10


def test_points_from_the_catalog_are_found_with_their_payload(catalog, open_index):
    index = open_index()
    index.ensure_vector("tiny__test", 8)
    rng = np.random.default_rng(0)
    points = [item.point(t, rng.standard_normal(8)) for item in images_to_index(catalog)
              for t in item.targets(fetched_size=(300, 200))]
    index.upsert(points, "tiny__test")
    region = next(p for p in points if p.kind == "region")
    hit = index.search(region.vector, limit=1, filters=SearchFilters(source="example", year_from=1500)).hits[0]
    assert hit.id == region.id
    assert hit.payload | {"content_key": None} == {
        "source_id": 1, "source": "example", "collection": None, "manifest": MANIFEST, "canvas": CANVAS,
        "image": "https://example.org/img/1/full/max/0/default.jpg", "xywh": [100, 100, 200, 200], "kind": "region",
        "labels": ["a dog", "dog", "Altarpiece", "Front", "night scene"],
        "rights": "http://rightsstatements.org/vocab/NoC-US/1.0/", "date": None, "year": 1520,
        "content_key": None, "vector": "tiny__test"}
    assert index.indexed_keys("tiny__test") == {p.content_key for p in points}
