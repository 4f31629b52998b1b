"""ImageFetcher against a real local server: formats, bounded sizes, coordinate mapping,
Image API services (level 2 and level 0), refusals, and the disk cache."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image as PILImage

from connector.http import FetchPolicy, HttpClient
from connector.images import FetchedImage, ImageError, ImageFetcher
from iiif.image_api import plan_image_request
from iiif.model import Box, Image, ImageService


def local(server) -> FetchPolicy:
    """Private addresses allowed for this test server's own host and port only."""
    return FetchPolicy.allowing(server.base_url)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def quadrants(width: int, height: int) -> PILImage.Image:
    """Top-left red, top-right green, bottom-left blue, bottom-right white."""
    im = PILImage.new("RGB", (width, height), WHITE)
    im.paste(RED, (0, 0, width // 2, height // 2))
    im.paste(GREEN, (width // 2, 0, width, height // 2))
    im.paste(BLUE, (0, height // 2, width // 2, height))
    return im


def encode(im: PILImage.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def near(colour: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


@pytest.fixture
def fetcher(settings, monkeypatch):
    # ImageFetcher sets Pillow's process-global pixel limit; undo it after each test.
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", PILImage.MAX_IMAGE_PIXELS)
    tuned = settings.replace(rate_limit_per_host=1000.0, respect_robots=False)
    with HttpClient(tuned) as client:
        yield ImageFetcher(tuned, client)


def test_png_is_fetched_at_the_default_bounded_size(http_server, fetcher) -> None:
    http_server.bytes("/a.png", encode(quadrants(1200, 800), "PNG"), "image/png")
    got = fetcher.fetch(Image(id=http_server.url("/a.png")), policy=local(http_server))
    assert (got.width, got.height, got.format, got.source_format) == (1024, 683, "PNG", "PNG")
    assert got.path.is_file() and got.path.suffix == ".png" and not got.from_cache
    with PILImage.open(got.path) as stored:
        assert stored.format == "PNG" and stored.mode == "RGB" and stored.size == (1024, 683)
    assert got.scale_x == pytest.approx(1200 / 1024) and got.scale_y == pytest.approx(800 / 683)
    assert got.to_full(1024, 683) == pytest.approx((1200, 800))


def test_jpeg_with_max_side(http_server, fetcher) -> None:
    http_server.bytes("/a.jpg", encode(quadrants(1200, 800), "JPEG", quality=95), "image/jpeg")
    got = fetcher.fetch(Image(id=http_server.url("/a.jpg")), max_side=300, policy=local(http_server))
    assert (got.width, got.height, got.format) == (300, 200, "JPEG")
    assert (got.scale_x, got.scale_y, got.offset_x, got.offset_y) == pytest.approx((4, 4, 0, 0))
    im = got.open()
    assert near(im.getpixel((70, 50)), RED) and near(im.getpixel((230, 150)), WHITE)


def test_webp_and_tiff_are_normalised_to_jpeg(http_server, fetcher) -> None:
    http_server.bytes("/a.webp", encode(quadrants(400, 200), "WEBP"), "image/webp")
    http_server.bytes("/a.tif", encode(quadrants(400, 200), "TIFF"), "image/tiff")
    for path, source in (("/a.webp", "WEBP"), ("/a.tif", "TIFF")):
        got = fetcher.fetch(Image(id=http_server.url(path)), max_side=100, policy=local(http_server))
        assert (got.width, got.height, got.format, got.source_format) == (100, 50, "JPEG", source)


def test_transparency_is_flattened_onto_white(http_server, fetcher) -> None:
    http_server.bytes("/alpha.png", encode(PILImage.new("RGBA", (20, 10), (0, 0, 0, 0)), "PNG"), "image/png")
    got = fetcher.fetch(Image(id=http_server.url("/alpha.png")), policy=local(http_server))
    assert got.open().getpixel((5, 5)) == WHITE


def test_the_decoded_format_counts_not_the_content_type(http_server, fetcher) -> None:
    http_server.bytes("/png-as-jpeg", encode(quadrants(40, 20), "PNG"), "image/jpeg")
    assert fetcher.fetch(Image(id=http_server.url("/png-as-jpeg")), policy=local(http_server)).source_format == "PNG"
    http_server.bytes("/gif-as-png", encode(quadrants(40, 20), "GIF"), "image/png")
    with pytest.raises(ImageError) as info:
        fetcher.fetch(Image(id=http_server.url("/gif-as-png")), policy=local(http_server))
    assert info.value.kind == "invalid" and "unsupported image format GIF" in str(info.value)


def test_corrupt_and_truncated_images(http_server, fetcher) -> None:
    jpeg = encode(quadrants(400, 300), "JPEG")
    http_server.bytes("/truncated.jpg", jpeg[: len(jpeg) // 2], "image/jpeg")
    http_server.bytes("/garbage.jpg", b"\xff\xd8 this is not really a jpeg", "image/jpeg")
    with pytest.raises(ImageError) as info:
        fetcher.fetch(Image(id=http_server.url("/truncated.jpg")), policy=local(http_server))
    assert "corrupt or truncated JPEG" in info.value.reason and "/truncated.jpg" in str(info.value)
    with pytest.raises(ImageError) as info:
        fetcher.fetch(Image(id=http_server.url("/garbage.jpg")), policy=local(http_server))
    assert "not a readable image" in info.value.reason


def tiny_png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header (IHDR) announcing huge dimensions, with almost no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(http_server, fetcher) -> None:
    bomb = tiny_png_claiming(100_000, 100_000)
    assert len(bomb) < 100
    http_server.bytes("/bomb.png", bomb, "image/png")
    with pytest.raises(ImageError) as info:
        fetcher.fetch(Image(id=http_server.url("/bomb.png")), policy=local(http_server))
    assert info.value.kind == "too_large" and "pixels" in str(info.value)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_comes_from_settings(http_server, settings, monkeypatch) -> None:
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", PILImage.MAX_IMAGE_PIXELS)
    tuned = settings.replace(max_image_pixels=10_000, rate_limit_per_host=1000.0, respect_robots=False)
    http_server.bytes("/big.png", encode(quadrants(150, 100), "PNG"), "image/png")
    with HttpClient(tuned) as client:
        with pytest.raises(ImageError) as info:
            ImageFetcher(tuned, client).fetch(Image(id=http_server.url("/big.png")), policy=local(http_server))
    assert info.value.kind == "too_large" and "150x100 = 15,000 pixels" in str(info.value)


def test_region_without_service_maps_back_to_declared_coordinates(http_server, fetcher) -> None:
    """The manifest declares 2400x1600; the file is 1200x800. Regions and the mapping use
    the declared full-image coordinates."""
    http_server.bytes("/q.jpg", encode(quadrants(1200, 800), "JPEG", quality=95), "image/jpeg")
    image = Image(id=http_server.url("/q.jpg"), width=2400, height=1600)
    got = fetcher.fetch(image, region=Box(1200, 0, 1200, 800), max_side=150, policy=local(http_server))
    assert (got.width, got.height) == (150, 100)
    assert (got.offset_x, got.offset_y) == pytest.approx((1200, 0))
    assert (got.scale_x, got.scale_y) == pytest.approx((8, 8))
    assert near(got.open().getpixel((75, 50)), GREEN)
    assert got.box_to_full(Box(0, 0, 150, 100)).as_tuple() == pytest.approx((1200, 0, 1200, 800))


def test_large_jpeg_is_decoded_in_draft_mode_with_a_correct_mapping(http_server, fetcher) -> None:
    http_server.bytes("/big.jpg", encode(quadrants(3200, 1600), "JPEG", quality=90), "image/jpeg")
    got = fetcher.fetch(Image(id=http_server.url("/big.jpg")), region=Box(0, 800, 1600, 800), max_side=200,
                        policy=local(http_server))
    assert (got.width, got.height) == (200, 100)
    assert (got.offset_x, got.offset_y, got.scale_x, got.scale_y) == pytest.approx((0, 800, 8, 8))
    assert near(got.open().getpixel((100, 50)), BLUE)


def test_exif_orientation_of_a_static_jpeg_is_applied(http_server, fetcher) -> None:
    stored = PILImage.new("RGB", (200, 100), BLUE)
    stored.paste(RED, (0, 0, 100, 100))  # left half red: the top once turned upright
    exif = PILImage.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    http_server.bytes("/phone.jpg", encode(stored, "JPEG", exif=exif.tobytes()), "image/jpeg")
    got = fetcher.fetch(Image(id=http_server.url("/phone.jpg")), policy=local(http_server))
    assert (got.width, got.height) == (100, 200)
    im = got.open()
    assert near(im.getpixel((50, 20)), RED) and near(im.getpixel((50, 180)), BLUE)


def test_cache_hit_makes_no_second_request(http_server, fetcher, settings) -> None:
    http_server.bytes("/c.jpg", encode(quadrants(600, 400), "JPEG"), "image/jpeg")
    image = Image(id=http_server.url("/c.jpg"))
    first = fetcher.fetch(image, max_side=100, policy=local(http_server))
    second = fetcher.fetch(image, max_side=100, policy=local(http_server))
    assert second.from_cache and not first.from_cache
    assert (second.path, second.width, second.scale_x) == (first.path, first.width, first.scale_x)
    assert second.path.is_relative_to(settings.image_cache_dir)
    with HttpClient(fetcher.settings) as other_client:  # a later process: the disk cache is enough
        assert ImageFetcher(fetcher.settings, other_client).fetch(image, max_side=100, policy=local(http_server)).from_cache
    assert len(http_server.requests_for("/c.jpg")) == 1
    assert not list(settings.image_cache_dir.rglob(".tmp-*"))
    # Another size is another entry.
    assert not fetcher.fetch(image, max_side=50, policy=local(http_server)).from_cache


def serve_planned(http_server, service: ImageService, region: Box | None, max_side: int,
                  source: PILImage.Image) -> str:
    """Serve what an Image API server would answer to the planned URL (cut from ``source``)."""
    request = plan_image_request(service, region, max_side)
    path = request.url.removeprefix(http_server.base_url)
    region_part = path.split("/")[-4]
    if region_part == "full":
        box = (0, 0, service.width, service.height)
    else:
        x, y, w, h = (int(v) for v in region_part.split(","))
        box = (x, y, x + w, y + h)
    answer = source.crop(box).resize(request.size)
    http_server.bytes(path, encode(answer, "JPEG", quality=95), "image/jpeg")
    return path


def test_level2_service_crops_and_scales_on_the_server(http_server, fetcher) -> None:
    source = quadrants(1000, 500)
    service = ImageService(id=http_server.url("/iiif/q"), version=3, level=2, width=1000, height=500)
    path = serve_planned(http_server, service, Box(500, 250, 500, 250), 100, source)
    got = fetcher.fetch(Image(id=http_server.url("/q.jpg"), service=service), region=Box(500, 250, 500, 250),
                        max_side=100, policy=local(http_server))
    assert "/500,250,500,250/100,50/" in path
    assert (got.width, got.height) == (100, 50)
    assert (got.offset_x, got.offset_y, got.scale_x, got.scale_y) == pytest.approx((500, 250, 5, 5))
    assert near(got.open().getpixel((50, 25)), WHITE)
    assert http_server.requests_for("/q.jpg") == []  # the resource itself was not downloaded


def test_level0_service_whole_image_then_local_crop(http_server, fetcher) -> None:
    source = quadrants(1000, 500)
    service = ImageService(id=http_server.url("/iiif/static"), version=2, level=0, width=1000, height=500,
                           sizes=[(250, 125), (500, 250)])
    region = Box(0, 250, 500, 250)  # the blue quadrant
    request = plan_image_request(service, region, 100)
    assert request.local_crop is not None  # level 0 cannot crop: this test exercises the local path
    serve_planned(http_server, service, region, 100, source)
    got = fetcher.fetch(Image(id="http://unused.example/", service=service), region=region, max_side=100,
                        policy=local(http_server))
    assert max(got.width, got.height) <= 100
    x0, y0 = got.to_full(0, 0)
    x1, y1 = got.to_full(got.width, got.height)
    assert (x0, y0, x1, y1) == pytest.approx((0, 250, 500, 500), abs=4)
    assert near(got.open().getpixel((got.width // 2, got.height // 2)), BLUE)


def test_service_without_size_reads_info_json_once(http_server, fetcher) -> None:
    source = quadrants(800, 400)
    base = http_server.url("/iiif/info-needed")
    http_server.json("/iiif/info-needed/info.json", {
        "@context": "http://iiif.io/api/image/3/context.json", "id": base, "type": "ImageService3",
        "protocol": "http://iiif.io/api/image", "profile": "level2", "width": 800, "height": 400})
    sized = ImageService(id=base, version=3, level=2, width=800, height=400)
    serve_planned(http_server, sized, None, 200, source)
    image = Image(id=http_server.url("/unused.jpg"), service=ImageService(id=base, version=3, level=2))
    got = fetcher.fetch(image, max_side=200, policy=local(http_server))
    assert (got.width, got.height, got.scale_x) == (200, 100, pytest.approx(4))
    assert fetcher.fetch(image, max_side=200, policy=local(http_server)).from_cache
    assert len(http_server.requests_for("/iiif/info-needed/info.json")) == 1


def test_fetched_image_mapping_helpers() -> None:
    got = FetchedImage(path=None, width=10, height=10, format="JPEG", scale_x=2, scale_y=3,  # type: ignore[arg-type]
                       offset_x=100, offset_y=50, source_url="u", source_format="JPEG")
    assert got.to_full(5, 5) == (110, 65)
    assert got.box_to_full(Box(1, 1, 2, 2)).as_tuple() == (102, 53, 4, 6)
