"""Image API request planning: URL forms per version and level, never upscaling."""

from __future__ import annotations

import random

import pytest

from iiif.image_api import (
    ImageRequest,
    info_url,
    plan_image_request,
    supported_features,
    thumbnail_url,
)
from iiif.model import Box, ImageService

BASE = "https://images.example.org/iiif/abc123"
LISTED = [(150, 100), (600, 400), (3000, 2000)]


def service(version: int, level: int | None, width: int = 6000, height: int = 4000, **kw) -> ImageService:
    return ImageService(id=BASE, version=version, level=level, width=width, height=height, **kw)


def final_size(req: ImageRequest) -> tuple[int, int]:
    """The size the caller ends with after the local crop/resize."""
    if req.resize_to:
        return req.resize_to
    if req.local_crop:
        return (int(req.local_crop.w), int(req.local_crop.h))
    return req.size


# --- levels 1 and 2: the server crops and scales -------------------------------------------


@pytest.mark.parametrize("version, level, size_param, quality", [
    (1, 1, "1024,", "native"), (1, 2, "1024,", "native"),
    (2, 1, "1024,", "default"), (2, 2, "1024,", "default"),
    (3, 1, "1024,", "default"), (3, 2, "1024,683", "default"),
])
def test_full_image_scaled_uses_each_versions_size_syntax(version, level, size_param, quality):
    req = plan_image_request(service(version, level), None, 1024)
    assert req == ImageRequest(f"{BASE}/full/{size_param}/0/{quality}.jpg", (1024, 683))


@pytest.mark.parametrize("version, level, size_param", [
    (2, 1, ",512"), (2, 2, ",512"), (3, 1, ",512"), (3, 2, "341,512"), (1, 1, ",512"),
])
def test_portrait_fixes_the_height_so_rounding_cannot_exceed_max_side(version, level, size_param):
    req = plan_image_request(service(version, level, width=2000, height=3000), None, 512)
    assert req.url.split("/")[-3] == size_param
    assert req.size == (341, 512)


@pytest.mark.parametrize("version, keyword", [(1, "full"), (2, "full"), (3, "max")])
def test_no_scaling_needed_asks_for_full_or_max(version, keyword):
    req = plan_image_request(service(version, 2, width=800, height=600), None, 1024)
    quality = "native" if version == 1 else "default"
    assert req.url == f"{BASE}/full/{keyword}/0/{quality}.jpg"
    assert req.size == (800, 600) and req.local_crop is None and req.resize_to is None


def test_region_is_requested_from_the_server_in_pixels():
    req = plan_image_request(service(3, 2), Box(1000.4, 999.6, 2000, 1000), 512)
    assert req.url == f"{BASE}/1000,1000,2000,1000/512,256/0/default.jpg"
    assert req.size == (512, 256) and req.local_crop is None


def test_small_region_is_never_upscaled():
    for version, keyword in ((2, "full"), (3, "max")):
        req = plan_image_request(service(version, 2), Box(10, 20, 50, 40), 1024)
        assert req.url == f"{BASE}/10,20,50,40/{keyword}/0/default.jpg"
        assert req.size == (50, 40)


@pytest.mark.parametrize("region, expected", [
    (Box(-10, -20, 100, 100), "0,0,90,80"),            # top-left corner
    (Box(5950, 3990, 200, 200), "5950,3990,50,10"),    # bottom-right corner
    (Box(-5, -5, 7000, 5000), "full"),                 # covers everything: the full region
    (Box(0, 0, 6000, 4000), "full"),
])
def test_regions_are_clamped_to_the_image(region, expected):
    req = plan_image_request(service(2, 1), region, 10_000)
    assert req.url.split("/")[-4] == expected


@pytest.mark.parametrize("region", [Box(6000, 0, 10, 10), Box(-50, 10, 40, 10), Box(10, 10, 0, 10)])
def test_regions_outside_the_image_are_refused(region):
    with pytest.raises(ValueError, match="outside"):
        plan_image_request(service(3, 2), region, 256)


def test_unknown_image_size_or_bad_max_side_is_refused():
    with pytest.raises(ValueError, match="info.json"):
        plan_image_request(ImageService(id=BASE, version=3, level=2), None, 256)
    with pytest.raises(ValueError, match="max_side"):
        plan_image_request(service(3, 2), None, 0)


def test_v3_level1_has_no_sizeByWh_unless_declared():
    assert "sizeByWh" not in supported_features(service(3, 1))
    req = plan_image_request(service(3, 1, extra_features=["sizeByWh"]), None, 1024)
    assert req.url == f"{BASE}/full/1024,683/0/default.jpg"


def test_v2_level1_never_asks_for_w_h():
    req = plan_image_request(service(2, 1), Box(100, 100, 400, 300), 200)
    assert req.url == f"{BASE}/100,100,400,300/200,/0/default.jpg"


def test_unknown_level_behaves_as_level_1():
    assert supported_features(service(2, None)) == supported_features(service(2, 1))
    req = plan_image_request(service(3, None), Box(0, 0, 1000, 500), 100)
    assert req.url == f"{BASE}/0,0,1000,500/100,/0/default.jpg"


def test_image_api_2_0_feature_names_are_understood():
    svc = service(2, 0, extra_features=["region_by_px", "size_by_w"])
    assert plan_image_request(svc, Box(0, 0, 100, 100), 50).url == f"{BASE}/0,0,100,100/50,/0/default.jpg"


# --- level 0: whole images at listed sizes, cropped and resized locally ---------------------


@pytest.mark.parametrize("version, size_param", [(2, "600,"), (3, "600,400"), (1, "600,")])
def test_level0_full_image_picks_the_smallest_listed_size_that_covers(version, size_param):
    req = plan_image_request(service(version, 0, sizes=LISTED), None, 512)
    quality = "native" if version == 1 else "default"
    assert req.url == f"{BASE}/full/{size_param}/0/{quality}.jpg"
    assert req.size == (600, 400)
    assert req.local_crop is None and req.resize_to == (512, 341)


def test_level0_exact_listed_size_needs_no_resize():
    req = plan_image_request(service(3, 0, sizes=LISTED), None, 600)
    assert req.url == f"{BASE}/full/600,400/0/default.jpg" and req.resize_to is None


def test_level0_region_is_mapped_into_the_fetched_size():
    req = plan_image_request(service(2, 0, sizes=LISTED), Box(1000, 1000, 2000, 1000), 512)
    # 2000 px of region -> 512 px needs the full image at >= 1536 px wide: the 3000 size.
    assert req.url == f"{BASE}/full/3000,/0/default.jpg"
    assert req.size == (3000, 2000)
    assert req.local_crop == Box(500, 500, 1000, 500)
    assert req.resize_to == (512, 256)


def test_level0_when_listed_sizes_are_too_small_the_full_size_is_used():
    req = plan_image_request(service(3, 0, sizes=LISTED), Box(100, 100, 200, 200), 224)
    assert req.url == f"{BASE}/full/max/0/default.jpg"
    assert req.size == (6000, 4000)
    assert req.local_crop == Box(100, 100, 200, 200)
    assert req.resize_to is None  # 200 px of image: never upscaled to 224


@pytest.mark.parametrize("version, keyword, quality", [(1, "full", "native"), (2, "full", "default"),
                                                        (3, "max", "default")])
def test_level0_without_sizes_fetches_everything_and_crops_locally(version, keyword, quality):
    req = plan_image_request(service(version, 0), Box(600, 400, 1200, 800), 300)
    assert req.url == f"{BASE}/full/{keyword}/0/{quality}.{'jpg'}"
    assert req.size == (6000, 4000)
    assert req.local_crop == Box(600, 400, 1200, 800)
    assert req.resize_to == (300, 200)


def test_level0_sizes_implied_by_tiles_are_used():
    tiles = [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}]
    req = plan_image_request(service(2, 0, width=4000, height=3000, tiles=tiles), None, 256)
    # Only at scale factor 8 (500x375) and 16 (250x188) does one tile hold the whole image.
    assert req.url == f"{BASE}/full/500,/0/default.jpg"
    assert req.size == (500, 375) and req.resize_to == (256, 192)


def test_level0_with_declared_region_and_size_features_asks_the_server():
    svc = service(3, 0, sizes=LISTED, extra_features=["regionByPx", "sizeByW"])
    req = plan_image_request(svc, Box(0, 0, 1000, 1000), 100)
    assert req.url == f"{BASE}/0,0,1000,1000/100,/0/default.jpg" and req.local_crop is None


def test_level0_that_crops_but_cannot_scale_resizes_locally():
    req = plan_image_request(service(3, 0, extra_features=["regionByPx"]), Box(0, 0, 1000, 500), 100)
    assert req.url == f"{BASE}/0,0,1000,500/max/0/default.jpg"
    assert req.size == (1000, 500) and req.local_crop is None and req.resize_to == (100, 50)


def test_level0_that_scales_but_cannot_crop_fetches_a_scaled_whole_image():
    req = plan_image_request(service(3, 0, extra_features=["sizeByW"]), Box(3000, 2000, 600, 400), 300)
    assert req.url == f"{BASE}/full/3000,/0/default.jpg"
    assert req.local_crop == Box(1500, 1000, 300, 200) and req.resize_to is None


# --- formats, info and thumbnails -----------------------------------------------------------


def test_formats_fall_back_to_jpg_unless_offered():
    assert plan_image_request(service(3, 1), None, 100, fmt="png").url.endswith(".jpg")
    assert plan_image_request(service(3, 2), None, 100, fmt="png").url.endswith(".png")
    assert plan_image_request(service(2, 1, formats=["webp"]), None, 100, fmt="webp").url.endswith(".webp")


def test_info_url_and_base_uri_normalisation():
    assert info_url(service(3, 1)) == f"{BASE}/info.json"
    assert info_url(ImageService(id=BASE + "/", version=2)) == f"{BASE}/info.json"
    assert info_url(ImageService(id=BASE + "/info.json", version=2)) == f"{BASE}/info.json"


def test_thumbnail_url():
    assert thumbnail_url(service(2, 1)) == f"{BASE}/full/256,/0/default.jpg"
    assert thumbnail_url(service(3, 2), Box(0, 0, 100, 200), 50) == f"{BASE}/0,0,100,200/25,50/0/default.jpg"
    # A level 0 server cannot crop: the thumbnail is the whole image at a listed size.
    assert thumbnail_url(service(3, 0, sizes=LISTED), Box(0, 0, 100, 100)) == f"{BASE}/full/600,400/0/default.jpg"


# --- invariants over many random services and regions --------------------------------------


def test_invariants_never_upscale_and_respect_max_side():
    rng = random.Random(1234)
    for _ in range(2000):
        width, height = rng.randint(1, 9000), rng.randint(1, 9000)
        level = rng.choice([0, 1, 2, None])
        sizes = []
        if level == 0 and rng.random() < 0.6:
            sizes = sorted({(max(1, width // f), max(1, height // f)) for f in (2, 4, 8, 16, 32)})
        svc = service(rng.choice([1, 2, 3]), level, width, height, sizes=sizes)
        if rng.random() < 0.2:
            region = None
            rw, rh = width, height
        else:
            x, y = rng.uniform(-100, width), rng.uniform(-100, height)
            region = Box(x, y, rng.uniform(1, width), rng.uniform(1, height))
            x0, y0 = min(max(0, round(x)), width), min(max(0, round(y)), height)
            rw = min(max(0, round(x + region.w)), width) - x0
            rh = min(max(0, round(y + region.h)), height) - y0
            if rw <= 0 or rh <= 0:
                with pytest.raises(ValueError):
                    plan_image_request(svc, region, 512)
                continue
        max_side = rng.choice([1, 64, 224, 512, 4096])
        req = plan_image_request(svc, region, max_side)
        out_w, out_h = final_size(req)
        assert 1 <= out_w <= rw and 1 <= out_h <= rh, (svc, region, req)
        assert max(out_w, out_h) <= max_side, (svc, region, req)
        if min(rw, rh) * max_side >= 20 * max(rw, rh):  # aspect ratio kept (when not degenerate)
            assert abs(out_w / out_h - rw / rh) <= 0.1 * (rw / rh) + 2 / out_h, (svc, region, req)
        assert req.size[0] <= width and req.size[1] <= height
        if req.local_crop:
            c = req.local_crop
            assert 0 <= c.x and 0 <= c.y and c.x + c.w <= req.size[0] and c.y + c.h <= req.size[1]
        else:
            assert req.resize_to is None or (req.resize_to[0] <= req.size[0] and req.resize_to[1] <= req.size[1])
