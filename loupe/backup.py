"""``loupe backup DIR`` / ``loupe restore DIR``: everything a data directory holds that cannot
be made again from the sources in minutes.

A backup folder holds:

* ``backup.json``: what is inside, Loupe's version, the data directory it came from;
* ``catalog.jsonl.gz``: the catalog database (sources, manifests, regions, harvest runs, jobs,
  vocabularies, API keys, the lens's statistics), a portable dump (``loupe.catalog_dump``): from SQLite or PostgreSQL, into
  either;
* ``index.tar.gz``: every vector of the index (``VectorIndex.export``; local mode or server);
* ``files/``: the rest of the data directory: models (fine-tuned weights, Combiners, lens
  models), published collections, guides and lens bundles; not the caches (``cache/``,
  fetched again when needed) unless asked for, nor the catalog file or the index folder
  (they are in the two files above).

A restore goes into an empty data directory (``force`` replaces the catalog, the index and
the files of a used one), and answers the same searches with the same results. Static
sources published under the old data directory are pointed at the new one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, update

from connector.catalog.schema import Source
from loupe.catalog_dump import app_metadata, dump_catalog, load_catalog
from loupe_core import __version__
from loupe_core.settings import Settings
from loupe_index import VectorIndex

FORMAT = "loupe-backup"
FORMAT_VERSION = 1
MANIFEST = "backup.json"
CATALOG = "catalog.jsonl.gz"
INDEX = "index.tar.gz"
FILES = "files"
# Under the data directory, never copied as files: the SQLite catalog (dumped), the local
# index (exported), caches (fetched again) unless with_cache.
CATALOG_FILES = ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.sqlite-journal")

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class BackupSummary:
    folder: Path
    catalog_rows: dict[str, int] = field(default_factory=dict)
    index_points: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0

    def as_dict(self) -> dict:
        return {"folder": str(self.folder), "catalog_rows": self.catalog_rows, "index_points": self.index_points,
                "files": self.files, "file_bytes": self.file_bytes}


def _skipped(settings: Settings, with_cache: bool) -> set[Path]:
    data = settings.data_dir.resolve()
    skipped = {data / name for name in CATALOG_FILES}
    skipped.add(settings.index_dir.resolve())
    if not with_cache:
        skipped.add(settings.cache_dir.resolve())
    return skipped


def _copy_files(source: Path, target: Path, skipped: set[Path]) -> tuple[int, int]:
    """Copy ``source`` into ``target`` except the ``skipped`` paths; (files, bytes)."""
    files = size = 0
    if not source.is_dir():
        return 0, 0
    for path in sorted(source.rglob("*")):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skipped) or not path.is_file():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        files += 1
        size += path.stat().st_size
    return files, size


def backup(settings: Settings, folder: Path, *, with_cache: bool = False, say: Say = lambda _: None) -> BackupSummary:
    """Write a backup of ``settings``' data directory, catalog and index into ``folder``
    (new or empty). The index is read through ``VectorIndex``: in local mode no other
    process may hold it (stop ``loupe serve`` first, or back up a Qdrant server)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    summary = BackupSummary(folder)

    say("catalog: dumping every table")
    engine = create_engine(settings.catalog)
    try:
        summary.catalog_rows = dump_catalog(engine, folder / CATALOG)
    finally:
        engine.dispose()
    say(f"catalog: {sum(summary.catalog_rows.values()):,} rows in {len(summary.catalog_rows)} tables")

    with VectorIndex.open(settings, role="loupe backup") as index:
        manifest = index.export(folder / INDEX)
    summary.index_points = {name: spec["points"] for name, spec in manifest["vectors"].items()}
    say(f"index: {sum(summary.index_points.values()):,} points in {len(summary.index_points)} vectors")

    summary.files, summary.file_bytes = _copy_files(settings.data_dir, folder / FILES, _skipped(settings, with_cache))
    say(f"files: {summary.files:,} ({summary.file_bytes / 1e6:.1f} MB: models, published collections, guides, "
        f"lens bundles{', caches' if with_cache else ''})")

    (folder / MANIFEST).write_text(json.dumps({
        "format": FORMAT, "format_version": FORMAT_VERSION, "loupe_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_dir": str(settings.data_dir.resolve()), "catalog_backend": engine.dialect.name,
        "index_mode": "server" if settings.qdrant_url else "local", "with_cache": with_cache,
        **summary.as_dict(), "folder": None}, indent=2))
    return summary


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a Loupe backup (no {MANIFEST})") from None
    except json.JSONDecodeError as e:
        raise BackupError(f"{path} is damaged: {e}") from None
    if manifest.get("format") != FORMAT or int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(f"{path}: not a backup this Loupe can read (format {manifest.get('format')!r} "
                          f"version {manifest.get('format_version')!r}; made by Loupe {manifest.get('loupe_version')})")
    for name in (CATALOG, INDEX):
        if not (Path(folder) / name).is_file():
            raise BackupError(f"{folder} is incomplete: {name} is missing")
    return manifest


def _in_use(settings: Settings) -> list[str]:
    """What the target data directory already holds (empty: nothing)."""
    data = settings.data_dir
    return sorted(p.name for p in data.iterdir()) if data.is_dir() else []


def restore(settings: Settings, folder: Path, *, force: bool = False, say: Say = lambda _: None) -> BackupSummary:
    """Restore ``folder`` into ``settings``' data directory (catalog database, index, files)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    used = _in_use(settings)
    if used and not force:
        raise BackupError(f"the data directory {settings.data_dir} is not empty ({', '.join(used[:5])}"
                          f"{', ...' if len(used) > 5 else ''}): restore into a new one (--data-dir, LOUPE_DATA_DIR), "
                          "or replace its catalog, index and files with --force")
    engine = create_engine(settings.catalog)
    try:
        if force:
            _clear(settings, engine)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        summary = BackupSummary(folder)
        say("catalog: loading")
        summary.catalog_rows = load_catalog(engine, folder / CATALOG)
        old_root = manifest.get("data_dir")
        if old_root:
            _repoint_static_sources(engine, Path(old_root), settings.data_dir.resolve())
        say(f"catalog: {sum(n for n in summary.catalog_rows.values() if n > 0):,} rows")
    finally:
        engine.dispose()
    with VectorIndex.open(settings, role="loupe restore") as index:
        summary.index_points = index.import_export(folder / INDEX, replace=True)
    say(f"index: {sum(summary.index_points.values()):,} points in {len(summary.index_points)} vectors")
    summary.files, summary.file_bytes = _copy_files(folder / FILES, settings.data_dir, set())
    say(f"files: {summary.files:,} ({summary.file_bytes / 1e6:.1f} MB)")
    return summary


def _clear(settings: Settings, engine) -> None:  # noqa: ANN001 - a SQLAlchemy engine
    """--force: drop what the restore replaces (catalog tables, local index, copied files)."""
    for metadata in reversed(app_metadata()):
        metadata.drop_all(engine)
    if not settings.qdrant_url and settings.index_dir.is_dir():
        shutil.rmtree(settings.index_dir / "qdrant", ignore_errors=True)


def _repoint_static_sources(engine, old_root: Path, new_root: Path) -> None:  # noqa: ANN001
    """A static source reads files under the data directory it was published into."""
    if old_root == new_root:
        return
    with engine.begin() as conn:
        for source_id, local_path in conn.execute(Source.__table__.select().with_only_columns(
                Source.__table__.c.id, Source.__table__.c.local_path)):
            if not local_path:
                continue
            path = Path(local_path)
            if path == old_root or old_root in path.parents:
                moved = new_root / path.relative_to(old_root)
                conn.execute(update(Source.__table__).where(Source.__table__.c.id == source_id)
                             .values(local_path=str(moved)))
