"""Harvesting over real HTTP on 127.0.0.1 into a real SQLite catalog."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import ImageRow, ManifestRow, RegionRow
from connector.harvest import Harvester
from tests.connector.harvest_fixtures import (
    CTX2,
    CTX3,
    jpeg,
    manifest_v3,
    serve_collection,
    serve_json,
)
from tests.support.httpserver import Reply


@pytest.fixture
def fast(settings):
    """Politeness kept on (robots, limits) but fast enough for tests."""
    return settings.replace(rate_limit_per_host=500.0, concurrency_per_host=4)


@pytest.fixture
def catalog(fast):
    cat = Catalog.open(fast)
    yield cat
    cat.close()


def harvest(fast, catalog, url, kind="collection", images=True, **source):
    src = catalog.add_source(url, kind, allow_private=True, **source)
    with Harvester(fast, catalog) as h:
        return h.harvest(catalog.get_source(src.id), fetch_images=images)


def test_collection_harvest_stores_manifests_canvases_images_and_regions(fast, catalog, http_server):
    url = serve_collection(http_server, ["a", "b", "c"])
    report = harvest(fast, catalog, url)
    assert report.status == "completed", report.problems
    assert report.counts["new"] == 3 and report.counts["images_fetched"] == 3
    stats = catalog.stats()
    assert (stats["manifests"], stats["canvases"], stats["images"], stats["regions"]) == (3, 3, 3, 6)
    with catalog.session() as s:
        region = s.scalars(select(RegionRow).where(RegionRow.annotation_id.like("%/a/c1/n1"))).one()
        assert (region.x, region.y, region.w, region.h) == (10, 20, 100, 50)
        # canvas 640x480 painted with a 64x48 image: image pixels are a tenth
        assert region.image_xywh == [1.0, 2.0, 10.0, 5.0]
        assert region.texts == {"en": ["another"]} and region.made_by == "person"
        assert region.motivation == "commenting"
    # the User-Agent names Loupe
    assert "Loupe/" in http_server.requests_for("/m/a.json")[0].headers["user-agent"]


def test_reharvest_uses_304_and_changes_nothing(fast, catalog, http_server):
    url = serve_collection(http_server, ["a", "b"])
    harvest(fast, catalog, url)
    before = catalog.snapshot()
    with catalog.session() as s:
        stamps = dict(s.execute(select(ManifestRow.uri, ManifestRow.updated_at)).all())
    http_server.clear_log()
    report = harvest(fast, catalog, url)
    assert report.counts["unchanged"] == 2 and report.counts.get("new", 0) == 0
    for path in ("/m/a.json", "/m/b.json"):
        (req,) = http_server.requests_for(path)
        assert "if-none-match" in req.headers
    assert http_server.requests_for("/img/a.jpg") == []  # images already fetched
    assert catalog.snapshot() == before
    with catalog.session() as s:
        assert dict(s.execute(select(ManifestRow.uri, ManifestRow.updated_at)).all()) == stamps


def test_changed_manifest_updates_in_place_and_removed_one_is_deleted(fast, catalog, http_server):
    url = serve_collection(http_server, ["a", "b"])
    harvest(fast, catalog, url)
    with catalog.session() as s:
        ids = dict(s.execute(select(ManifestRow.uri, ManifestRow.id)).all())
    base = http_server.base_url
    serve_json(http_server, "/m/a.json", manifest_v3(base, "a", label="Renamed", notes=["only one now"]))
    serve_json(http_server, "/collection.json", {
        "@context": CTX3, "id": url, "type": "Collection", "label": {"en": ["Test"]},
        "items": [{"id": f"{base}/m/a.json", "type": "Manifest"}]})
    report = harvest(fast, catalog, url)
    assert (report.counts["updated"], report.counts["deleted"]) == (1, 1)
    with catalog.session() as s:
        a = s.scalars(select(ManifestRow).where(ManifestRow.uri == f"{base}/m/a.json")).one()
        assert a.id == ids[a.uri] and a.label == {"en": ["Renamed"]}
        assert [r.texts for c in a.canvases for r in c.regions] == [{"en": ["only one now"]}]
        b = s.scalars(select(ManifestRow).where(ManifestRow.uri == f"{base}/m/b.json")).one()
        assert b.status == "deleted" and b.canvases == []
    assert catalog.stats()["manifests"] == 1


def test_v2_collection_paging_and_nested_collections_are_followed(fast, catalog, http_server):
    base = http_server.base_url
    top = {"@context": CTX2, "@id": f"{base}/top", "@type": "sc:Collection", "label": "Top",
           "total": 3, "first": f"{base}/top?page=1"}
    page1 = {"@context": CTX2, "@id": f"{base}/top?page=1", "@type": "sc:Collection", "within": f"{base}/top",
             "next": f"{base}/top?page=2",
             "manifests": [{"@id": f"{base}/m/a.json", "@type": "sc:Manifest", "label": "a"}]}
    page2 = {"@context": CTX2, "@id": f"{base}/top?page=2", "@type": "sc:Collection", "within": f"{base}/top",
             "manifests": [{"@id": f"{base}/m/b.json", "@type": "sc:Manifest", "label": "b"}],
             "collections": [{"@id": f"{base}/sub", "@type": "sc:Collection", "label": "Sub"}]}
    sub = {"@context": CTX2, "@id": f"{base}/sub", "@type": "sc:Collection", "label": "Sub",
           "members": [{"@id": f"{base}/m/c.json", "@type": "sc:Manifest", "label": "c"}]}
    for path, doc in (("/top", top), ("/top?page=1", page1), ("/top?page=2", page2), ("/sub", sub)):
        http_server.json(path, doc)
    for n in "abc":
        serve_json(http_server, f"/m/{n}.json", manifest_v3(base, n))
        http_server.bytes(f"/img/{n}.jpg", jpeg(), content_type="image/jpeg")
    report = harvest(fast, catalog, f"{base}/top")
    assert report.counts["new"] == 3, report.problems
    with catalog.session() as s:
        colls = dict(s.execute(select(ManifestRow.uri, ManifestRow.collection_uri)).all())
    assert colls[f"{base}/m/a.json"] == f"{base}/top" and colls[f"{base}/m/c.json"] == f"{base}/sub"
    assert catalog.stats()["collections"] == 2


def test_bad_manifests_and_images_are_reported_and_the_rest_completes(fast, catalog, http_server):
    base = http_server.base_url
    names = ["good", "broken", "missing", "notiiif", "bigimg", "badimg"]
    serve_json(http_server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["x"]},
        "items": [{"id": f"{base}/m/{n}.json", "type": "Manifest"} for n in names]})
    serve_json(http_server, "/m/good.json", manifest_v3(base, "good"))
    http_server.bytes("/img/good.jpg", jpeg(), content_type="image/jpeg")
    http_server.bytes("/m/broken.json", b'{"id": "x", "type": "Manifest", "items": [', content_type="application/json")
    http_server.json("/m/notiiif.json", {"hello": "world"})
    serve_json(http_server, "/m/bigimg.json", manifest_v3(base, "bigimg"))
    http_server.bytes("/img/bigimg.jpg", jpeg(3000, 3000), content_type="image/jpeg")
    serve_json(http_server, "/m/badimg.json", manifest_v3(base, "badimg"))
    http_server.bytes("/img/badimg.jpg", jpeg()[:200], content_type="image/jpeg")
    small = fast.replace(max_image_bytes=20_000)
    src = catalog.add_source(f"{base}/collection.json", "collection", allow_private=True)
    with Harvester(small, catalog) as h:
        report = h.harvest(src)
    assert report.status == "completed_with_problems"
    assert report.counts["new"] == 3 and report.counts["failed"] == 3
    assert report.counts["images_fetched"] == 1 and report.counts["images_failed"] == 2
    text = "\n".join(f"{p.where} {p.what}" for p in report.problems)
    assert "/m/broken.json" in text and "not valid JSON" in text
    assert "/m/missing.json" in text and "404" in text
    assert "/m/notiiif.json" in text
    assert "/img/bigimg.jpg" in text and "20000" in text.replace(",", "")
    assert "/img/badimg.jpg" in text
    with catalog.session() as s:
        statuses = dict(s.execute(select(ManifestRow.uri, ManifestRow.status)).all())
        assert statuses[f"{base}/m/good.json"] == "ok" and statuses[f"{base}/m/missing.json"] == "error"
        fetched = dict(s.execute(select(ImageRow.uri, ImageRow.fetch_status)).all())
        assert fetched[f"{base}/img/good.jpg"] == "ok" and fetched[f"{base}/img/badimg.jpg"] == "error"


def test_retry_after_is_honoured_during_a_harvest(fast, catalog, http_server):
    url = serve_collection(http_server, ["a"], notes=False)
    base = http_server.base_url
    body = json.dumps(manifest_v3(base, "a")).encode()
    http_server.route("/m/a.json", [Reply(429, headers={"Retry-After": "1"}),
                                    Reply(200, body, content_type="application/json")])
    report = harvest(fast, catalog, url, images=False)
    assert report.counts["new"] == 1
    first, second = http_server.requests_for("/m/a.json")
    assert second.time - first.time >= 0.95


def test_robots_disallow_is_honoured(fast, catalog, http_server):
    url = serve_collection(http_server, ["a", "b"], notes=False)
    http_server.robots("User-agent: *\nDisallow: /m/b.json\n")
    report = harvest(fast, catalog, url, images=False)
    assert report.counts["new"] == 1 and report.counts["failed"] == 1
    assert http_server.requests_for("/m/b.json") == []
    assert any("/m/b.json" in p.where and "robots" in p.what for p in report.problems)


def test_private_addresses_are_refused_unless_the_source_allows_them(fast, catalog, http_server):
    url = serve_collection(http_server, ["a"], notes=False)
    src = catalog.add_source(url, "collection")  # no allowance
    with Harvester(fast, catalog) as h:
        report = h.harvest(src)
    assert report.counts["listed"] == 0 and http_server.log == []
    assert any("--allow-private" in p.what for p in report.problems)
    src = catalog.add_source(url, "collection", allow_private=True)
    with Harvester(fast, catalog) as h:
        assert h.harvest(src).counts["new"] == 1


def test_referenced_annotation_pages_are_fetched_and_rechecked(fast, catalog, http_server):
    base = http_server.base_url
    page_url = f"{base}/pages/a.json"
    serve_json(http_server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["x"]},
        "items": [{"id": f"{base}/m/a.json", "type": "Manifest"}]})
    serve_json(http_server, "/m/a.json", manifest_v3(base, "a", page_ref=page_url))
    page = {"@context": CTX3, "id": page_url, "type": "AnnotationPage", "items": [
        {"id": f"{base}/anno/1", "type": "Annotation", "motivation": "tagging",
         "body": {"type": "TextualBody", "value": "angel", "purpose": "tagging"},
         "target": f"{base}/m/a/c1#xywh=1,2,3,4"}]}
    serve_json(http_server, "/pages/a.json", page)
    report = harvest(fast, catalog, f"{base}/collection.json", images=False)
    assert report.counts["new"] == 1
    with catalog.session() as s:
        (r,) = s.scalars(select(RegionRow)).all()
        assert r.tags == ["angel"] and r.annotation_page == page_url
    # unchanged: manifest and page answer 304
    assert harvest(fast, catalog, f"{base}/collection.json", images=False).counts["unchanged"] == 1
    # the page alone changes: the manifest is re-read with the new region
    page["items"][0]["body"]["value"] = "devil"
    serve_json(http_server, "/pages/a.json", page)
    assert harvest(fast, catalog, f"{base}/collection.json", images=False).counts["updated"] == 1
    with catalog.session() as s:
        assert s.scalars(select(RegionRow)).one().tags == ["devil"]


def test_loupes_own_machine_annotations_are_not_harvested_as_curators(fast, catalog, http_server):
    """A page Loupe served (its @context names Loupe's), at an address that does not look like
    Loupe's (a proxy, a rewrite), is skipped; the curators' page beside it is harvested."""
    base = http_server.base_url
    doc = manifest_v3(base, "a", page_ref=f"{base}/proxied/machine.json")
    doc["items"][0]["annotations"].append({"id": f"{base}/pages/curated.json", "type": "AnnotationPage"})
    serve_json(http_server, "/m/a.json", doc)
    serve_json(http_server, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["x"]},
        "items": [{"id": f"{base}/m/a.json", "type": "Manifest"}]})

    def page(url: str, context, value: str) -> dict:
        return {"@context": context, "id": url, "type": "AnnotationPage", "items": [
            {"id": f"{url}#1", "type": "Annotation", "motivation": "tagging", "loupe:confidence": 0.9,
             "body": {"type": "TextualBody", "value": value, "purpose": "tagging"},
             "target": f"{base}/m/a/c1#xywh=1,2,3,4"}]}

    serve_json(http_server, "/proxied/machine.json",
               page(f"{base}/proxied/machine.json", ["https://museum.example/loupe/iiif/context/loupe.jsonld", CTX3],
                    "suggested angel"))
    serve_json(http_server, "/pages/curated.json", page(f"{base}/pages/curated.json", CTX3, "curated angel"))
    report = harvest(fast, catalog, f"{base}/collection.json", images=False)
    assert report.counts["new"] == 1 and not report.problems
    with catalog.session() as s:
        assert [r.tags for r in s.scalars(select(RegionRow))] == [["curated angel"]]


def test_manifest_list_file_source(fast, catalog, http_server, tmp_path):
    serve_collection(http_server, ["a", "b"], notes=False)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two manifests\n{http_server.url('/m/a.json')}\n\n{http_server.url('/m/b.json')}\nftp://x\n")
    # A local list has no host of its own: the private host its manifests are on is named.
    report = harvest(fast, catalog, listing.resolve().as_uri(), kind="manifest_list", images=False,
                     allowed_hosts=[f"127.0.0.1:{http_server.port}"])
    assert report.counts["new"] == 2
    assert any("not an http(s) URL" in p.what for p in report.problems)


def test_transient_failure_keeps_the_data_and_clears_when_it_recovers(fast, catalog, http_server):
    url = serve_collection(http_server, ["a"])
    harvest(fast, catalog, url, images=False)
    good = http_server.requests_for("/m/a.json")
    assert good
    body = json.dumps(manifest_v3(http_server.base_url, "a", notes=["a note", "another"])).encode()
    http_server.route("/m/a.json", [Reply(500), Reply(500), Reply(500), Reply(500), Reply(500),
                                    Reply(200, body, content_type="application/json")])
    failed = harvest(fast, catalog, url, images=False)
    assert failed.counts["failed"] == 1
    with catalog.session() as s:
        m = s.scalars(select(ManifestRow)).one()
        assert m.status == "ok" and len(m.canvases) == 1 and "500" in m.problems[0]["what"]
    recovered = harvest(fast, catalog, url, images=False)
    assert recovered.counts["unchanged"] == 1
    with catalog.session() as s:
        assert s.scalars(select(ManifestRow)).one().problems == []
