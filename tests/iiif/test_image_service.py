"""Image API service blocks and info.json, versions 1, 2 and 3."""

from __future__ import annotations

import pytest

from iiif._context import ReadContext
from iiif.image_service import image_service, parse_service, service_blocks
from iiif.reader import read_info_json

V1_INFO = {
    "@context": "http://library.stanford.edu/iiif/image-api/1.1/context.json",
    "@id": "http://www.example.org/image-service/abcd1234/",
    "width": 6000, "height": 4000,
    "scale_factors": [1, 2, 4], "tile_width": 1024, "tile_height": 512,
    "formats": ["jpg", "png"], "qualities": ["native", "grey"],
    "profile": "http://library.stanford.edu/iiif/image-api/1.1/compliance.html#level2",
}

V2_INFO = {
    "@context": "http://iiif.io/api/image/2/context.json",
    "@id": "https://example.org/iiif/book1-page1",
    "protocol": "http://iiif.io/api/image",
    "width": 6000, "height": 4000,
    "sizes": [{"width": 150, "height": 100}, {"width": 600, "height": 400}],
    "tiles": [{"width": 512, "scaleFactors": [1, 2, 4, 8, 16]}],
    "profile": ["http://iiif.io/api/image/2/level2.json",
                {"formats": ["gif", "pdf"], "qualities": ["color", "gray"], "supports": ["canonicalLinkHeader", "rotationArbitrary"]}],
}

V3_INFO = {
    "@context": "http://iiif.io/api/image/3/context.json",
    "id": "https://example.org/iiif/image1",
    "type": "ImageService3", "protocol": "http://iiif.io/api/image", "profile": "level0",
    "width": 4000, "height": 3000,
    "sizes": [{"width": 500, "height": 375}],
    "tiles": [{"width": 512, "height": 256, "scaleFactors": [1, 2, 4]}],
    "extraFeatures": ["regionByPx", "sizeByWh"], "extraFormats": ["webp"],
}


def test_info_json_v1():
    service, problems = read_info_json(V1_INFO)
    assert problems == []
    assert (service.id, service.version, service.level) == ("http://www.example.org/image-service/abcd1234", 1, 2)
    assert (service.width, service.height) == (6000, 4000)
    assert service.tiles == [{"width": 1024, "height": 512, "scaleFactors": [1, 2, 4]}]
    assert service.formats == ["jpg", "png"]


def test_info_json_v2():
    service, problems = read_info_json(V2_INFO)
    assert problems == []
    assert (service.version, service.level, service.profile) == (2, 2, "http://iiif.io/api/image/2/level2.json")
    assert service.sizes == [(150, 100), (600, 400)]
    assert service.tiles == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}]
    assert service.extra_features == ["canonicalLinkHeader", "rotationArbitrary"]
    assert service.formats == ["gif", "pdf"]


def test_info_json_v3_level0():
    service, problems = read_info_json(V3_INFO)
    assert problems == []
    assert (service.id, service.version, service.level) == ("https://example.org/iiif/image1", 3, 0)
    assert service.tiles == [{"width": 512, "height": 256, "scaleFactors": [1, 2, 4]}]
    assert service.extra_features == ["regionByPx", "sizeByWh"]
    assert service.formats == ["webp"]


def test_info_json_without_id_uses_the_url_without_info_json():
    doc = {k: v for k, v in V3_INFO.items() if k != "id"}
    service, problems = read_info_json(doc, url="https://example.org/iiif/x/info.json")
    assert service.id == "https://example.org/iiif/x"
    assert [p.severity for p in problems] == ["warning"]
    assert problems[0].where.startswith("https://example.org/iiif/x/info.json ")


def test_info_json_without_size_is_an_error():
    doc = {k: v for k, v in V2_INFO.items() if k not in ("width", "height")}
    service, problems = read_info_json(doc)
    assert service is not None
    assert {p.where for p in problems if p.severity == "error"} == {"width", "height"}


@pytest.mark.parametrize("doc", [None, [], "info", 3, {}, {"@id": "x", "width": 1}, {"type": "AuthCookieService1"}])
def test_info_json_garbage(doc):
    service, problems = read_info_json(doc)
    assert service is None
    assert problems and problems[0].severity == "error"


@pytest.mark.parametrize("profile, version, level", [
    ("http://iiif.io/api/image/2/level0.json", 2, 0),
    ("http://iiif.io/api/image/2/level1.json", 2, 1),
    ("http://library.stanford.edu/iiif/image-api/compliance.html#level0", 1, 0),
    ("level2", 3, 2),
])
def test_version_and_level_from_profile_alone(profile, version, level):
    ctx = ReadContext()
    service = parse_service({"@id": "https://x/y", "profile": profile}, "service", ctx)
    assert (service.version, service.level) == (version, level)


def test_type_wins_over_profile():
    service = parse_service({"id": "https://x/y", "type": "ImageService2", "profile": "level1"}, "s", ReadContext())
    assert (service.version, service.level) == (2, 1)


def test_unversioned_service_with_size_uses_document_version_and_warns():
    ctx = ReadContext()
    service = parse_service({"@id": "https://x/y", "width": 10, "height": 10}, "s", ctx, default_version=2)
    assert service.version == 2 and service.level is None
    assert {p.severity for p in ctx.problems} == {"warning"}


def test_non_image_services_are_ignored():
    ctx = ReadContext()
    assert parse_service({"@id": "http://example.org/path/to/service", "format": "text/html"}, "s", ctx, 2) is None
    assert image_service([{"id": "https://x/search", "type": "SearchService2"}], "s", ctx, 3) is None
    assert ctx.problems == []


def test_highest_version_is_preferred():
    ctx = ReadContext()
    services = [{"@id": "https://x/v2", "@type": "ImageService2", "profile": "http://iiif.io/api/image/2/level2.json"},
                {"id": "https://x/v3", "type": "ImageService3", "profile": "level1"}]
    service = image_service(services, "service", ctx, 3)
    assert (service.id, service.version, service.level) == ("https://x/v3", 3, 1)


def test_v3_service_as_single_object_is_warned():
    ctx = ReadContext(version=3)
    service = image_service({"id": "https://x/y", "type": "ImageService3", "profile": "level2"}, "body.service", ctx, 3)
    assert service.level == 2
    assert ctx.problems[0].where == "body.service" and "list" in ctx.problems[0].what


def test_service_blocks_are_normalised():
    ctx = ReadContext()
    blocks = service_blocks([{"@id": "https://x/search", "profile": "http://iiif.io/api/search/1/search",
                              "@context": "http://iiif.io/api/search/1/context.json"},
                             {"id": "https://x/auth", "type": "AuthProbeService2"}, {"label": "no id"}], "service", ctx)
    assert blocks == [{"id": "https://x/search", "type": None, "profile": "http://iiif.io/api/search/1/search"},
                      {"id": "https://x/auth", "type": "AuthProbeService2", "profile": None}]
    assert ctx.problems[0].where == "service[2]"
