"""/api/search?q= as hybrid search: the catalog's words (labels, metadata, curators' texts, in
every language) fused with the vector ranking by reciprocal rank, and the words alone where
there is no CLIP to ask (no weights, nothing indexed, an image-only model)."""

from __future__ import annotations

from loupe_index.hybrid import RRF_K, TEXT_WEIGHT, fuse, score_words
from loupe_index.results import SearchHit

ARCHANGEL = "Detail: Archangel Gabriel (left part)"


def _search(client, **params) -> dict:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_curators_word_ranks_its_region_first(client, indexed_demo):
    body = _search(client, q="angel", limit=20)
    assert body["rankers"] == ["text", "vector"] and body["model"] == "loupe-tiny"
    first = body["results"][0]
    assert first["label"] == ARCHANGEL and first["kind"] == "region"
    assert first["manifest"]["id"] == indexed_demo.manifest("leonardo-annunciation")
    # Its id is the indexed point's: "similar" works from it.
    assert client.get(first["similar"]).status_code == 200
    # Reciprocal rank fusion: scores fall, at most the sum over two rankings of 1 / (K + 1).
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] <= (TEXT_WEIGHT + 1) / (RRF_K + 1) + 1e-6


def test_titles_and_artists_are_found_exactly(client, indexed_demo):
    by_title = _search(client, q="Birth of Venus", limit=5)["results"]
    assert by_title[0]["manifest"]["id"] == indexed_demo.manifest("botticelli-birth-of-venus")
    by_artist = _search(client, q="boccioni", limit=5)["results"]
    assert {r["manifest"]["id"] for r in by_artist[:2]} == {indexed_demo.manifest("boccioni-charge-of-the-lancers"),
                                                            indexed_demo.manifest("boccioni-la-signora-virginia")}


def test_filters_and_paging_hold_for_the_fused_list(client):
    whole = _search(client, q="detail", limit=30)["results"]
    first = _search(client, q="detail", limit=10)
    second = _search(client, q="detail", limit=10, cursor=first["next_cursor"])
    assert [r["id"] for r in first["results"] + second["results"]] == [r["id"] for r in whole[:20]]
    regions = _search(client, q="detail", kind="region", limit=30)["results"]
    assert regions and all(r["kind"] == "region" for r in regions)
    other = client.get("/api/search", query_string={"q": "venus", "cursor": first["next_cursor"]})
    assert other.status_code == 400  # a cursor of another query


def test_no_text_match_leaves_the_vector_ranking_as_it_was(client):
    body = _search(client, q="zzqx qqzx", limit=5)
    assert body["rankers"] == ["vector"] and len(body["results"]) == 5
    assert body["results"][0]["score"] < 1.0  # a cosine similarity, not a fused score


def test_an_image_only_model_searches_the_words_alone(private_app):
    index = private_app.extensions["loupe"].index
    index.ensure_vector("efficientnet-lite0__imagenet-gem3", 1280)
    index.set_active("efficientnet-lite0__imagenet-gem3")
    client = private_app.test_client()
    body = _search(client, q="angel")
    assert body["rankers"] == ["text"] and body["results"][0]["label"] == ARCHANGEL
    assert _search(client, q="zzqx")["results"] == []  # nothing found, and no error


def test_fusion_and_scores():
    hit = lambda pid: SearchHit(pid, 0.0, {"manifest": "m", "canvas": pid})  # noqa: E731
    fused = fuse([[hit("a"), hit("b")], [hit("c"), hit("b")]])
    assert [h.id for h in fused] == ["b", "a", "c"]  # found by both, then ties in order of the rankings
    assert fused[0].score == 2 / (RRF_K + 2)
    weighted = fuse([[hit("a"), hit("b")], [hit("c"), hit("b")]], [[2.0, 2.0], None])
    assert [h.id for h in weighted] == ["b", "a", "c"] and weighted[1].score == 2 / (RRF_K + 1)
    assert fuse([[hit("a"), hit("b")]], one_per_canvas=True)[0].id == "a"
    whole, start, inside, none = (score_words(["angel"], [w]) for w in ("angel", "angelus", "archangel", "devil"))
    assert whole > start > inside > none and none < 0.1
    assert score_words(["birth", "venus"], ["birth", "of", "venus"]) > score_words(["birth", "venus"], ["venus"])
