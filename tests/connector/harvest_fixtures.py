"""Small IIIF documents for harvest tests, served by ``tests.support.httpserver``."""

from __future__ import annotations

import hashlib
import io

from PIL import Image as PILImage

from tests.support.httpserver import TestHTTPServer

CTX3 = "http://iiif.io/api/presentation/3/context.json"
CTX2 = "http://iiif.io/api/presentation/2/context.json"


def manifest_v3(base: str, name: str, label: str = "", notes: list[str] = (), image_path: str | None = None,
                page_ref: str | None = None) -> dict:
    mid = f"{base}/m/{name}.json"
    canvas = f"{base}/m/{name}/c1"
    body = {"id": f"{base}{image_path}" if image_path else f"{base}/img/{name}.jpg", "type": "Image",
            "format": "image/jpeg", "width": 64, "height": 48}
    doc = {
        "@context": CTX3, "id": mid, "type": "Manifest", "label": {"en": [label or f"Object {name}"]},
        "items": [{
            "id": canvas, "type": "Canvas", "width": 640, "height": 480,
            "items": [{"id": f"{canvas}/p", "type": "AnnotationPage", "items": [{
                "id": f"{canvas}/a", "type": "Annotation", "motivation": "painting", "body": body,
                "target": canvas}]}],
        }],
    }
    if notes:
        doc["items"][0]["annotations"] = [{"id": f"{canvas}/notes", "type": "AnnotationPage", "items": [
            {"id": f"{canvas}/n{i}", "type": "Annotation", "motivation": "commenting",
             "body": {"type": "TextualBody", "value": text, "language": "en"},
             "target": f"{canvas}#xywh={10 * i},{20 * i},100,50"} for i, text in enumerate(notes)]}]
    if page_ref:
        doc["items"][0].setdefault("annotations", []).append({"id": page_ref, "type": "AnnotationPage"})
    return doc


def jpeg(w: int = 64, h: int = 48, color=(120, 30, 200)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (w, h), color).save(buf, "JPEG")
    return buf.getvalue()


def etag_of(doc_bytes: bytes) -> str:
    return '"' + hashlib.sha1(doc_bytes).hexdigest()[:12] + '"'


def serve_json(server: TestHTTPServer, path: str, doc) -> None:
    """Serve a JSON document with an ETag of its content, so conditional GETs get 304s."""
    import json

    body = json.dumps(doc).encode()
    server.bytes(path, body, content_type="application/ld+json", etag=etag_of(body))


def serve_collection(server: TestHTTPServer, names: list[str], notes: bool = True) -> str:
    base = server.base_url
    serve_json(server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["Test"]},
        "items": [{"id": f"{base}/m/{n}.json", "type": "Manifest", "label": {"en": [n]}} for n in names]})
    for n in names:
        serve_json(server, f"/m/{n}.json", manifest_v3(base, n, notes=["a note", "another"] if notes else []))
        server.bytes(f"/img/{n}.jpg", jpeg(), content_type="image/jpeg")
    return f"{base}/collection.json"
