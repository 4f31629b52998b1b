"""The index as one portable file: a gzipped tar with ``manifest.json`` (format, vector
configurations, active vector) and one JSON Lines file per vector of
``{"id", "vector" (base64 little-endian float32), "payload"}``.

Local mode has no snapshots; this is its backup and its way to a server: export here,
import there. Members are read by name and never extracted to disk.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .errors import VectorIndexError

EXPORT_FORMAT = "loupe-index-export"
EXPORT_VERSION = 1
MANIFEST = "manifest.json"

ExportedPoint = tuple[str, np.ndarray, dict[str, Any]]


def write_export(path: Path, *, prefix: str, active: str | None, dims: dict[str, int],
                 points_of: Callable[[str], Iterable[ExportedPoint]]) -> dict[str, Any]:
    """Write the archive atomically (a partial file is never left under ``path``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": EXPORT_FORMAT, "format_version": EXPORT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "qdrant_collection": prefix, "active": active, "distance": "Cosine", "vectors": {},
    }
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        files = {}
        for name, dim in sorted(dims.items()):
            member = f"points/{name}.jsonl"
            local = Path(tmp) / f"{name}.jsonl"
            count = 0
            with open(local, "w", encoding="utf-8") as out:
                for pid, vector, payload in points_of(name):
                    vec = np.asarray(vector, dtype="<f4")
                    if vec.shape != (dim,):
                        raise VectorIndexError(f"point {pid} of vector {name} has shape {vec.shape}, expected ({dim},)")
                    out.write(json.dumps({"id": str(pid), "vector": base64.b64encode(vec.tobytes()).decode(),
                                          "payload": payload}, ensure_ascii=False) + "\n")
                    count += 1
            manifest["vectors"][name] = {"dim": dim, "points": count, "file": member}
            files[member] = local
        partial = Path(tmp) / "export.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            for member, local in files.items():
                tar.add(local, arcname=member)
        os.replace(partial, path)
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    with _open(path) as tar:
        manifest = json.loads(_member(tar, MANIFEST).read())
    if manifest.get("format") != EXPORT_FORMAT:
        raise VectorIndexError(f"{path} is not a Loupe index export (no {EXPORT_FORMAT!r} manifest)")
    if manifest.get("format_version", 0) > EXPORT_VERSION:
        raise VectorIndexError(f"{path} was written by a newer Loupe (export format "
                               f"{manifest['format_version']}); upgrade Loupe to import it")
    return manifest


def iter_points(path: Path, manifest: dict[str, Any], name: str) -> Iterator[ExportedPoint]:
    spec = manifest["vectors"][name]
    with _open(path) as tar:
        for line in _member(tar, spec["file"]):
            row = json.loads(line)
            vec = np.frombuffer(base64.b64decode(row["vector"]), dtype="<f4")
            if vec.shape != (spec["dim"],):
                raise VectorIndexError(f"{path}: point {row['id']} of {name} has {vec.size} dimensions, "
                                       f"expected {spec['dim']}")
            yield row["id"], vec.astype(np.float32), row["payload"]


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except FileNotFoundError:
        raise VectorIndexError(f"index export {path} does not exist") from None
    except tarfile.TarError as e:
        raise VectorIndexError(f"{path} is not a readable index export ({e})") from None


def _member(tar: tarfile.TarFile, name: str) -> io.BufferedReader:
    try:
        f = tar.extractfile(name)
    except KeyError:
        f = None
    if f is None:
        raise VectorIndexError(f"{tar.name}: the export has no {name}; it is incomplete or not a Loupe export")
    return f
