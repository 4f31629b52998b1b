"""Hybrid text search: the catalog's words ranked beside CLIP's vectors, fused by reciprocal rank.

The text ranker (``text_ranking``) asks the catalog's full-text index
(``connector.catalog.fulltext``) for regions whose texts and tags, and manifests whose label,
summary, metadata or canvas labels, contain the query's words, in every language present:
a word inside a word counts ("angel" finds "Archangel"), case and accents aside. Each match
is scored in Python, the same on SQLite and PostgreSQL:

- per query word, its best match in the document: the whole word 1.0, a word's beginning
  0.8, inside a word 0.5 (nothing: 0);
- the document's score: the mean over the query words, plus a little for short documents
  (a title or a curator's label beats a long description that mentions the word once), and
  regions before manifests on ties (a region says where).

A region becomes its point in the index (kind ``region``, its box; the whole image when the
region covers the canvas or is too small to embed), a manifest the whole image of each of
its canvases; both with the payload the indexer gives them (``catalog_targets``), so text
hits and vector hits of the same thing are one result, and text hits exist before anything
is embedded.

``fuse`` merges the rankings by reciprocal rank fusion (Cormack et al., 2009): each result
scores ``sum(weight / (RRF_K + rank))`` over the rankings that found it (rank from 1,
``RRF_K`` = 60). The vector ranking weighs 1; a text hit weighs ``TEXT_WEIGHT`` (2) times
how well it matched (``text_weights``): with plain RRF an exact title at text rank 2 (1/62)
loses to the vectors' first guess (1/61) even when the model knows nothing of the words (the
tiny test model; a model without the collection's names); weighted, every full match
within the first 60 text ranks comes before results only the vectors found, and a match of
half the words counts as a vector rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from connector.catalog import Catalog, fulltext
from connector.catalog.schema import CanvasRow, ManifestRow, RegionRow, Source
from connector.catalog.text_words import query_words

from .catalog_targets import ImageToIndex, Target, image_item
from .filters import SearchFilters, payload_matches
from .points import as_xywh
from .results import SearchHit

RRF_K = 60
TEXT_WEIGHT = 2.0  # see text_weights
TEXT_CANDIDATES = 200  # documents of each table (and step) the text ranker scores
TEXT_HITS = 100  # of them, the best that become hits (fused with the vector ranking)
WHOLE, BEGINNING, INSIDE = 1.0, 0.8, 0.5


@dataclass(frozen=True)
class TextMatch:
    table: str  # fulltext.REGIONS | fulltext.MANIFESTS
    doc_id: int
    score: float


def score_words(query: Sequence[str], words: Sequence[str]) -> float:
    """How well a document's folded words answer the query's (see the module's rules)."""
    if not query or not words:
        return 0.0
    total = 0.0
    for q in query:
        best = 0.0
        for w in words:
            if w == q:
                best = WHOLE
                break
            if best < BEGINNING and w.startswith(q):
                best = BEGINNING
            elif best < INSIDE and q in w:
                best = INSIDE
        total += best
    return total / len(query) + 0.1 / (1.0 + math.log1p(len(words)))


def text_matches(catalog: Catalog, q: str, candidates: int = TEXT_CANDIDATES) -> list[TextMatch]:
    """Regions and manifests with the query's words, best first."""
    words = query_words(q)
    if not words:
        return []
    with catalog.engine.connect() as conn:
        found = [TextMatch(table, doc_id, score_words(words, doc_words) + (0.001 if table == fulltext.REGIONS else 0))
                 for table in (fulltext.REGIONS, fulltext.MANIFESTS)
                 for doc_id, doc_words in fulltext.candidates(conn, words, table, candidates)]
    found = [m for m in found if m.score >= INSIDE / len(words)]
    return sorted(found, key=lambda m: (-m.score, m.table != fulltext.REGIONS, m.doc_id))


def text_ranking(catalog: Catalog, q: str, filters: SearchFilters | None = None,
                 vector_name: str = "", candidates: int = TEXT_CANDIDATES) -> list[SearchHit]:
    """The text ranker's hits (points of the index, whether embedded yet or not), best first,
    one per point, filtered like a vector search."""
    matches = text_matches(catalog, q, candidates)[:TEXT_HITS]
    if not matches:
        return []
    points = _points(catalog, matches)
    out: dict[str, SearchHit] = {}
    for m in matches:
        for hit in points.get((m.table, m.doc_id), ()):
            payload = {**hit.payload, "vector": vector_name} if vector_name else hit.payload
            if hit.id not in out and (filters is None or payload_matches(filters, payload)):
                out[hit.id] = SearchHit(hit.id, m.score, payload)
    return list(out.values())


def fuse(rankings: Sequence[Sequence[SearchHit]], weights: Sequence[Sequence[float] | None] | None = None, *,
         one_per_canvas: bool = False) -> list[SearchHit]:
    """Reciprocal rank fusion: each hit scored by the sum of ``weight / (RRF_K + rank)`` over
    the rankings that have it (weight 1 unless ``weights`` gives one per hit of a ranking);
    the payload of the first ranking that has it."""
    scores: dict[str, float] = {}
    first: dict[str, SearchHit] = {}
    for i, ranking in enumerate(rankings):
        given = weights[i] if weights is not None else None
        for rank, hit in enumerate(ranking, start=1):
            weight = given[rank - 1] if given is not None else 1.0
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    ordered = sorted(scores, key=lambda pid: -scores[pid])
    out = [SearchHit(pid, scores[pid], first[pid].payload) for pid in ordered]
    if one_per_canvas:
        seen: set[tuple] = set()
        out = [h for h in out if (h.manifest, h.canvas) not in seen and not seen.add((h.manifest, h.canvas))]
    return out


def text_weights(hits: Sequence[SearchHit]) -> list[float]:
    """The text ranker's weight for each of its hits: ``TEXT_WEIGHT`` times how well it
    matched (1 for every query word found whole): an exact title, name or curator's word
    outranks what the vectors alone suggest, a partial match counts as one vector rank."""
    return [TEXT_WEIGHT * min(1.0, h.score) for h in hits]


# --- from documents to points ------------------------------------------------------------------


def _points(catalog: Catalog, matches: Iterable[TextMatch]) -> dict[tuple[str, int], list[SearchHit]]:
    """The points each matched document stands for."""
    matches = list(matches)
    region_ids = [m.doc_id for m in matches if m.table == fulltext.REGIONS]
    manifest_ids = {m.doc_id for m in matches if m.table == fulltext.MANIFESTS}
    out: dict[tuple[str, int], list[SearchHit]] = {}
    with catalog.session() as s:
        where_region: dict[int, tuple[int, RegionRow]] = {}
        if region_ids:
            for r, manifest_id in s.execute(select(RegionRow, CanvasRow.manifest_id)
                                            .join(CanvasRow, CanvasRow.id == RegionRow.canvas_id)
                                            .where(RegionRow.id.in_(region_ids))).all():
                where_region[r.id] = (manifest_id, r)
        wanted = manifest_ids | {m for m, _ in where_region.values()}
        if not wanted:
            return out
        sources = {src.id: src.name for src in s.scalars(select(Source))}
        manifests = s.scalars(select(ManifestRow).where(ManifestRow.id.in_(wanted), ManifestRow.status != "deleted")
                              .options(selectinload(ManifestRow.canvases).selectinload(CanvasRow.images),
                                       selectinload(ManifestRow.canvases).selectinload(CanvasRow.regions))).all()
        by_canvas: dict[int, tuple[ImageToIndex, list[Target]]] = {}
        for m in manifests:
            whole: list[SearchHit] = []
            for canvas in m.canvases:
                row = next((i for i in canvas.images if i.alternative_of is None), None)
                if row is None:
                    continue
                item = image_item(m, canvas, row, sources.get(m.source_id))
                fetched = (row.fetched_width, row.fetched_height) if row.fetched_width and row.fetched_height else None
                targets = item.targets(fetched)
                by_canvas[canvas.id] = (item, targets)
                whole += [_hit(item, t) for t in targets if t.kind == "image"]
            if m.id in manifest_ids:
                out[(fulltext.MANIFESTS, m.id)] = whole
        for region_id, (_, r) in where_region.items():
            if r.made_by == "machine" and r.review != "accepted":  # not a curator's word (yet)
                continue
            found = by_canvas.get(r.canvas_id)
            if found is None:
                continue
            item, targets = found
            out[(fulltext.REGIONS, region_id)] = [_hit(item, _target_of(r, targets))] if targets else []
    return out


def _target_of(r: RegionRow, targets: list[Target]) -> Target:
    """The region's own point, else the whole image's (about the whole canvas, or too small)."""
    if None not in (r.x, r.y, r.w, r.h) and r.w > 0 and r.h > 0:
        try:
            xywh = as_xywh((r.x, r.y, r.w, r.h))
        except ValueError:
            xywh = None
        own = next((t for t in targets if t.kind == "region" and t.xywh == xywh), None)
        if own is not None:
            return own
    return targets[0]


def _hit(item: ImageToIndex, target: Target) -> SearchHit:
    point = item.point(target, ())
    return SearchHit(point.id, 0.0, point.payload(""))
