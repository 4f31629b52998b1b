"""``tag_collection`` on the demo: machine tags stored with provenance, reruns, reviews,
curator vocabularies and thresholds."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import ManifestRow, RegionRow
from loupe_tagging import (
    RegionNotFound,
    ReviewError,
    ScopeError,
    VocabularyStore,
    make_vocabulary,
    resolve_scope,
    set_review,
)
from loupe_tagging.default_vocabulary import DEFAULT_LABELS
from loupe_tagging.scope import VocabularyChooser, collection_key, vocabulary_for_manifest
from tests.support.demo import DEMO_IMAGES, DEMO_NAME, DEMO_REGIONS

TARGETS = DEMO_IMAGES + DEMO_REGIONS  # whole images and annotated regions


def machine_rows(settings) -> list[RegionRow]:  # noqa: ANN001
    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            return list(s.scalars(select(RegionRow).where(RegionRow.made_by == "machine").order_by(RegionRow.id)))
    finally:
        catalog.close()


def person_rows(settings) -> list[tuple]:  # noqa: ANN001
    catalog = Catalog.open(settings)
    try:
        with catalog.session() as s:
            return [(r.canvas_id, r.x, r.y, r.w, r.h, r.texts) for r in
                    s.scalars(select(RegionRow).where(RegionRow.made_by == "person").order_by(RegionRow.id))]
    finally:
        catalog.close()


def as_tags(rows: list[RegionRow]) -> set[tuple]:
    return {(r.canvas_id, r.x, r.y, r.w, r.h, r.tags[0], r.confidence) for r in rows}


def test_tags_are_stored_with_provenance(private_settings, tag) -> None:  # noqa: ANN001
    before = datetime.utcnow() - timedelta(seconds=5)
    people = person_rows(private_settings)
    report = tag(private_settings, DEMO_NAME, threshold=0.0, top_k=2)
    assert (report.images, report.regions, report.failed) == (DEMO_IMAGES, DEMO_REGIONS, 0)
    assert report.proposed == 2 * TARGETS and report.vocabularies == {"default": DEMO_IMAGES}
    rows = machine_rows(private_settings)
    assert len(rows) == 2 * TARGETS
    for r in rows:
        assert (r.made_by, r.motivation, r.review, r.texts) == ("machine", "tagging", "proposed", {})
        assert (r.model, r.model_version) == ("loupe-tiny", "loupe-tiny/random-seed0")
        assert len(r.tags) == 1 and r.tags[0] in DEFAULT_LABELS
        assert 0.0 < r.confidence <= 1.0 and r.created_at >= before
    whole = [r for r in rows if r.x is None]
    boxed = [r for r in rows if r.x is not None]
    assert len(whole) == 2 * DEMO_IMAGES and all(r.y is r.w is r.h is None for r in whole)
    region_boxes = {(c, x, y, w, h) for c, x, y, w, h, _ in people if x is not None}
    assert {(r.canvas_id, r.x, r.y, r.w, r.h) for r in boxed} == region_boxes  # the annotated regions' boxes
    assert person_rows(private_settings) == people  # curators' annotations untouched


def test_rerun_replaces_proposals_and_keeps_decisions(private_settings, tag) -> None:  # noqa: ANN001
    tag(private_settings, DEMO_NAME, threshold=0.0, top_k=2)
    first = machine_rows(private_settings)
    report = tag(private_settings, DEMO_NAME, threshold=0.0, top_k=2)
    again = machine_rows(private_settings)
    assert report.replaced == len(first) == report.proposed == len(again)
    assert as_tags(again) == as_tags(first)  # idempotent: the same tags, no duplicates

    catalog = Catalog.open(private_settings)
    try:
        accepted = set_review(catalog, again[0].id, "accepted")
        rejected = set_review(catalog, again[1].id, "rejected")
    finally:
        catalog.close()
    assert accepted["review"] == "accepted" and rejected["review"] == "rejected"
    report = tag(private_settings, DEMO_NAME, threshold=0.0, top_k=2)
    rows = machine_rows(private_settings)
    assert report.kept_decisions == 2 and report.proposed == len(first) - 2
    decided = {r.id: r.review for r in rows if r.review != "proposed"}
    assert decided == {again[0].id: "accepted", again[1].id: "rejected"}
    assert as_tags(rows) == as_tags(first)  # decided tags are not proposed a second time


def test_curator_vocabulary_is_used_over_the_default(private_settings, tag) -> None:  # noqa: ANN001
    labels = ["Annunciation", "sunflowers", "horse", "portrait", "skull"]
    catalog = Catalog.open(private_settings)
    try:
        scope = resolve_scope(catalog, DEMO_NAME)
        VocabularyStore(catalog.engine).put(scope.key, make_vocabulary("demo list", labels), source_id=scope.source_id)
    finally:
        catalog.close()
    report = tag(private_settings, DEMO_NAME, threshold=0.0, top_k=1)
    assert report.vocabularies == {DEMO_NAME: DEMO_IMAGES}
    assert {r.tags[0] for r in machine_rows(private_settings)} <= set(labels)
    # An explicit vocabulary wins over the collection's list.
    report = tag(private_settings, DEMO_NAME, vocabulary="default", threshold=0.0, top_k=1)
    assert report.vocabularies == {"default": DEMO_IMAGES}


def test_thresholds_and_top_k(private_settings, tag) -> None:  # noqa: ANN001
    low = tag(private_settings, DEMO_NAME, threshold=0.0, top_k=3, regions=False)
    assert low.proposed == 3 * DEMO_IMAGES and low.regions == 0
    scores = sorted(r.confidence for r in machine_rows(private_settings))
    middle = scores[len(scores) // 2]
    high = tag(private_settings, DEMO_NAME, threshold=middle, top_k=3, regions=False)
    rows = machine_rows(private_settings)
    assert 0 < high.proposed == len(rows) < low.proposed
    assert all(r.confidence >= middle for r in rows)
    with pytest.raises(ValueError, match="threshold"):
        tag(private_settings, DEMO_NAME, threshold=1.5)
    with pytest.raises(ValueError, match="top_k"):
        tag(private_settings, DEMO_NAME, top_k=0)


def test_scopes_and_vocabulary_precedence(indexed_demo) -> None:  # noqa: ANN001
    catalog = Catalog.open(indexed_demo.settings)
    try:
        by_name = resolve_scope(catalog, DEMO_NAME)
        assert resolve_scope(catalog, str(indexed_demo.source_id)) == by_name
        assert resolve_scope(catalog, indexed_demo.collection_url) == by_name  # the source's own collection
        assert resolve_scope(catalog, collection_key(indexed_demo.collection_url)) == by_name
        assert resolve_scope(catalog, "all").source_id is None
        with pytest.raises(ScopeError, match="neither"):
            resolve_scope(catalog, "no-such-collection")
    finally:
        catalog.close()


def test_vocabulary_precedence(private_settings) -> None:  # noqa: ANN001
    catalog = Catalog.open(private_settings)
    try:
        store = VocabularyStore(catalog.engine)
        chooser = lambda: VocabularyChooser(catalog, store)  # noqa: E731
        assert chooser().choose(1, "https://example.org/c/child").name == "default"
        store.put("all", make_vocabulary("all", ["a"]))
        assert chooser().choose(1, "https://example.org/c/child").labels == ["a"]
        store.put("demo", make_vocabulary("demo", ["b"]), source_id=1)
        assert chooser().choose(1, "https://example.org/c/child").labels == ["b"]
        assert chooser().choose(2, None).labels == ["a"]
        store.put("c1", make_vocabulary("c1", ["c"]), source_id=1, collection_uri="https://example.org/c/child")
        assert chooser().choose(1, "https://example.org/c/child").labels == ["c"]
        assert store.delete("c1") and not store.delete("c1")
    finally:
        catalog.close()


def test_a_manifests_vocabulary_is_the_one_a_tagging_run_would_choose(private_settings) -> None:  # noqa: ANN001
    """``vocabulary_for_manifest`` (one request: reads only what applies) agrees with the
    chooser a run builds from every stored list, as lists are added at each level."""
    catalog = Catalog.open(private_settings)
    try:
        store = VocabularyStore(catalog.engine)
        with catalog.session() as s:
            rows = s.execute(select(ManifestRow.uri, ManifestRow.source_id, ManifestRow.collection_uri)).all()
        assert rows and all(r.collection_uri for r in rows)
        uri, source_id, collection = rows[0]

        def agree(expected: list[str] | None) -> None:
            chosen = vocabulary_for_manifest(catalog, store, uri)
            assert chosen.digest == VocabularyChooser(catalog, store).choose(source_id, collection).digest
            assert chosen.name == "default" if expected is None else chosen.labels == expected

        agree(None)
        store.put("all", make_vocabulary("all", ["a"]))
        agree(["a"])
        store.put("other-source", make_vocabulary("x", ["x"]), source_id=source_id + 1)
        store.put("elsewhere", make_vocabulary("y", ["y"]), source_id=source_id, collection_uri="https://example.org/c/y")
        agree(["a"])
        store.put("mine", make_vocabulary("mine", ["b"]), source_id=source_id)
        agree(["b"])
        store.put("coll", make_vocabulary("coll", ["c"]), source_id=source_id, collection_uri=collection)
        agree(["c"])
        assert vocabulary_for_manifest(catalog, store, "https://example.org/no-such-manifest").name == "default"
    finally:
        catalog.close()


def test_review_errors(private_settings, tag) -> None:  # noqa: ANN001
    catalog = Catalog.open(private_settings)
    try:
        with catalog.session() as s:
            person = s.scalar(select(RegionRow.id).where(RegionRow.made_by == "person"))
        with pytest.raises(ReviewError, match="person"):
            set_review(catalog, person, "accepted")
        with pytest.raises(RegionNotFound):
            set_review(catalog, 999_999, "accepted")
        with pytest.raises(ReviewError, match="one of"):
            set_review(catalog, person, "maybe")
    finally:
        catalog.close()
