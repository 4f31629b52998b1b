"""The catalog: what was harvested, from where, and what curators said about which region.

One ``Catalog`` per process; sessions are short. Writes of one manifest (with its canvases,
images and regions) happen in one transaction, so a killed harvest leaves whole manifests
or nothing, and a rerun converges to the same rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import create_engine, delete, event, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from connector.netguard import PrivateAllowance
from iiif.geometry import canvas_to_image
from iiif.model import Annotation, AnnotationPage, Box, Image, ImageService, Manifest, MetadataEntry, Problem
from loupe_core.settings import Settings

from . import fulltext
from .migrations import add_missing_columns
from .schema import (
    SCHEMA_VERSION,
    AnnotationPageRow,
    Base,
    CanvasRow,
    CollectionRow,
    HarvestRun,
    ImageRow,
    ManifestRow,
    Meta,
    RegionRow,
    Source,
    utcnow,
)

log = logging.getLogger(__name__)

SOURCE_KINDS = ("collection", "manifest_list", "change_discovery", "manifest", "static")


class CatalogError(RuntimeError):
    """A catalog operation that cannot be done; the message says why."""


@dataclass(frozen=True)
class SourceInfo:
    id: int
    url: str
    kind: str
    name: str | None
    allow_private: bool
    polite: bool
    local_path: str | None
    last_harvest_at: datetime | None
    last_activity_time: str | None
    manifests: int = 0
    allowed_hosts: tuple[str, ...] = ()  # HOST[:PORT] that may be private, besides the source's own
    harvest_every_s: int | None = None  # `loupe scheduler`: every so many seconds (None: not scheduled)
    harvest_window: str | None = None  # ... inside this UTC window, "HH:MM-HH:MM"

    @classmethod
    def of(cls, s: Source, manifests: int = 0) -> "SourceInfo":
        return cls(s.id, s.url, s.kind, s.name, s.allow_private, s.polite, s.local_path,
                   s.last_harvest_at, s.last_activity_time, manifests, tuple(s.allowed_hosts or ()),
                   s.harvest_every_s, s.harvest_window)


@dataclass(frozen=True)
class FetchState:
    """Conditional-GET and content state of something already in the catalog."""

    etag: str | None
    last_modified: str | None
    content_hash: str | None
    status: str


@dataclass
class HarvestedPage:
    uri: str
    page: AnnotationPage | None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class HarvestedManifest:
    """A manifest as fetched and read, ready to be written."""

    uri: str
    manifest: Manifest
    etag: str | None
    last_modified: str | None
    content_hash: str  # of the manifest bytes and all referenced pages' bytes
    problems: list[Problem] = field(default_factory=list)
    pages: list[HarvestedPage] = field(default_factory=list)
    collection_uri: str | None = None


def combined_hash(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def _problems_json(problems: Iterable[Problem]) -> list[dict]:
    return [{"where": p.where, "what": p.what, "severity": p.severity} for p in problems]


def _entry_json(e: MetadataEntry | None) -> dict | None:
    return None if e is None else {"label": e.label, "value": e.value}


class Catalog:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        fulltext.keep_in_sync(self._session)

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings) -> "Catalog":
        url = settings.catalog
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return cls.from_url(url)

    @classmethod
    def from_url(cls, url: str) -> "Catalog":
        # pool_pre_ping: a pooled connection that a database restart broke is noticed and
        # replaced before it is used, so services outlive a restart of PostgreSQL.
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                # WAL: readers (the search service) never block the harvester and vice versa.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        Base.metadata.create_all(engine)
        add_missing_columns(engine)
        with engine.begin() as conn:
            fulltext.ensure(conn)
        cat = cls(engine)
        with cat.session() as s:
            row = s.get(Meta, "schema_version")
            if row is None:
                s.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                s.commit()
            elif int(row.value) > SCHEMA_VERSION:
                raise CatalogError(f"catalog {url} was written by a newer Loupe (schema {row.value}); upgrade Loupe")
        return cat

    def session(self) -> Session:
        return self._session()

    def close(self) -> None:
        self.engine.dispose()

    # --- sources -------------------------------------------------------------------------
    def add_source(self, url: str, kind: str = "collection", *, allow_private: bool = False,
                   local_path: str | None = None, name: str | None = None, polite: bool = True,
                   allowed_hosts: Iterable[str] = ()) -> SourceInfo:
        """Add a source, or update the options of the one with this URL (idempotent).

        ``allow_private`` lets the source's own host and port be private; ``allowed_hosts``
        (``HOST`` for ports 80 and 443, or ``HOST:PORT``) names further hosts that may be."""
        if kind not in SOURCE_KINDS:
            raise CatalogError(f"unknown source kind {kind!r}; one of {', '.join(SOURCE_KINDS)}")
        hosts = list(dict.fromkeys(h.strip() for h in allowed_hosts if h.strip()))
        try:
            PrivateAllowance.of(hosts)
        except ValueError as e:
            raise CatalogError(f"--allow-host: {e}") from None
        with self.session() as s:
            src = s.scalar(select(Source).where(Source.url == url))
            if name:
                clash = s.scalar(select(Source).where(Source.name == name, Source.url != url))
                if clash:
                    raise CatalogError(f"a source named {name!r} already exists ({clash.url})")
            if src is None:
                src = Source(url=url, kind=kind)
                s.add(src)
            src.kind = kind
            src.allow_private = allow_private
            src.allowed_hosts = hosts
            src.polite = polite
            src.local_path = local_path
            if name:
                src.name = name
            s.commit()
            return SourceInfo.of(src)

    def remove_source(self, ref: str | int) -> None:
        src = self.get_source(ref)
        with self.session() as s:
            s.execute(delete(Source).where(Source.id == src.id))
            s.commit()

    def list_sources(self) -> list[SourceInfo]:
        with self.session() as s:
            counts = dict(s.execute(
                select(ManifestRow.source_id, func.count()).where(ManifestRow.status != "deleted")
                .group_by(ManifestRow.source_id)).all())
            return [SourceInfo.of(src, counts.get(src.id, 0))
                    for src in s.scalars(select(Source).order_by(Source.id))]

    def get_source(self, ref: str | int) -> SourceInfo:
        """A source by id, name or URL."""
        with self.session() as s:
            src = None
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                src = s.get(Source, int(ref))
            if src is None:
                src = s.scalar(select(Source).where((Source.url == str(ref)) | (Source.name == str(ref))))
            if src is None:
                raise CatalogError(f"no source {ref!r}; `loupe source list` shows the sources")
            return SourceInfo.of(src)

    def set_source_state(self, source_id: int, **values) -> None:
        with self.session() as s:
            src = s.get(Source, source_id)
            for k, v in values.items():
                setattr(src, k, v)
            s.commit()

    # --- harvest runs --------------------------------------------------------------------
    def start_run(self, source_id: int) -> int:
        """Open a run; earlier runs of the source left 'running' by a dead process are
        marked interrupted (their work is kept; the new run resumes it)."""
        with self.session() as s:
            for run in s.scalars(select(HarvestRun).where(
                    HarvestRun.source_id == source_id, HarvestRun.status == "running")):
                if run.pid is None or not _pid_alive(run.pid) or run.pid == os.getpid():
                    run.status = "interrupted"
                    run.finished_at = run.finished_at or utcnow()
                else:
                    raise CatalogError(
                        f"source {source_id} is being harvested by process {run.pid}; wait for it or stop it")
            run = HarvestRun(source_id=source_id, status="running", pid=os.getpid(), counts={}, problems=[])
            s.add(run)
            s.commit()
            return run.id

    def finish_run(self, run_id: int, status: str, counts: dict, problems: list[Problem]) -> None:
        with self.session() as s:
            run = s.get(HarvestRun, run_id)
            run.status = status
            run.finished_at = utcnow()
            run.counts = dict(counts)
            run.problems = _problems_json(problems)[:5000]
            src = s.get(Source, run.source_id)
            src.last_harvest_at = run.finished_at
            s.commit()

    def runs(self, source_id: int | None = None, limit: int = 20) -> list[dict]:
        with self.session() as s:
            q = select(HarvestRun).order_by(HarvestRun.id.desc()).limit(limit)
            if source_id is not None:
                q = q.where(HarvestRun.source_id == source_id)
            return [{"id": r.id, "source_id": r.source_id, "status": r.status,
                     "started_at": r.started_at.isoformat() if r.started_at else None,
                     "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                     "counts": r.counts, "problems": len(r.problems or [])} for r in s.scalars(q)]

    # --- manifests -----------------------------------------------------------------------
    def manifest_states(self, source_id: int) -> dict[str, FetchState]:
        with self.session() as s:
            rows = s.execute(select(ManifestRow.uri, ManifestRow.etag, ManifestRow.last_modified,
                                    ManifestRow.content_hash, ManifestRow.status)
                             .where(ManifestRow.source_id == source_id)).all()
            return {r[0]: FetchState(r[1], r[2], r[3], r[4]) for r in rows}

    def page_states(self, source_id: int) -> dict[str, dict[str, FetchState]]:
        """manifest URI -> page URI -> state."""
        with self.session() as s:
            rows = s.execute(select(ManifestRow.uri, AnnotationPageRow.uri, AnnotationPageRow.etag,
                                    AnnotationPageRow.last_modified, AnnotationPageRow.content_hash,
                                    AnnotationPageRow.status)
                             .join(ManifestRow, ManifestRow.id == AnnotationPageRow.manifest_id)
                             .where(ManifestRow.source_id == source_id)).all()
        out: dict[str, dict[str, FetchState]] = {}
        for m, p, *st in rows:
            out.setdefault(m, {})[p] = FetchState(*st)
        return out

    def upsert_collection(self, s: Session, source_id: int, uri: str, label: dict, parent: str | None) -> None:
        row = s.scalar(select(CollectionRow).where(CollectionRow.uri == uri))
        if row is None:
            s.add(CollectionRow(uri=uri, source_id=source_id, label=label, parent_uri=parent))
        elif row.label != label or row.parent_uri != parent or row.source_id != source_id:
            row.label, row.parent_uri, row.source_id = label, parent, source_id

    def write_manifest(self, s: Session, source_id: int, h: HarvestedManifest) -> str:
        """Insert or update one manifest in session ``s``; returns new | updated | unchanged."""
        row = s.scalar(select(ManifestRow).where(ManifestRow.uri == h.uri))
        status = "problems" if any(p.severity == "error" for p in h.problems) else "ok"
        if (row is not None and row.status == status and row.content_hash == h.content_hash
                and row.source_id == source_id and row.collection_uri == h.collection_uri):
            if row.etag != h.etag or row.last_modified != h.last_modified:
                row.etag, row.last_modified = h.etag, h.last_modified
            problems = _problems_json(list(h.problems) + [p for pg in h.pages for p in pg.problems])[:500]
            if row.problems != problems:  # e.g. a transient fetch error recorded since
                row.problems = problems
            return "unchanged"
        outcome = "new" if row is None or row.status == "deleted" else "updated"
        m = h.manifest
        if row is None:
            row = ManifestRow(uri=h.uri, source_id=source_id)
            s.add(row)
        row.source_id = source_id
        row.collection_uri = h.collection_uri
        row.version = m.version
        row.label = m.label
        row.summary = m.summary
        row.metadata_ = [_entry_json(e) for e in m.metadata]
        row.rights = m.rights
        row.required_statement = _entry_json(m.required_statement)
        row.provider = [{"id": a.id, "label": a.label, "homepage": a.homepage, "logo": a.logo} for a in m.provider]
        row.thumbnail = list(m.thumbnail)
        row.homepage = list(m.homepage)
        row.nav_date = m.nav_date
        row.etag, row.last_modified, row.content_hash = h.etag, h.last_modified, h.content_hash
        row.status = status
        all_problems = list(h.problems) + [p for pg in h.pages for p in pg.problems]
        row.problems = _problems_json(all_problems)[:500]
        row.updated_at = utcnow()
        s.flush()
        self._write_canvases(s, row, h)
        self._write_pages(s, row, h.pages)
        return outcome

    def _write_canvases(self, s: Session, row: ManifestRow, h: HarvestedManifest) -> None:
        existing = {c.uri: c for c in row.canvases}
        keep: set[str] = set()
        by_uri: dict[str, CanvasRow] = {}
        for pos, canvas in enumerate(h.manifest.canvases):
            if canvas.id in keep:  # duplicate canvas id within one manifest: keep the first
                continue
            keep.add(canvas.id)
            c = existing.get(canvas.id)
            if c is None:
                c = CanvasRow(uri=canvas.id, position=pos)
                row.canvases.append(c)
            c.position, c.label, c.width, c.height = pos, canvas.label, canvas.width, canvas.height
            # Unchanged images keep their rows (and whether they were fetched).
            old_images = {(im.position, im.content_key): im for im in c.images}
            new_images = []
            for i, item in enumerate(_with_alternatives(canvas.images)):
                fresh = _image_row(i, item)
                new_images.append(old_images.get((fresh.position, fresh.content_key), fresh))
            c.images = new_images
            by_uri[canvas.id] = c
            # Person-made regions are rebuilt from the annotations; machine ones are kept.
            c.regions = [r for r in c.regions if r.made_by != "person"]
        for uri, c in existing.items():
            if uri not in keep:
                row.canvases.remove(c)
        s.flush()
        canvases = {cv.id: cv for cv in h.manifest.canvases}
        for page_uri, ann in _annotations_of(h):
            if "painting" in ann.motivations:
                continue
            for t in ann.targets:
                c = by_uri.get(t.source)
                if c is None:
                    continue
                box = t.box
                image_xywh = None
                cv = canvases.get(t.source)
                if box is not None and cv is not None and cv.images:
                    ib = canvas_to_image(cv.images[0], box, cv.width, cv.height)
                    if ib is not None:
                        image_xywh = [round(ib.x, 2), round(ib.y, 2), round(ib.w, 2), round(ib.h, 2)]
                c.regions.append(RegionRow(
                    annotation_id=ann.id, annotation_page=page_uri,
                    motivation=(ann.motivations or [None])[0],
                    x=box.x if box else None, y=box.y if box else None,
                    w=box.w if box else None, h=box.h if box else None,
                    image_xywh=image_xywh,
                    polygon=[list(p) for p in t.polygon] if t.polygon else None,
                    point=list(t.point) if t.point else None,
                    selector=t.selector, texts=ann.texts, tags=ann.tags,
                    links=[b.id for b in ann.bodies if b.id and not b.value],
                    made_by="person", creator=ann.creator,
                ))

    def _write_pages(self, s: Session, row: ManifestRow, pages: list[HarvestedPage]) -> None:
        existing = {p.uri: p for p in s.scalars(select(AnnotationPageRow).where(AnnotationPageRow.manifest_id == row.id))}
        seen = set()
        for pg in pages:
            seen.add(pg.uri)
            p = existing.get(pg.uri)
            if p is None:
                p = AnnotationPageRow(manifest_id=row.id, uri=pg.uri)
                s.add(p)
            p.etag, p.last_modified, p.content_hash = pg.etag, pg.last_modified, pg.content_hash
            p.status = "ok" if pg.page is not None else "error"
            p.problems = _problems_json(pg.problems)[:100]
        for uri, p in existing.items():
            if uri not in seen:
                s.delete(p)

    def mark_manifest_error(self, s: Session, source_id: int, uri: str, problems: list[Problem],
                            collection_uri: str | None = None) -> str:
        """Record a manifest that could not be fetched or read. A manifest harvested before
        keeps its content (a transient failure must not lose data); its problems are noted."""
        row = s.scalar(select(ManifestRow).where(ManifestRow.uri == uri))
        pj = _problems_json(problems)[:100]
        if row is None:
            s.add(ManifestRow(uri=uri, source_id=source_id, status="error", problems=pj,
                              collection_uri=collection_uri))
            return "failed"
        if row.status in ("error", "deleted"):
            row.status = "error"
            row.canvases = []
        else:
            # Forget the validators: the next harvest reads it in full and so replaces
            # these problems, instead of getting a 304 and keeping them.
            row.etag = row.last_modified = None
        row.problems = pj
        return "failed"

    def delete_manifest(self, s: Session, uri: str) -> bool:
        row = s.scalar(select(ManifestRow).where(ManifestRow.uri == uri))
        if row is None or row.status == "deleted":
            return False
        row.status = "deleted"
        row.canvases = []
        row.etag = row.last_modified = row.content_hash = None
        row.updated_at = utcnow()
        s.execute(delete(AnnotationPageRow).where(AnnotationPageRow.manifest_id == row.id))
        return True

    # --- images --------------------------------------------------------------------------
    def images_to_fetch(self, source_id: int, retry_errors: bool = True) -> list[tuple[int, str, Image]]:
        """(image row id, manifest URI, image) of default images not fetched yet."""
        wanted = [ImageRow.fetch_status.is_(None)]
        if retry_errors:
            wanted.append(ImageRow.fetch_status == "error")
        with self.session() as s:
            rows = s.execute(
                select(ImageRow, ManifestRow.uri)
                .join(CanvasRow, CanvasRow.id == ImageRow.canvas_id)
                .join(ManifestRow, ManifestRow.id == CanvasRow.manifest_id)
                .where(ManifestRow.source_id == source_id, ManifestRow.status != "deleted",
                       ImageRow.alternative_of.is_(None), or_(*wanted))
                .order_by(ImageRow.id)).all()
            return [(r.id, m, image_from_row(r)) for r, m in rows]

    def set_image_fetched(self, s: Session, image_id: int, status: str, problem: str | None = None,
                          size: tuple[int, int] | None = None) -> None:
        row = s.get(ImageRow, image_id)
        if row is None:  # removed by a concurrent update of its manifest
            return
        row.fetch_status, row.fetch_problem = status, problem
        if size is not None:
            row.fetched_width, row.fetched_height = size

    # --- reading -------------------------------------------------------------------------
    def stats(self) -> dict:
        with self.session() as s:
            def count(q):
                return s.scalar(q) or 0
            by_status = dict(s.execute(select(ManifestRow.status, func.count()).group_by(ManifestRow.status)).all())
            regions_by = dict(s.execute(select(RegionRow.made_by, func.count()).group_by(RegionRow.made_by)).all())
            return {
                "sources": count(select(func.count()).select_from(Source)),
                "collections": count(select(func.count()).select_from(CollectionRow)),
                "manifests": sum(v for k, v in by_status.items() if k != "deleted"),
                "manifests_by_status": by_status,
                "canvases": count(select(func.count()).select_from(CanvasRow)),
                "images": count(select(func.count()).select_from(ImageRow).where(ImageRow.alternative_of.is_(None))),
                "regions": sum(regions_by.values()),
                "regions_by_maker": regions_by,
                "harvest_runs": count(select(func.count()).select_from(HarvestRun)),
            }

    def snapshot(self) -> dict:
        """A comparable picture of the catalog's content (no ids or timestamps); tests and
        the resume check compare two catalogs with it."""
        with self.session() as s:
            out = {}
            for m in s.scalars(select(ManifestRow).order_by(ManifestRow.uri)):
                out[m.uri] = {
                    "status": m.status, "label": m.label, "hash": m.content_hash,
                    "collection": m.collection_uri,
                    "canvases": [
                        {"uri": c.uri, "size": [c.width, c.height],
                         "images": [[i.uri, i.service_id, i.content_key] for i in c.images],
                         "regions": sorted(json.dumps([r.annotation_id, r.x, r.y, r.w, r.h, r.texts, r.tags,
                                                       r.made_by], sort_keys=True) for r in c.regions)}
                        for c in m.canvases],
                }
            return out

    def iter_manifests(self, source_id: int | None = None) -> Iterator[ManifestRow]:
        with self.session() as s:
            q = select(ManifestRow).where(ManifestRow.status != "deleted").order_by(ManifestRow.id)
            if source_id is not None:
                q = q.where(ManifestRow.source_id == source_id)
            yield from s.scalars(q)


def _with_alternatives(images: list[Image]) -> Iterator[tuple[Image, int | None]]:
    for pos, img in enumerate(images):
        yield img, None
        for alt in img.alternatives:
            yield alt, pos


def _image_row(position: int, item: tuple[Image, int | None]) -> ImageRow:
    img, alternative_of = item
    svc = img.service
    service = None
    if svc is not None:
        service = {"width": svc.width, "height": svc.height, "sizes": [list(x) for x in svc.sizes],
                   "tiles": svc.tiles, "profile": svc.profile, "extra_features": svc.extra_features,
                   "formats": svc.formats}
    target = list(img.target_box.as_tuple()) if img.target_box else None
    source = list(img.source_box.as_tuple()) if img.source_box else None
    key = hashlib.sha256(json.dumps([img.id, svc.id if svc else None, svc.version if svc else None,
                                     svc.level if svc else None, img.width, img.height, target, source],
                                    sort_keys=True).encode()).hexdigest()
    return ImageRow(position=position, uri=img.id, format=img.format, width=img.width, height=img.height,
                    service_id=svc.id if svc else None, service_version=svc.version if svc else None,
                    service_level=svc.level if svc else None, service=service, target_xywh=target,
                    source_xywh=source, alternative_of=alternative_of, content_key=key)


def image_from_row(row: ImageRow) -> Image:
    """The catalog's image row back as the IIIF model's Image (for fetching)."""
    service = None
    if row.service_id:
        extra = row.service or {}
        service = ImageService(
            id=row.service_id, version=row.service_version or 2, level=row.service_level,
            profile=extra.get("profile"), width=extra.get("width"), height=extra.get("height"),
            sizes=[tuple(x) for x in extra.get("sizes") or []], tiles=extra.get("tiles") or [],
            extra_features=extra.get("extra_features") or [], formats=extra.get("formats") or [])
    return Image(id=row.uri, format=row.format, width=row.width, height=row.height, service=service,
                 target_box=Box(*row.target_xywh) if row.target_xywh else None,
                 source_box=Box(*row.source_xywh) if row.source_xywh else None)


def _annotations_of(h: HarvestedManifest) -> Iterator[tuple[str | None, Annotation]]:
    for a in h.manifest.annotations:
        yield None, a
    for c in h.manifest.canvases:
        for a in c.annotations:
            yield None, a
    for pg in h.pages:
        if pg.page is not None:
            for a in pg.page.annotations:
                yield pg.uri, a


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
