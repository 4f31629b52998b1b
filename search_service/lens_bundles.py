"""The lens's guides as the search service reads them: ``<data_dir>/lens/<guide>/`` with its
``current.json`` and bundle versions (lens/BUNDLE.md). A guide is known once its
current.json exists; bundle.json is read once per change of the file."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from loupe_guide.paths import CURRENT_FILE, GUIDE_ID
from loupe_guide.paths import lens_dir as guides_dir

from .errors import not_found
from .services import get_services

log = logging.getLogger(__name__)

_lock = threading.Lock()
_bundles: dict[Path, tuple[float, dict]] = {}


def lens_dir() -> Path:
    return guides_dir(get_services().settings.data_dir)


def current_version(guide: str) -> int | None:
    """The guide's current bundle version; None when the guide is unknown (or its
    current.json unreadable, which is logged)."""
    if not GUIDE_ID.fullmatch(guide):
        return None
    path = lens_dir() / guide / CURRENT_FILE
    try:
        version = json.loads(path.read_text(encoding="utf-8")).get("version")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as e:
        log.warning("lens guide %s: unreadable %s: %s", guide, path, e)
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else None


def known_guide(guide: str) -> int:
    version = current_version(guide)
    if version is None:
        raise not_found(f"no lens guide {guide[:80]!r}: build one with `loupe lens build GUIDE`",
                        code="unknown_guide")
    return version


def guide_bundle(guide: str, version: int) -> dict | None:
    """The version's bundle.json (read once per change of the file); None if unreadable."""
    path = lens_dir() / guide / f"v{version}" / "bundle.json"
    try:
        mtime = path.stat().st_mtime
        with _lock:
            cached = _bundles.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("lens guide %s: unreadable %s: %s", guide, path, e)
        return None
    if not isinstance(bundle, dict):
        return None
    with _lock:
        _bundles[path] = (mtime, bundle)
    return bundle


def pick_text(language_map: Any, languages: list[str] | None = None) -> str:
    """One string of a IIIF language map: the first of ``languages`` present, else 'none', else any."""
    if not isinstance(language_map, dict) or not language_map:
        return ""
    for key in [*(languages or []), "en", "none", *language_map]:
        values = language_map.get(key)
        if isinstance(values, list) and values:
            return str(values[0])
        if isinstance(values, str):
            return values
    return ""


def item_labels(bundle: dict | None) -> dict[str, dict]:
    """Item id -> {"label", "kind"} from a bundle (details: "Artwork · detail")."""
    if not bundle:
        return {}
    languages = bundle.get("languages") or []
    items = [i for i in bundle.get("items") or [] if isinstance(i, dict) and isinstance(i.get("id"), str)]
    titles = {i["id"]: pick_text(i.get("title"), languages) or i["id"] for i in items}
    out = {}
    for item in items:
        label = titles[item["id"]]
        if item.get("kind") == "detail" and item.get("parent") in titles:
            label = f"{titles[item['parent']]} · {label}"
        out[item["id"]] = {"label": label, "kind": item.get("kind") or "artwork"}
    return out


def guides() -> list[dict]:
    """Every known guide: id, version, title, languages, items."""
    root = lens_dir()
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        version = current_version(folder.name) if folder.is_dir() else None
        if version is None:
            continue
        bundle = guide_bundle(folder.name, version) or {}
        found.append({"id": folder.name, "version": version,
                      "title": pick_text(bundle.get("label"), bundle.get("languages")) or folder.name,
                      "languages": bundle.get("languages") or [], "items": len(bundle.get("items") or [])})
    return found


# For the OpenAPI descriptions of the lens's endpoints.
GUIDE_PARAMETER = {"name": "guide", "in": "path", "required": True, "example": "default",
          "schema": {"type": "string", "pattern": f"^{GUIDE_ID.pattern}$"}}
UNKNOWN_GUIDE_RESPONSE = {"description": "No such guide (no current.json).", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"},
    "example": {"error": {"code": "unknown_guide", "message": "no lens guide 'x'"}}}}}
