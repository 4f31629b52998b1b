"""Upload limits and formats, answered with JSON 4xx that say what was wrong; and the rule
that the server never fetches a URL a client sends."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from search_service.request_errors import TooLarge
from search_service.uploads import decode_image


def _image_bytes(fmt: str, size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def _post(client, data: bytes, name: str = "x.jpg"):
    return client.post("/api/search/image", data={"image": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats(client, fmt):
    response = _post(client, _image_bytes(fmt), f"x.{fmt.lower()}")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_415(client, fmt):
    response = _post(client, _image_bytes(fmt), "x.jpg")  # the name does not matter: the content does
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and fmt in error["message"] and "JPEG, PNG or WEBP" in error["message"]


def test_something_that_is_no_image_is_415(client):
    response = _post(client, b"%PDF-1.4 not an image at all")
    assert response.status_code == 415 and response.get_json()["error"]["field"] == "image"


def test_a_truncated_image_is_400(client):
    data = _image_bytes("PNG", (300, 300))
    response = _post(client, data[: len(data) // 2])
    assert response.status_code in (400, 415)
    assert response.get_json()["error"]["code"] in ("invalid_image", "unsupported_media_type")


def test_an_upload_over_max_upload_bytes_is_413(make_app):
    client = make_app(max_upload_bytes=2_000).test_client()
    data = _image_bytes("PNG", (200, 200)) + b"\0" * 3_000
    response = _post(client, data)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "upload_too_large" and "max_upload_bytes" in error["message"] and "2,000" in error["message"]
    response = client.post("/api/search/image", json={"image_base64": base64.b64encode(data).decode()})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "upload_too_large"


def test_a_request_body_far_over_the_limit_is_413_json(make_app):
    client = make_app(max_upload_bytes=1_000).test_client()
    response = _post(client, b"\xff" * 2_000_000)  # beyond MAX_CONTENT_LENGTH: refused before reading
    assert response.status_code == 413 and response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "upload_too_large" and "max_upload_bytes" in error["message"]


def test_too_many_pixels_is_413(make_app):
    client = make_app(max_upload_pixels=1_000).test_client()
    response = _post(client, _image_bytes("PNG", (100, 100)))
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_many_pixels" and "100x100" in error["message"] and "max_upload_pixels" in error["message"]


@pytest.mark.parametrize("value", ["not base64 !!!", "", 42])
def test_bad_base64_is_400(client, value):
    response = client.post("/api/search/image", json={"image_base64": value})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_image", "message": response.get_json()["error"]["message"],
                                            "field": "image_base64"}


def test_base64url_is_accepted(client):
    data = base64.urlsafe_b64encode(_image_bytes("PNG", (90, 70))).decode().rstrip("=")
    assert client.post("/api/search/image", json={"image_base64": data, "limit": 1}).status_code == 200


def test_an_empty_file_is_400(client):
    response = _post(client, b"")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_image"


@pytest.mark.parametrize("body", [
    {"url": "http://169.254.169.254/latest/meta-data/"},
    {"image_url": "https://example.org/a.jpg"},
    {"reference": {"canvas": "https://example.org/c", "url": "https://example.org/a.jpg"}},
])
def test_a_url_to_fetch_is_refused_and_not_fetched(client, body, monkeypatch):
    import connector.http

    def no_fetch(*args, **kwargs):  # pragma: no cover - the point is that it is never called
        raise AssertionError("the server tried to fetch a client URL")

    monkeypatch.setattr(connector.http.HttpClient, "get", no_fetch)
    for path in ("/api/search/image", "/api/search/composed"):
        response = client.post(path, json={**body, "text": "x"} if "composed" in path else body)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] in ("url_not_allowed", "unknown_parameter") and "never fetches" in error["message"]


def test_a_url_as_a_form_field_or_in_the_query_is_refused(client):
    response = client.post("/api/search/image", data={"url": "https://example.org/a.jpg"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "url_not_allowed"
    response = client.get("/api/search?q=x&image_url=https://example.org/a.jpg")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "url_not_allowed"


def test_decode_image_applies_exif_orientation_and_gives_rgb(settings):
    im = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    up = decode_image(buf.getvalue(), settings)
    assert up.format == "JPEG" and up.image.mode == "RGB" and up.image.size == (20, 40)


def test_decode_image_limits_do_not_depend_on_the_request(settings):
    with pytest.raises(TooLarge) as e:
        decode_image(_image_bytes("PNG"), settings.replace(max_upload_bytes=10))
    assert e.value.code == "upload_too_large"
