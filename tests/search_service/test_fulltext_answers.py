"""Content Search and autocomplete from the full-text index give the answers of reading every
region in scope (the behaviour before the index), on the real IIIF corpus of ../shared/data
(every manifest, its annotations and its texts in every language present), in SQLite and in
PostgreSQL; and the index follows harvests, reviews, machine tags and deletions."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from connector.catalog import Catalog, HarvestedManifest, fulltext
from connector.catalog.schema import CanvasRow, ManifestRow, RegionRow
from connector.catalog.text_words import query_words
from iiif.model import Body, Manifest
from iiif.reader import read_bytes
from loupe_index.hybrid import text_matches
from loupe_tagging.machine_tags import set_review
from search_service.catalog_reads import TextScope
from search_service.iiif_search import find_regions, scan_regions, word_counts
from search_service.region_annotations import MACHINE_MOTIVATION
from search_service.text_match import words_with_prefix

pytestmark = pytest.mark.shared_data

COLLECTION, NESTED = "https://example.org/corpus", "https://example.org/corpus/nested"


def _corpus(shared_data: Path) -> list[tuple[str, Manifest]]:
    root = shared_data / "iiif"
    out = []
    for path in sorted(root.rglob("*.json")):
        result = read_bytes(path.read_bytes())
        if isinstance(result.resource, Manifest):
            out.append((f"file:///corpus/{path.relative_to(root)}", result.resource))
    return out


def _load(catalog: Catalog, corpus: list[tuple[str, Manifest]]) -> None:
    """Every manifest with its annotations, plus regions carrying the corpus's other texts
    (labels, summaries, metadata: HTML, punctuation, every language) as curators' and machine
    annotations in every review state."""
    source = catalog.add_source("file:///corpus/", "manifest_list")
    rng = random.Random(13)
    with catalog.session() as s:
        for i, (uri, manifest) in enumerate(corpus):
            collection = NESTED if i % 3 == 0 else COLLECTION
            catalog.write_manifest(s, source.id, HarvestedManifest(uri, manifest, None, None, f"h{i}",
                                                                    collection_uri=collection))
        catalog.upsert_collection(s, source.id, COLLECTION, {}, None)
        catalog.upsert_collection(s, source.id, NESTED, {}, COLLECTION)
        s.flush()
        texts = [t for _, m in corpus for t in _strings(m)]
        for n, canvas in enumerate(s.scalars(select(CanvasRow).order_by(CanvasRow.id))):
            for k in range(rng.randint(0, 3)):
                chosen = rng.sample(texts, min(len(texts), rng.randint(1, 3)))
                lang = rng.choice(["en", "de", "fr", "none", "ja"])
                machine = (n + k) % 4 == 0
                canvas.regions.append(RegionRow(
                    x=10 * k, y=10, w=50, h=40, texts={lang: chosen}, tags=rng.sample(texts, k % 2),
                    made_by="machine" if machine else "person",
                    motivation=rng.choice([None, "tagging", "oa:commenting", "commenting", "sc:painting"]),
                    review=rng.choice(["proposed", "accepted", "rejected"]) if machine else None))
        s.commit()


def _strings(m: Manifest) -> list[str]:
    out = [t for v in m.label.values() for t in v] + [t for v in m.summary.values() for t in v]
    for e in m.metadata:
        out += [t for v in e.value.values() for t in v] + [t for v in e.label.values() for t in v]
    return [t for t in out if t.strip()]


def _old_counts(scanned, leading: list[str], last: str):
    """Autocomplete's counts as computed before the index: every region in scope read."""
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for _, texts in _old_search(scanned, leading):
        found = words_with_prefix([t.original for t in texts], last)
        for folded, original in found:
            forms[folded][original] += 1
        counts.update({folded for folded, _ in found})
    return counts, forms


def _old_search(scanned, words: list[str]):
    """Content Search before the index: every region in scope (read once per scope here)
    kept when every word is a word prefix in one of its texts."""
    return [(r, texts) for r, texts in scanned if all(any(t.find(w) is not None for t in texts) for w in words)]


def _queries(catalog: Catalog, rng: random.Random) -> list[str]:
    """Queries from the catalog's own words: whole words, prefixes of 1 to 4 characters, two
    words together, words in other case and accents, and words that are not there."""
    with catalog.session() as s:
        words = sorted({w for texts, tags in s.execute(select(RegionRow.texts, RegionRow.tags))
                        for w in fulltext.words_of(fulltext.region_texts(texts, tags))})
    chosen = rng.sample(words, 40)
    out = ["", "zzqqxx", "the", "Ébauche", "ÉTÉ", "straße"]
    out += chosen[:15] + [w[:rng.randint(1, 4)] for w in chosen[15:30]]
    out += [f"{a} {b[:3]}" for a, b in zip(chosen[30:35], chosen[35:40])]
    out += [w.upper() for w in chosen[:5]]
    return out


def _scopes(catalog: Catalog, rng: random.Random) -> list[TextScope]:
    with catalog.session() as s:
        manifests = s.scalars(select(ManifestRow.uri).join(CanvasRow).join(RegionRow).distinct()).all()
    scopes = [TextScope("collection", COLLECTION), TextScope("collection", NESTED),
              TextScope("collection", COLLECTION, frozenset({"commenting"}), MACHINE_MOTIVATION),
              TextScope("collection", COLLECTION, frozenset({"tagging", "painting"}), MACHINE_MOTIVATION)]
    return scopes + [TextScope("manifest", uri) for uri in rng.sample(sorted(manifests), 6)]


def _same_answers(catalog: Catalog, seed: int, scopes: int, queries: int) -> int:
    rng = random.Random(seed)
    compared = 0
    all_queries = _queries(catalog, rng)
    for scope in rng.sample(_scopes(catalog, rng), scopes):
        scanned = scan_regions(catalog, scope, [])
        for q in rng.sample(all_queries, queries):
            words = query_words(q)
            old = [r.id for r, _ in _old_search(scanned, words)]
            total, page = find_regions(catalog, scope, words)
            assert (total, [r.id for r in page]) == (len(old), old), (scope, q)
            if len(old) > 3:  # a later page
                total, page = find_regions(catalog, scope, words, offset=2, limit=2)
                assert [r.id for r in page] == old[2:4]
            if words:
                *leading, last = words
                assert word_counts(catalog, scope, leading, last) == _old_counts(scanned, leading, last)
            compared += 1
    return compared


def test_index_answers_as_reading_every_region(shared_data, catalog_settings):
    corpus = _corpus(shared_data)
    catalog = Catalog.open(catalog_settings)
    _load(catalog, corpus)
    with catalog.engine.begin() as conn:
        state = fulltext.status(conn)
    assert state["stale"] is False and state["regions"] == state["catalog_regions"] > 500
    assert state["manifests"] == len(corpus)
    assert _same_answers(catalog, 1, 6, 30) == 180

    # Changes: a manifest re-harvested with other texts, one deleted, machine proposals
    # replaced in bulk, a review and a curator's correction; the index follows.
    uri, manifest = next((u, m) for u, m in corpus if any(c.annotations for c in m.canvases))
    with catalog.session() as s:
        for c in manifest.canvases:
            for a in c.annotations:
                a.bodies = [Body(type="TextualBody", value="Zefiro soffia verso l'isola", language="it")]
        catalog.write_manifest(s, 1, HarvestedManifest(uri, manifest, None, None, "changed", collection_uri=COLLECTION))
        catalog.delete_manifest(s, corpus[5][0])
        s.commit()
        proposed = s.scalars(select(RegionRow.id).where(RegionRow.review == "proposed")).all()
        s.execute(delete(RegionRow).where(RegionRow.id.in_(proposed[: len(proposed) // 2])))
        s.commit()
        machine = s.scalars(select(RegionRow.id).where(RegionRow.made_by == "machine")).all()
    set_review(catalog, machine[0], "rejected")
    set_review(catalog, machine[1], "accepted")
    scope = TextScope("collection", COLLECTION)
    total, changed = find_regions(catalog, scope, ["zefiro", "sof"])
    assert total >= 1
    # Hybrid search's candidates (text_matches): whole words, and words inside words.
    for q in ("zefiro soffia", "efir", "SOFFIA"):
        found = {m.doc_id for m in text_matches(catalog, q) if m.table == fulltext.REGIONS}
        assert {r.id for r in changed} <= found, q
    _same_answers(catalog, 2, 3, 15)
    with catalog.engine.begin() as conn:
        synced = fulltext.status(conn)
    assert synced["stale"] is False and synced["orphans"] == 0

    # A rebuild (`loupe catalog fulltext --rebuild`) finds the same documents.
    with catalog.engine.begin() as conn:
        built = fulltext.rebuild(conn)
        assert fulltext.status(conn) == synced
    assert built["regions"] == synced["catalog_regions"] and built["manifests"] == synced["catalog_manifests"]
    _same_answers(catalog, 3, 3, 15)
    catalog.close()
