"""Published folders under /published, the system endpoints, the OpenAPI spec and the docs page."""

from __future__ import annotations

import re

import pytest


def test_published_files_are_served_with_etag_and_cors(client, indexed_demo):
    response = client.get("/published/demo/collection.json")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.get_json()["id"] == indexed_demo.collection_url
    assert response.headers["Access-Control-Allow-Origin"] == "*" and response.headers["ETag"]
    again = client.get("/published/demo/collection.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    info = client.get("/published/demo/images/munch-the-scream/info.json")
    assert info.status_code == 200 and info.get_json()["type"] == "ImageService3"
    redirect = client.get("/published/demo/images/munch-the-scream")
    assert redirect.status_code == 303 and redirect.headers["Location"].endswith("/munch-the-scream/info.json")
    w, h = info.get_json()["sizes"][0]["width"], info.get_json()["sizes"][0]["height"]
    jpeg = client.get(f"/published/demo/images/munch-the-scream/full/{w},{h}/0/default.jpg")
    assert jpeg.status_code == 200 and jpeg.mimetype == "image/jpeg"


@pytest.mark.parametrize("path", ["/published/../catalog.sqlite", "/published/demo/../../catalog.sqlite",
                                  "/published/%2e%2e/catalog.sqlite", "/published/demo/nothing.json",
                                  "/published//etc/passwd", "/published/demo/manifests"])
def test_nothing_outside_or_missing_is_served(client, path):
    response = client.get(path, follow_redirects=True)  # "//" is merged by a redirect first
    assert response.status_code == 404 and response.is_json


def test_a_link_out_of_the_published_folder_is_not_followed(private_app, private_settings, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (private_settings.published_dir / "leak.txt").symlink_to(secret)
    assert private_app.test_client().get("/published/leak.txt").status_code == 404


def test_health_status_and_models(client, indexed_demo):
    assert client.get("/api/health").get_json()["status"] == "ok"
    status = client.get("/api/status").get_json()
    assert status["index"]["vectors"][indexed_demo.vector]["points"] == indexed_demo.points
    assert status["model"]["active_vector"] == indexed_demo.vector
    assert status["catalog"]["manifests"] == 30 and status["catalog"]["regions"] == 16
    models = client.get("/api/models").get_json()
    tiny = next(m for m in models["models"] if m["name"] == "loupe-tiny")
    assert tiny["available"] and tiny["active"] and tiny["indexed_points"] == indexed_demo.points
    assert tiny["vector"] == indexed_demo.vector == models["active_vector"]


def test_openapi_documents_every_route_and_its_refs_resolve(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1") and spec["servers"][0]["url"] == "http://localhost"
    assert "normalise((1 - w) * image + w * text)" in spec["info"]["description"]
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/iiif/", "/published/", "/openapi")):
            continue  # web pages and their static files are not API
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI spec"

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(spec):
        target = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert target, ref


def test_the_docs_page_is_self_contained(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'fetch("openapi.json"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the docs page loads something external"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
