"""A harvest over real HTTP of a collection whose every text carries an OWASP XSS payload
(collection and manifest labels, summaries, metadata, requiredStatement, canvas labels,
annotation bodies and creators of v3 pages and of fetched v2 annotation lists, SVG
selectors, rights and licences): nothing unsafe reaches the catalog, and each manifest
records what was removed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import CanvasRow, CollectionRow, ManifestRow, RegionRow
from connector.harvest import Harvester
from tests.connector.harvest_fixtures import CTX3, serve_json
from tests.support.xss import (
    PAYLOADS,
    SVG_PAYLOADS,
    assert_safe_value,
    hostile_annotation_list_v2,
    hostile_manifest_v2,
    hostile_manifest_v3,
)


@pytest.fixture
def catalog(settings):
    cat = Catalog.open(settings)
    yield cat
    cat.close()


def _strings(value, into: list[str]) -> list[str]:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _strings(v, into)
    return into


def _serve(server) -> str:
    base = server.base_url
    members = []
    for n, payload in enumerate(PAYLOADS):
        svg = SVG_PAYLOADS[n % len(SVG_PAYLOADS)]
        here = f"{base}/m{n}"
        serve_json(server, f"/m{n}/m.json", hostile_manifest_v3(payload, svg, here, page_ref=f"{here}/list.json"))
        serve_json(server, f"/m{n}/list.json", hostile_annotation_list_v2(payload, svg, here))
        members.append({"id": f"{here}/m.json", "type": "Manifest", "label": {"en": [payload]}})
    for n, payload in enumerate(PAYLOADS[:10]):
        serve_json(server, f"/v2/{n}.json", hostile_manifest_v2(payload, f"{base}/v2/{n}"))
        members.append({"id": f"{base}/v2/{n}.json", "type": "Manifest"})
    serve_json(server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection",
        "label": {"en": [PAYLOADS[0]]}, "summary": {"en": [PAYLOADS[1]]}, "items": members})
    return f"{base}/collection.json"


def test_hostile_texts_never_reach_the_catalog(settings, catalog, http_server) -> None:
    url = _serve(http_server)
    src = catalog.add_source(url, "collection", allow_private=True)
    with Harvester(settings.replace(rate_limit_per_host=1000.0, concurrency_per_host=4), catalog) as h:
        report = h.harvest(catalog.get_source(src.id), fetch_images=False)
    assert report.counts["new"] == len(PAYLOADS) + 10 and report.counts.get("failed", 0) == 0, report.problems
    assert report.status == "completed_with_problems"

    checked = 0
    with catalog.session() as s:
        for row in s.scalars(select(CollectionRow)):
            for text in _strings(row.label, []):
                assert_safe_value(text, f"collection {row.uri}")
                checked += 1
        for m in s.scalars(select(ManifestRow)):
            assert m.rights is None, (m.uri, m.rights)
            for field in (m.label, m.summary, m.metadata_, m.required_statement, m.provider):
                for text in _strings(field, []):
                    assert_safe_value(text, m.uri)
                    checked += 1
            removed = [p for p in m.problems if "markup removed" in p["what"] or "SVG selector" in p["what"]]
            assert removed or m.uri.startswith(f"{http_server.base_url}/v2/"), m.uri
            assert m.status == "problems", m.uri  # unsafe markup is an error: `loupe catalog problems` lists it
            assert any(("rights" in p["where"] or "license" in p["where"]) and "dropped" in p["what"]
                       for p in m.problems), m.uri
        for c in s.scalars(select(CanvasRow)):
            for text in _strings(c.label, []):
                assert_safe_value(text, c.uri)
                checked += 1
        regions = s.scalars(select(RegionRow)).all()
        for r in regions:
            for text in _strings(r.texts, []) + list(r.tags) + ([r.creator] if r.creator else []):
                assert_safe_value(text, r.annotation_id or "")
                checked += 1
            assert all(not link.lower().startswith("javascript") for link in r.links), r.links
        # The outlines of the hostile SVG selectors survived as polygons (v3 page and v2 list).
        assert sum(1 for r in regions if r.polygon) == 2 * len(PAYLOADS)
    assert checked > 10 * len(PAYLOADS)
    # Something was stored: the point is not that everything was thrown away.
    with catalog.session() as s:
        labels = [json.dumps(m.label) for m in s.scalars(select(ManifestRow))]
    assert sum("Title" in label for label in labels) >= len(PAYLOADS) // 2
