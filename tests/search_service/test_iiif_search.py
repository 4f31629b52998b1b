"""IIIF Content Search 1.0 and 2.0 and autocomplete over the demo's harvested annotations."""

from __future__ import annotations

import pytest

from connector.catalog.keys import uri_key
from iiif.validation import validate_v3

VENUS = "botticelli-birth-of-venus"
CS2_ONLY = ("ignored", "startIndex", "annotations", "partOf")


@pytest.fixture
def venus_key(indexed_demo) -> str:
    return uri_key(indexed_demo.manifest(VENUS))


def _search(client, version, key, scope="manifest", **params):
    response = client.get(f"/iiif/search/{version}/{scope}/{key}", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_service_blocks_for_a_manifest(client, indexed_demo, venus_key):
    manifest = indexed_demo.manifest(VENUS)
    by_uri = client.get("/iiif/services/manifest", query_string={"uri": manifest}).get_json()
    by_key = client.get(f"/iiif/services/manifest/{venus_key}").get_json()
    assert by_uri == by_key and by_key["id"] == manifest and by_key["key"] == venus_key
    v2, v1 = by_key["service"]
    assert v2["type"] == "SearchService2" and v2["id"].endswith(f"/iiif/search/2/manifest/{venus_key}")
    assert v2["service"][0]["type"] == "AutoCompleteService2"
    assert v1["@type"] == "SearchService1" and v1["profile"] == "http://iiif.io/api/search/1/search"
    assert v1["service"][0]["@id"].endswith(f"/iiif/autocomplete/1/manifest/{venus_key}")
    assert by_key["annotations"].endswith(f"/iiif/annotations/manifest/{venus_key}.json")


def test_search_2_finds_a_harvested_annotation(client, indexed_demo, venus_key, v3_schema):
    page = _search(client, 2, venus_key, q="venus")
    assert page["type"] == "AnnotationPage" and len(page["items"]) == 1
    item = page["items"][0]
    assert item["motivation"] == "commenting"
    assert {"type": "TextualBody", "value": "Detail: Venus standing on the shell", "language": "en"} in item["body"]
    assert item["target"]["source"] == {"id": indexed_demo.canvas(VENUS), "type": "Canvas",
                                        "partOf": [{"id": indexed_demo.manifest(VENUS), "type": "Manifest"}]}
    assert item["target"]["selector"]["value"] == "xywh=634,76,528,536"
    match = page["annotations"][0]["items"][0]
    assert match["motivation"] == "contextualizing" and match["target"]["source"] == item["id"]
    assert match["target"]["selector"][0]["exact"] == "Venus"
    # The annotations validate; so does the page without the Content Search 2.0 additions.
    assert validate_v3(item, v3_schema) == []
    assert validate_v3({k: v for k, v in page.items() if k not in CS2_ONLY}, v3_schema) == []


@pytest.mark.parametrize("q, hits", [
    ("VENUS", 1), ("vén", 1), ("ven", 1), ("Zephyr aura", 1), ("zephyr venus", 0), ("hora spring", 1),
    ("detail", 7), ("quadrant", 4), ("enus", 0), ("", 7),
])
def test_matching_is_case_and_accent_insensitive_by_word_prefix_and_all_words(client, venus_key, q, hits):
    assert len(_search(client, 2, venus_key, q=q)["items"]) == hits


def test_motivation_filter(client, venus_key):
    assert len(_search(client, 2, venus_key, q="detail", motivation="commenting")["items"]) == 7
    assert len(_search(client, 2, venus_key, q="detail", motivation="oa:commenting painting")["items"]) == 7
    assert _search(client, 2, venus_key, q="detail", motivation="tagging")["items"] == []


def test_unsupported_parameters_are_listed_as_ignored(client, venus_key):
    page = _search(client, 2, venus_key, q="venus", date="1990-01-01T00:00:00Z/2000-01-01T00:00:00Z", user="x")
    assert page["ignored"] == ["date", "user"] and len(page["items"]) == 1
    v1 = _search(client, 1, venus_key, q="venus", user="x")
    assert v1["within"]["ignored"] == ["user"]
    assert "ignored" not in _search(client, 2, venus_key, q="venus")


def test_search_1_response(client, indexed_demo, venus_key):
    doc = _search(client, 1, venus_key, q="venus")
    assert doc["@type"] == "sc:AnnotationList" and len(doc["resources"]) == 1
    annotation = doc["resources"][0]
    assert annotation["@type"] == "oa:Annotation" and annotation["motivation"] == "oa:commenting"
    assert annotation["on"] == indexed_demo.canvas(VENUS) + "#xywh=634,76,528,536"  # what Mirador reads
    hit = doc["hits"][0]
    assert hit["match"] == "Venus" and hit["annotations"] == [annotation["@id"]]
    assert isinstance(hit["before"], str) and isinstance(hit["after"], str)  # else Mirador adds "more..."


def test_search_by_uri_and_in_a_collection_with_paging(app, client, indexed_demo):
    collection = indexed_demo.collection_url
    key = uri_key(collection)
    everything = _search(client, 2, key, scope="collection", q="detail")
    assert len(everything["items"]) == 16 and "partOf" not in everything  # one page
    assert client.get("/iiif/search/2/collection", query_string={"uri": collection, "q": "detail"}).get_json() == everything
    app.config["LOUPE_IIIF_PAGE_SIZE"] = 5
    try:
        first = _search(client, 2, key, scope="collection", q="detail")
        assert first["partOf"]["total"] == 16 and len(first["items"]) == 5
        assert first["partOf"]["last"]["id"].endswith("page=4") and first["next"]["id"].endswith("page=2")
        second = client.get(first["next"]["id"].split("localhost", 1)[1]).get_json()
        assert second["startIndex"] == 5 and second["prev"]["id"].endswith("page=1")
        ids = [i["id"] for p in (first, second) for i in p["items"]]
        assert len(set(ids)) == 10
        v1 = _search(client, 1, key, scope="collection", q="detail", page=4)
        assert v1["within"]["total"] == 16 and len(v1["resources"]) == 1 and v1["startIndex"] == 15
        beyond = client.get(f"/iiif/search/2/collection/{key}", query_string={"q": "detail", "page": 5})
        assert beyond.status_code == 400 and beyond.get_json()["error"]["field"] == "page"
    finally:
        app.config["LOUPE_IIIF_PAGE_SIZE"] = 100


def test_autocomplete_2_and_1(client, venus_key):
    terms = client.get(f"/iiif/autocomplete/2/manifest/{venus_key}", query_string={"q": "ve"}).get_json()
    assert terms["type"] == "TermPage"
    assert {"value": "Venus", "total": 1} in terms["items"]
    counted = client.get(f"/iiif/autocomplete/2/manifest/{venus_key}", query_string={"q": "de"}).get_json()
    assert counted["items"][0] == {"value": "Detail", "total": 7}
    v1 = client.get(f"/iiif/autocomplete/1/manifest/{venus_key}", query_string={"q": "qua", "min": 2}).get_json()
    assert v1["@type"] == "search:TermList"
    assert v1["terms"] == [{"match": "quadrant", "url": v1["terms"][0]["url"], "count": 4}]
    assert f"/iiif/search/1/manifest/{venus_key}?q=quadrant" in v1["terms"][0]["url"]
    phrase = client.get(f"/iiif/autocomplete/2/manifest/{venus_key}", query_string={"q": "Zephyr a"}).get_json()
    assert [t["value"] for t in phrase["items"]] == ["Zephyr and", "Zephyr Aura"]
    assert client.get(f"/iiif/autocomplete/2/manifest/{venus_key}",
                      query_string={"q": "ve", "date": "x"}).get_json()["ignored"] == ["date"]


@pytest.mark.parametrize("url, status", [
    ("/iiif/search/2/manifest/0123456789abcdef?q=x", 404),
    ("/iiif/search/3/manifest/KEY?q=x", 404),
    ("/iiif/search/2/painting/KEY?q=x", 404),
    ("/iiif/search/2/manifest?uri=https://nowhere.example/m.json", 404),
    ("/iiif/search/2/manifest", 400),
    ("/iiif/search/2/manifest/KEY?q=x&page=0", 400),
    ("/iiif/autocomplete/2/manifest/KEY", 400),
    ("/iiif/autocomplete/2/manifest/KEY?q=ve&min=none", 400),
    ("/iiif/services/manifest/0123456789abcdef", 404),
])
def test_errors_are_json(client, venus_key, url, status):
    response = client.get(url.replace("KEY", venus_key))
    assert response.status_code == status and response.get_json()["error"]["message"]


def test_json_ld_content_type_when_asked(client, venus_key):
    plain = client.get(f"/iiif/search/2/manifest/{venus_key}?q=venus")
    assert plain.mimetype == "application/json"
    ld = client.get(f"/iiif/search/2/manifest/{venus_key}?q=venus", headers={"Accept": "application/ld+json"})
    assert ld.headers["Content-Type"].startswith('application/ld+json;profile="http://iiif.io/api/presentation/3/')
    again = client.get(f"/iiif/search/2/manifest/{venus_key}?q=venus", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
