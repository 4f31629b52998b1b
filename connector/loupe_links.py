"""Links from IIIF manifests to a Loupe service: each canvas's machine annotations and the
manifest's Content Search services, so that any viewer (stock Mirador included) shows
Loupe's annotations and searches them without a plugin.

The addresses are the search service's (``search_service.annotations_out`` and
``iiif_search``): ``{loupe}/iiif/annotations/<canvas key>.json`` and
``{loupe}/iiif/{search|autocomplete}/{1|2}/manifest/<manifest key>``, keys being
``uri_key`` of the URIs. ``loupe publish --link-loupe`` writes them into published manifests.

The harvester must not read Loupe's own annotation pages back as curators' annotations:
``is_loupe_annotation_page`` recognises them by address, so they are not even fetched, and
``is_loupe_document`` by content (Loupe's ``@context``), for pages behind a proxy or a
rewritten address; the harvester skips both.
"""

from __future__ import annotations

import json
import re

from connector.catalog.keys import KEY_LENGTH, uri_key
from iiif.writers.annotations import names_loupe_context
from iiif.writers.content_search import search_service_v1, search_service_v2

_PAGE = re.compile(rf"/iiif/annotations/[0-9a-f]{{{KEY_LENGTH}}}\.json$")


def annotation_page_url(loupe: str, canvas: str) -> str:
    return f"{loupe.rstrip('/')}/iiif/annotations/{uri_key(canvas)}.json"


def annotation_page_ref(loupe: str, canvas: str) -> dict:
    """The reference to add to a canvas's ``annotations``."""
    return {"id": annotation_page_url(loupe, canvas), "type": "AnnotationPage"}


def search_services(loupe: str, manifest: str) -> list[dict]:
    """The ``service`` entries for a manifest: Content Search 2.0 and 1.0 (Mirador reads 1.0),
    each with its autocomplete."""
    base, key = loupe.rstrip("/"), uri_key(manifest)
    return [search_service_v2(f"{base}/iiif/search/2/manifest/{key}", f"{base}/iiif/autocomplete/2/manifest/{key}"),
            search_service_v1(f"{base}/iiif/search/1/manifest/{key}", f"{base}/iiif/autocomplete/1/manifest/{key}")]


def is_loupe_annotation_page(url: str) -> bool:
    """Whether ``url`` looks like a Loupe service's page of machine annotations."""
    return bool(_PAGE.search(url.split("?", 1)[0].split("#", 1)[0]))


def is_loupe_document(content: bytes) -> bool:
    """Whether a fetched JSON document is one Loupe wrote (its ``@context`` names Loupe's)."""
    try:
        doc = json.loads(content)
    except ValueError:
        return False
    return isinstance(doc, dict) and names_loupe_context(doc.get("@context"))
