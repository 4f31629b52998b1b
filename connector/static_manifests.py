"""Presentation 3 documents of a published folder: one manifest per image, the collection.

Plain dicts, checked against the IIIF presentation validator's JSON schema in the tests.
URLs: ``{base}/collection.json``, ``{base}/manifests/{slug}.json``, the image service
``{base}/images/{slug}``; canvases and annotations get ids under ``{base}/canvas/{slug}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from connector.loupe_links import annotation_page_ref, search_services
from connector.static_inputs import Region
from connector.static_tiles import level0_sizes, service_reference

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
THUMBNAIL_MIN_SIDE = 300
# Columns of the metadata CSV with a meaning of their own; the rest become metadata entries.
TITLE_COLUMNS = ("title", "label", "name")
SUMMARY_COLUMNS = ("description", "summary")
RIGHTS_COLUMNS = ("rights", "licence", "license", "licence_url", "license_url", "rights_url")
ATTRIBUTION_COLUMNS = ("attribution", "credit", "credit_line", "required_statement")
LANGUAGE_COLUMNS = ("language", "lang")
METADATA_LABELS = {"artist": "Artist", "creator": "Creator", "date": "Date"}
# `rights` must be a Creative Commons or RightsStatements.org URI (http form, per the spec).
_RIGHTS_URI = re.compile(r"^https?://(creativecommons\.org/(licenses|publicdomain)/|rightsstatements\.org/vocab/)\S+$",
                         re.IGNORECASE)
_YEAR = re.compile(r"^\d{4}$")


@dataclass
class PublishedImage:
    """One image as published: what the manifest needs to know about it."""

    slug: str
    width: int
    height: int
    original_size: tuple[int, int]  # oriented source size, the frame of region coordinates
    default_label: str  # the file name, when the metadata gives no title
    metadata: dict[str, str] = field(default_factory=dict)
    regions: list[Region] = field(default_factory=list)


class Urls:
    """Every URL of a published tree, from its base URL."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")

    @property
    def collection(self) -> str:
        return f"{self.base}/collection.json"

    def manifest(self, slug: str) -> str:
        return f"{self.base}/manifests/{slug}.json"

    def service(self, slug: str) -> str:
        return f"{self.base}/images/{slug}"

    def canvas(self, slug: str) -> str:
        return f"{self.base}/canvas/{slug}"


def language_map(text: str, language: str | None) -> dict[str, list[str]]:
    return {language or "none": [text]}


def rights_uri(value: str) -> str | None:
    """``value`` as a `rights` URI (https made http, as the spec asks), or None when it is
    not a Creative Commons or RightsStatements.org URI."""
    value = value.strip()
    if not _RIGHTS_URI.match(value):
        return None
    value = "http://" + value.split("://", 1)[1]
    return value if value.endswith("/") or "#" in value or "?" in value else value + "/"


def thumbnail(urls: Urls, image: PublishedImage) -> dict:
    """A listed size of the image (the smallest with a side >= 300 px) with its service."""
    sizes = level0_sizes(image.width, image.height)
    w, h = next((s for s in sizes if max(s) >= THUMBNAIL_MIN_SIDE), sizes[-1])
    service_id = urls.service(image.slug)
    return {"id": f"{service_id}/full/{w},{h}/0/default.jpg", "type": "Image", "format": "image/jpeg",
            "width": w, "height": h, "service": [service_reference(service_id, image.width, image.height)]}


def descriptive_properties(row: dict[str, str], default_label: str) -> dict:
    """label, summary, metadata, rights, requiredStatement and navDate from a metadata row."""
    language = _first(row, LANGUAGE_COLUMNS)
    out: dict = {"label": language_map(_first(row, TITLE_COLUMNS) or default_label,
                                       language if _first(row, TITLE_COLUMNS) else None)}
    if summary := _first(row, SUMMARY_COLUMNS):
        out["summary"] = language_map(summary, language)
    statement: list[str] = []
    if attribution := _first(row, ATTRIBUTION_COLUMNS):
        statement.append(attribution)
    for column in RIGHTS_COLUMNS:
        if value := row.get(column):
            if (uri := rights_uri(value)) and "rights" not in out:
                out["rights"] = uri
            else:  # not a licence URI the spec allows in `rights`: shown to people instead
                statement.append(f"Licence: {value}")
    if statement:
        label = "Attribution" if attribution else "Rights"
        out["requiredStatement"] = {"label": {"en": [label]}, "value": language_map("; ".join(statement), language)}
    special = set(TITLE_COLUMNS + SUMMARY_COLUMNS + RIGHTS_COLUMNS + ATTRIBUTION_COLUMNS + LANGUAGE_COLUMNS
                  + ("file", "filename", "file_name", "image", "slug"))
    metadata = []
    for column, value in row.items():
        if column in special or not value:
            continue
        label = METADATA_LABELS.get(column, column.replace("_", " ").capitalize())
        metadata.append({"label": {"en": [label]}, "value": language_map(value, language)})
    if metadata:
        out["metadata"] = metadata
    if _YEAR.match(row.get("date", "")):
        out["navDate"] = f"{row['date']}-01-01T00:00:00Z"
    return out


def region_annotations(urls: Urls, image: PublishedImage) -> list[dict]:
    """The regions as commenting/tagging annotations on the canvas, scaled from the original
    image to the canvas and clipped to it; regions left empty by clipping are dropped."""
    canvas = urls.canvas(image.slug)
    sx = image.width / image.original_size[0]
    sy = image.height / image.original_size[1]
    annotations = []
    for region in image.regions:
        x, y, w, h = region.box
        x1, y1 = min(max(round(x * sx), 0), image.width), min(max(round(y * sy), 0), image.height)
        x2, y2 = min(round((x + w) * sx), image.width), min(round((y + h) * sy), image.height)
        if x2 <= x1 or y2 <= y1:
            continue
        bodies: list[dict] = []
        motivations: list[str] = []
        if region.text:
            body = {"type": "TextualBody", "value": region.text, "format": "text/plain", "purpose": "commenting"}
            if region.language:  # a BCP 47 tag; IIIF's "none" has no place in a Web Annotation body
                body["language"] = region.language
            bodies.append(body)
            motivations.append("commenting")
        for tag in region.tags:
            bodies.append({"type": "TextualBody", "value": tag, "purpose": "tagging"})
        if region.tags:
            motivations.append("tagging")
        annotations.append({
            "id": f"{canvas}/regions/{len(annotations) + 1}",
            "type": "Annotation",
            "motivation": motivations[0] if len(motivations) == 1 else motivations,
            "creator": {"type": "Person", "name": region.creator or "curator"},
            "body": bodies[0] if len(bodies) == 1 else bodies,
            "target": f"{canvas}#xywh={x1},{y1},{x2 - x1},{y2 - y1}",
        })
    return annotations


def manifest(urls: Urls, image: PublishedImage, loupe: str | None = None) -> dict:
    """The Presentation 3 manifest of one image: one canvas painted with a level-0 image.
    ``loupe``: a Loupe service's address, to link its machine annotations for the canvas and
    its Content Search services for the manifest (``loupe_links``)."""
    slug, canvas_id, service_id = image.slug, urls.canvas(image.slug), urls.service(image.slug)
    props = descriptive_properties(image.metadata, image.default_label)
    canvas: dict = {
        "id": canvas_id,
        "type": "Canvas",
        "label": props["label"],
        "width": image.width,
        "height": image.height,
        "items": [{
            "id": f"{canvas_id}/page",
            "type": "AnnotationPage",
            "items": [{
                "id": f"{canvas_id}/page/image",
                "type": "Annotation",
                "motivation": "painting",
                "body": {
                    "id": f"{service_id}/full/max/0/default.jpg",
                    "type": "Image",
                    "format": "image/jpeg",
                    "width": image.width,
                    "height": image.height,
                    "service": [service_reference(service_id, image.width, image.height)],
                },
                "target": canvas_id,
            }],
        }],
    }
    if annotations := region_annotations(urls, image):
        canvas["annotations"] = [{"id": f"{canvas_id}/regions", "type": "AnnotationPage", "items": annotations}]
    if loupe:
        canvas.setdefault("annotations", []).append(annotation_page_ref(loupe, canvas_id))
    doc = {
        "@context": PRESENTATION_CONTEXT,
        "id": urls.manifest(slug),
        "type": "Manifest",
        **props,
        "thumbnail": [thumbnail(urls, image)],
        "partOf": [{"id": urls.collection, "type": "Collection"}],
        "items": [canvas],
    }
    if loupe:
        doc["service"] = search_services(loupe, doc["id"])
    return doc


def collection(urls: Urls, label: str, images: list[PublishedImage]) -> dict:
    """The Presentation 3 collection listing every manifest with its label and thumbnail."""
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": urls.collection,
        "type": "Collection",
        "label": {"none": [label]},
        "items": [{
            "id": urls.manifest(img.slug),
            "type": "Manifest",
            "label": descriptive_properties(img.metadata, img.default_label)["label"],
            "thumbnail": [thumbnail(urls, img)],
        } for img in images],
    }


def _first(row: dict[str, str], columns: tuple[str, ...]) -> str | None:
    return next((row[c] for c in columns if row.get(c)), None)
