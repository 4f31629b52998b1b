"""The catalog reads of the search service: short read-only sessions, plain objects out.

- ``canvas_details``: labels, size and default image of canvases (search results, references);
- ``regions_in_scope``: annotation regions of a manifest or a collection (a full scan);
- ``search_regions``, ``matching_region_texts``: those with words, from the full-text index
  (Content Search, autocomplete);
- ``machine_regions``: a canvas's machine annotations that curators did not reject (annotations out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import Select, column, func, or_, select, text
from sqlalchemy.orm import Session, selectinload

from connector.catalog import Catalog, fulltext
from connector.catalog.schema import CanvasRow, CollectionRow, ImageRow, ManifestRow, RegionRow
from connector.catalog.store import image_from_row
from iiif.model import Box, Image, LanguageMap

# Regions the Content Search endpoints and annotations out may show: curators' annotations,
# and machine annotations unless a curator rejected them.
REJECTED = "rejected"


@dataclass(frozen=True)
class CanvasDetails:
    manifest: str
    manifest_label: LanguageMap
    canvas: str
    canvas_label: LanguageMap
    width: int | None
    height: int | None
    image: Image | None  # the default image painted on the canvas (first; Choice: its default)
    source_id: int
    position: int


@dataclass(frozen=True)
class RegionText:
    """One region annotation with its texts, for Content Search and annotations out."""

    id: int
    annotation_id: str | None
    canvas: str
    manifest: str
    motivation: str | None
    made_by: str  # person | machine
    texts: LanguageMap
    tags: tuple[str, ...]
    box: Box | None
    polygon: list[tuple[float, float]] | None
    creator: str | None
    model: str | None
    model_version: str | None
    confidence: float | None
    created: str | None
    review: str | None
    reviewed_by: str | None = None  # name of the curator's key (or a setting key's fingerprint)
    reviewed: str | None = None
    corrected: bool = False  # a curator changed the label or box before accepting

    @property
    def all_texts(self) -> list[str]:
        return [t for texts in self.texts.values() for t in texts] + list(self.tags)


def canvas_details(catalog: Catalog, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], CanvasDetails]:
    """Details of live canvases by (manifest URI, canvas URI); missing pairs are left out."""
    wanted = set(pairs)
    if not wanted:
        return {}
    manifests = {m for m, _ in wanted}
    canvases = {c for _, c in wanted}
    out: dict[tuple[str, str], CanvasDetails] = {}
    with catalog.session() as s:
        rows = s.execute(
            select(CanvasRow, ManifestRow)
            .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
            .where(CanvasRow.uri.in_(canvases), ManifestRow.uri.in_(manifests), ManifestRow.status != "deleted")
            .options(selectinload(CanvasRow.images))).all()
        for canvas, manifest in rows:
            key = (manifest.uri, canvas.uri)
            if key in wanted:
                out[key] = _details(canvas, manifest)
    return out


def find_canvas(catalog: Catalog, canvas: str, manifest: str | None = None) -> list[CanvasDetails]:
    """The live canvases with URI ``canvas`` (in ``manifest`` when given), in catalog order."""
    with catalog.session() as s:
        query = (select(CanvasRow, ManifestRow).join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                 .where(CanvasRow.uri == canvas, ManifestRow.status != "deleted")
                 .options(selectinload(CanvasRow.images)).order_by(ManifestRow.id))
        if manifest is not None:
            query = query.where(ManifestRow.uri == manifest)
        return [_details(c, m) for c, m in s.execute(query).all()]


def manifest_exists(catalog: Catalog, manifest: str) -> bool:
    with catalog.session() as s:
        return s.scalar(select(ManifestRow.id).where(ManifestRow.uri == manifest, ManifestRow.status != "deleted")) \
            is not None


def manifest_canvases(catalog: Catalog, manifest: str) -> list[tuple[str, int]]:
    """(canvas URI, machine annotations shown) of a live manifest, in canvas order."""
    with catalog.session() as s:
        m = s.scalar(select(ManifestRow).where(ManifestRow.uri == manifest, ManifestRow.status != "deleted")
                     .options(selectinload(ManifestRow.canvases).selectinload(CanvasRow.regions)))
        if m is None:
            return []
        return [(c.uri, sum(1 for r in c.regions if r.made_by == "machine" and r.review != REJECTED))
                for c in m.canvases]


def collection_manifests(catalog: Catalog, collection: str) -> list[str]:
    """Live manifests of ``collection`` and of the collections nested in it."""
    with catalog.session() as s:
        scope = _collection_scope(s, collection)
        return list(s.scalars(select(ManifestRow.uri).where(ManifestRow.collection_uri.in_(scope),
                                                            ManifestRow.status != "deleted")
                              .order_by(ManifestRow.id)))


def _collection_scope(s: Session, collection: str) -> set[str]:
    """``collection`` and the collections nested in it."""
    parents = dict(s.execute(select(CollectionRow.uri, CollectionRow.parent_uri)).all())
    return {collection} | {uri for uri in parents if _descends(uri, collection, parents)}


@dataclass(frozen=True)
class TextScope:
    """Where Content Search looks: one manifest or a collection (with the nested ones), and
    the motivations to keep (empty: all; ``machine_motivation``: that of machine regions
    without one)."""

    kind: str  # manifest | collection
    uri: str
    motivations: frozenset[str] = frozenset()
    machine_motivation: str = "tagging"


def search_regions(catalog: Catalog, scope: TextScope, words: Sequence[str], *, offset: int = 0,
                   limit: int | None = None) -> tuple[int, list[RegionText]]:
    """(how many regions in scope have every word as a word prefix, the regions from
    ``offset``, at most ``limit``), from the full-text index, in manifest, canvas and
    annotation order: the answers of ``regions_in_scope`` filtered by ``text_match``."""
    with catalog.session() as s:
        match = _sqlite_match(s, scope, words)
        if match is not None:  # SQLite: FTS5 alone counts and orders
            if match == "":
                return 0, []
            conn = s.connection()
            total = fulltext.count_matching(conn, match)
            page = fulltext.matching_regions(conn, match, offset, limit) if total else []
            return total, _regions_by_ids(s, page)
        ids = _matching(s, scope, words)
        total = s.scalar(select(func.count()).select_from(ids.subquery()))
        page = s.scalars(_ordered(ids).offset(offset).limit(limit)).all() if total else []
        return total or 0, _regions_by_ids(s, page)


def matching_region_texts(catalog: Catalog, scope: TextScope, words: Sequence[str]
                          ) -> list[tuple[int, dict, list]]:
    """(id, texts, tags) of every region in scope with every word as a word prefix, in
    manifest, canvas and annotation order (autocomplete counts words in them)."""
    with catalog.session() as s:
        match = _sqlite_match(s, scope, words)
        if match is not None:
            ids = fulltext.matching_regions(s.connection(), match) if match else []
            found: dict[int, tuple[int, dict, list]] = {}
            for chunk in _chunks(ids, 500):
                for i, t, g in s.execute(select(RegionRow.id, RegionRow.texts, RegionRow.tags)
                                         .where(RegionRow.id.in_(chunk))):
                    found[i] = (i, t or {}, g or [])
            return [found[i] for i in ids if i in found]
        ids = _matching(s, scope, words)
        rows = s.execute(_ordered(ids, RegionRow.id, RegionRow.texts, RegionRow.tags)).all()
        return [(i, t or {}, g or []) for i, t, g in rows]


def _sqlite_match(s: Session, scope: TextScope, words: Sequence[str]) -> str | None:
    """SQLite: the FTS5 MATCH text for the scope and words ("" when the scope is empty);
    None elsewhere (PostgreSQL joins the catalog's tables: ``_matching``)."""
    if s.get_bind().dialect.name != "sqlite":
        return None
    if scope.machine_motivation != fulltext.MACHINE_MOTIVATION:
        raise ValueError(f"the full-text index reads machine regions' motivation as {fulltext.MACHINE_MOTIVATION!r}")
    if scope.kind == "manifest":
        manifest_id = s.scalar(select(ManifestRow.id).where(ManifestRow.uri == scope.uri,
                                                            ManifestRow.status != "deleted"))
        if manifest_id is None:
            return ""
        return fulltext.scoped_match(words, manifest_id=manifest_id, motivations=scope.motivations)
    return fulltext.scoped_match(words, collections=_collection_scope(s, scope.uri), motivations=scope.motivations)


def _matching(s: Session, scope: TextScope, words: Sequence[str]) -> Select:
    query = (select(RegionRow.id, CanvasRow.position, ManifestRow.id.label("manifest_id"))
             .join(CanvasRow, CanvasRow.id == RegionRow.canvas_id)
             .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
             .where(ManifestRow.status != "deleted")
             .where((RegionRow.made_by != "machine") | (RegionRow.review.is_(None)) | (RegionRow.review != REJECTED)))
    if scope.kind == "manifest":
        query = query.where(ManifestRow.uri == scope.uri)
    else:
        query = query.where(ManifestRow.collection_uri.in_(_collection_scope(s, scope.uri)))
    dialect = s.get_bind().dialect.name
    if scope.motivations:
        query = query.where(or_(*[_motivation_is(dialect, m, scope.machine_motivation) for m in scope.motivations]))
    if words:
        matched = text(fulltext.matching_ids_sql()).bindparams(q=fulltext.prefix_match(dialect, words))
        query = query.where(RegionRow.id.in_(matched.columns(column("id"))))
    return query


def _motivation_is(dialect: str, motivation: str, machine_motivation: str):  # noqa: ANN202 - a condition
    """``region_annotations.motivation_of(region) == motivation`` in SQL."""
    m = RegionRow.motivation
    position = func.instr(m, ":") if dialect == "sqlite" else func.strpos(m, ":")
    stated = (m.is_not(None)) & (m != "") & (func.substr(m, position + 1) == motivation)
    if motivation != machine_motivation:
        return stated
    return stated | ((m.is_(None) | (m == "")) & (RegionRow.made_by == "machine"))


def _ordered(ids: Select, *columns) -> Select:  # noqa: ANN002 - columns of RegionRow
    inner = ids.subquery()
    if not columns:
        return select(inner.c.id).order_by(inner.c.manifest_id, inner.c.position, inner.c.id)
    return (select(*columns).join(inner, inner.c.id == RegionRow.id)
            .order_by(inner.c.manifest_id, inner.c.position, inner.c.id))


def _regions_by_ids(s: Session, ids: Sequence[int]) -> list[RegionText]:
    if not ids:
        return []
    rows = s.execute(select(RegionRow, CanvasRow.uri, ManifestRow.uri)
                     .join(CanvasRow, CanvasRow.id == RegionRow.canvas_id)
                     .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                     .where(RegionRow.id.in_(list(ids)))).all()
    by_id = {r.id: _region(r, canvas, manifest) for r, canvas, manifest in rows}
    return [by_id[i] for i in ids if i in by_id]


def regions_in_scope(catalog: Catalog, manifests: Sequence[str]) -> list[RegionText]:
    """Annotation regions (curators' and unrejected machine ones) of these manifests, in
    manifest, canvas and annotation order."""
    out: list[RegionText] = []
    order = {uri: i for i, uri in enumerate(manifests)}
    with catalog.session() as s:
        for chunk in _chunks(list(manifests), 500):
            rows = s.execute(
                select(RegionRow, CanvasRow.uri, CanvasRow.position, ManifestRow.uri)
                .join(CanvasRow, CanvasRow.id == RegionRow.canvas_id)
                .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                .where(ManifestRow.uri.in_(chunk), ManifestRow.status != "deleted")
                .where((RegionRow.made_by != "machine") | (RegionRow.review.is_(None)) | (RegionRow.review != REJECTED))
            ).all()
            out.extend(_region(r, canvas, manifest) for r, canvas, _, manifest in
                       sorted(rows, key=lambda row: (order.get(row[3], 0), row[2], row[0].id)))
    return out


def machine_regions(catalog: Catalog, canvas: str) -> list[RegionText]:
    """Machine regions of every live canvas with URI ``canvas`` that curators did not reject."""
    with catalog.session() as s:
        rows = s.execute(
            select(RegionRow, CanvasRow.uri, ManifestRow.uri)
            .join(CanvasRow, CanvasRow.id == RegionRow.canvas_id)
            .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
            .where(CanvasRow.uri == canvas, ManifestRow.status != "deleted", RegionRow.made_by == "machine")
            .where((RegionRow.review.is_(None)) | (RegionRow.review != REJECTED))
            .order_by(ManifestRow.id, RegionRow.id)).all()
        return [_region(r, c, m) for r, c, m in rows]


def canvas_is_live(catalog: Catalog, canvas: str) -> bool:
    with catalog.session() as s:
        return s.scalar(select(CanvasRow.id).join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                        .where(CanvasRow.uri == canvas, ManifestRow.status != "deleted").limit(1)) is not None


def _details(canvas: CanvasRow, manifest: ManifestRow) -> CanvasDetails:
    default: ImageRow | None = next((i for i in canvas.images if i.alternative_of is None), None)
    return CanvasDetails(manifest=manifest.uri, manifest_label=dict(manifest.label or {}), canvas=canvas.uri,
                         canvas_label=dict(canvas.label or {}), width=canvas.width, height=canvas.height,
                         image=image_from_row(default) if default is not None else None,
                         source_id=manifest.source_id, position=canvas.position)


def _region(r: RegionRow, canvas: str, manifest: str) -> RegionText:
    box = Box(r.x, r.y, r.w, r.h) if None not in (r.x, r.y, r.w, r.h) and r.w > 0 and r.h > 0 else None
    return RegionText(
        id=r.id, annotation_id=r.annotation_id, canvas=canvas, manifest=manifest, motivation=r.motivation,
        made_by=r.made_by, texts={k: list(v) for k, v in (r.texts or {}).items()},
        tags=tuple(str(t) for t in r.tags or ()), box=box,
        polygon=[tuple(p) for p in r.polygon] if r.polygon else None, creator=r.creator, model=r.model,
        model_version=r.model_version, confidence=r.confidence,
        created=_iso(r.created_at), review=r.review, reviewed_by=r.reviewed_by, reviewed=_iso(r.reviewed_at),
        corrected=r.corrected_from is not None)


def _iso(value) -> str | None:  # noqa: ANN001 - a datetime or None
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _descends(uri: str, ancestor: str, parents: dict[str, str | None]) -> bool:
    seen = set()
    parent = parents.get(uri)
    while parent and parent not in seen:
        if parent == ancestor:
            return True
        seen.add(parent)
        parent = parents.get(parent)
    return False


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
