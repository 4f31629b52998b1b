"""Links from IIIF manifests to a Loupe service: each canvas's machine annotations and the
manifest's Content Search services, so that any viewer (stock Mirador included) shows
Loupe's annotations and searches them without a plugin.

The addresses are the search service's (``search_service.annotations_out`` and
``iiif_search``): ``{loupe}/iiif/annotations/<canvas key>.json`` and
``{loupe}/iiif/{search|autocomplete}/{1|2}/manifest/<manifest key>``, keys being
``uri_key`` of the URIs. ``loupe publish --link-loupe`` writes them into published manifests.

The harvester must not read Loupe's own annotation pages back as curators' annotations:
``is_loupe_annotation_page`` recognises them, and it skips them.
"""

from __future__ import annotations

import re

from connector.catalog.keys import KEY_LENGTH, uri_key
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
