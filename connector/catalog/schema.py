"""The catalog's tables (SQLAlchemy 2 ORM; SQLite by default, PostgreSQL by URL).

Everything is keyed by IIIF URIs as well as integer ids, so that a harvest can upsert in
place and a killed harvest, rerun, converges to the same rows.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Source(Base):
    """Where manifests come from: a IIIF Collection, a list of manifest URLs, a Change
    Discovery stream, a single manifest, or a folder published as static IIIF."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # collection | manifest_list | change_discovery | manifest | static
    name: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Private-network allowance (``connector.netguard.PrivateAllowance``): the source's own
    # host and port, and the extra ``HOST[:PORT]`` entries of ``allowed_hosts``.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_hosts: Mapped[list | None] = mapped_column(JSON, default=list)
    polite: Mapped[bool] = mapped_column(Boolean, default=True)
    # For static sources: the folder that holds the files behind ``url``.
    local_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_harvest_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Change Discovery: end time of the newest activity already processed (ISO 8601).
    last_activity_time: Mapped[str | None] = mapped_column(String(40))
    # Conditional GET state of the source document itself.
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    # `loupe scheduler` (connector.schedule): harvest every so many seconds (None: not
    # scheduled), only inside the UTC window "HH:MM-HH:MM" when one is set.
    harvest_every_s: Mapped[int | None] = mapped_column(Integer)
    harvest_window: Mapped[str | None] = mapped_column(String(11))


class HarvestRun(Base):
    __tablename__ = "harvest_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # running | completed | completed_with_problems | failed | interrupted
    status: Mapped[str] = mapped_column(String(32), default="running")
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    pid: Mapped[int | None] = mapped_column(Integer)


class CollectionRow(Base):
    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    parent_uri: Mapped[str | None] = mapped_column(String(2048))
    label: Mapped[dict] = mapped_column(JSON, default=dict)


class ManifestRow(Base):
    __tablename__ = "manifests"
    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    collection_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    metadata_: Mapped[list] = mapped_column("metadata", JSON, default=list)
    rights: Mapped[str | None] = mapped_column(Text)
    required_statement: Mapped[dict | None] = mapped_column(JSON)
    provider: Mapped[list] = mapped_column(JSON, default=list)
    thumbnail: Mapped[list] = mapped_column(JSON, default=list)
    homepage: Mapped[list] = mapped_column(JSON, default=list)
    nav_date: Mapped[str | None] = mapped_column(String(40))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # ok | problems (read with problems) | error (could not be read) | deleted
    status: Mapped[str] = mapped_column(String(16), default="ok", index=True)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    canvases: Mapped[list["CanvasRow"]] = relationship(
        back_populates="manifest", cascade="all, delete-orphan", order_by="CanvasRow.position")


class CanvasRow(Base):
    __tablename__ = "canvases"
    __table_args__ = (UniqueConstraint("manifest_id", "uri"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str] = mapped_column(String(2048), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[dict] = mapped_column(JSON, default=dict)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)

    manifest: Mapped[ManifestRow] = relationship(back_populates="canvases")
    images: Mapped[list["ImageRow"]] = relationship(
        back_populates="canvas", cascade="all, delete-orphan", order_by="ImageRow.position")
    regions: Mapped[list["RegionRow"]] = relationship(back_populates="canvas", cascade="all, delete-orphan")


class ImageRow(Base):
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    canvas_id: Mapped[int] = mapped_column(ForeignKey("canvases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    uri: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[str | None] = mapped_column(String(2048))
    service_version: Mapped[int | None] = mapped_column(Integer)
    service_level: Mapped[int | None] = mapped_column(Integer)
    # sizes, tiles, extra features, width/height of the service
    service: Mapped[dict | None] = mapped_column(JSON)
    target_xywh: Mapped[list | None] = mapped_column(JSON)  # where on the canvas; null = whole
    source_xywh: Mapped[list | None] = mapped_column(JSON)  # part of the image painted; null = whole
    alternative_of: Mapped[int | None] = mapped_column(Integer)  # position of the default image of a Choice
    # Changes whenever anything that affects the pixels changes; the indexer keys on it.
    content_key: Mapped[str] = mapped_column(String(64), index=True)
    # Fetch at the bounded size into the image cache: null (not yet) | ok | error
    fetch_status: Mapped[str | None] = mapped_column(String(16), index=True)
    fetch_problem: Mapped[str | None] = mapped_column(Text)
    fetched_width: Mapped[int | None] = mapped_column(Integer)
    fetched_height: Mapped[int | None] = mapped_column(Integer)

    canvas: Mapped[CanvasRow] = relationship(back_populates="images")


class RegionRow(Base):
    """A region of a canvas that somebody said something about: from a curator's annotation
    (made_by="person") or, later, from a model (made_by="machine")."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    canvas_id: Mapped[int] = mapped_column(ForeignKey("canvases.id", ondelete="CASCADE"), index=True)
    annotation_id: Mapped[str | None] = mapped_column(String(2048))
    annotation_page: Mapped[str | None] = mapped_column(String(2048))
    motivation: Mapped[str | None] = mapped_column(String(64))
    # canvas coordinates; null box = the whole canvas
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    w: Mapped[float | None] = mapped_column(Float)
    h: Mapped[float | None] = mapped_column(Float)
    # pixels of the canvas's first image (full resolution), when it can be computed
    image_xywh: Mapped[list | None] = mapped_column(JSON)
    polygon: Mapped[list | None] = mapped_column(JSON)
    point: Mapped[list | None] = mapped_column(JSON)
    selector: Mapped[str | None] = mapped_column(String(32))
    texts: Mapped[dict] = mapped_column(JSON, default=dict)  # language -> [text, ...]
    tags: Mapped[list] = mapped_column(JSON, default=list)
    links: Mapped[list] = mapped_column(JSON, default=list)  # URIs of identifying/linking bodies
    made_by: Mapped[str] = mapped_column(String(16), default="person")  # person | machine
    creator: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    review: Mapped[str | None] = mapped_column(String(16))  # machine regions: proposed | accepted | rejected
    # The last decision on a machine region: who (a fingerprint of the curator's API key, never
    # the key), when, and what the model had proposed when the curator corrected it before
    # accepting ({"tags": [...], "xywh": [x, y, w, h] | None}).
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    corrected_from: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    canvas: Mapped[CanvasRow] = relationship(back_populates="regions")


class AnnotationPageRow(Base):
    """A referenced AnnotationPage/List, with its conditional-GET state."""

    __tablename__ = "annotation_pages"
    __table_args__ = (UniqueConstraint("manifest_id", "uri"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="ok")
    problems: Mapped[list] = mapped_column(JSON, default=list)


Index("ix_regions_made_by", RegionRow.made_by)
