"""Tagging and curators' vocabularies with the catalog in PostgreSQL (the scale-out setup):
the same tags, vocabulary choices and reviews as on SQLite."""

from __future__ import annotations

from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import RegionRow
from loupe_core.settings import Settings
from loupe_tagging import VocabularyStore, make_vocabulary, resolve_scope, set_review
from tests.support.demo import DEMO_IMAGES, DEMO_NAME, DEMO_REGIONS, harvest_demo
from tests.support.postgres import fresh_database

LABELS = ["Annunciation", "sunflowers", "portrait"]


def test_tags_vocabularies_and_reviews_on_postgres(postgres_server, tiny_model, label_cache, tmp_path):
    from loupe_tagging import tag_collection

    settings = Settings.load(env={}, config_file=None, data_dir=tmp_path / "var", image_max_side=256,
                             model="loupe-tiny", model_download=False,
                             catalog_url=fresh_database(postgres_server))
    harvest_demo(settings)
    catalog = Catalog.open(settings)
    try:
        store = VocabularyStore(catalog.engine)
        scope = resolve_scope(catalog, DEMO_NAME)
        store.put(scope.key, make_vocabulary("demo list", LABELS), source_id=scope.source_id)
        assert [v.key for v in store.list()] == [scope.key] and len(store.get(scope.key).vocabulary) == len(LABELS)

        report = tag_collection(settings, DEMO_NAME, threshold=0.0, top_k=1, model=tiny_model, cache=label_cache)
        assert (report.images, report.regions, report.failed) == (DEMO_IMAGES, DEMO_REGIONS, 0)
        assert report.vocabularies == {scope.key: DEMO_IMAGES}  # the curator list, not the default
        with catalog.session() as s:
            rows = list(s.scalars(select(RegionRow).where(RegionRow.made_by == "machine")))
        assert len(rows) == DEMO_IMAGES + DEMO_REGIONS and {r.tags[0] for r in rows} <= set(LABELS)

        decided = set_review(catalog, rows[0].id, "rejected")
        assert decided["review"] == "rejected"
        again = tag_collection(settings, DEMO_NAME, threshold=0.0, top_k=1, model=tiny_model, cache=label_cache)
        assert again.kept_decisions == 1  # a curator's decision survives a rerun
        assert store.delete(scope.key) and store.get(scope.key) is None
    finally:
        catalog.close()
