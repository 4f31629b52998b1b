"""Curators' overrides of an item's texts and media, in ``<data_dir>/lens/<guide>/overrides.json``:
``{"items": {"<item>": {"title": map, "text": map, "audio": {lang: url}, ...}}}``. A field
given replaces the guide's; ``null`` removes the override of that field. Applied when a
bundle is built."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Mapping

from loupe_guide.errors import GuideError, InvalidOverride
from loupe_guide.model import Guide
from loupe_guide.paths import ITEM_ID, guide_dir, write_json_atomic

OVERRIDES_FILE = "overrides.json"
TEXT_FIELDS = ("title", "artist", "text")
MEDIA_FIELDS = ("audio", "video")
OVERRIDE_FIELDS = (*TEXT_FIELDS, *MEDIA_FIELDS, "links")
LANGUAGE = re.compile(r"^(none|[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*)$")
MAX_TEXT = 20_000
MAX_ENTRIES = 50
_lock = threading.Lock()


def read_overrides(data_dir: Path, guide: str) -> dict[str, dict[str, Any]]:
    """item id -> its overridden fields."""
    path = guide_dir(data_dir, guide) / OVERRIDES_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise GuideError(f"{path} is not JSON ({e})") from None
    items = data.get("items") if isinstance(data, dict) else None
    return items if isinstance(items, dict) else {}


def set_override(data_dir: Path, guide: str, item: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Store `fields` for `item` (validated; None removes a field's override). Returns the
    item's overrides now."""
    if not isinstance(item, str) or not ITEM_ID.fullmatch(item):
        raise InvalidOverride(f"item id {item!r} is not one of a guide's ids", field="item")
    clean = validate(fields)
    with _lock:
        items = read_overrides(data_dir, guide)
        current = {**items.get(item, {}), **clean}
        current = {k: v for k, v in current.items() if v is not None}
        if current:
            items[item] = current
        else:
            items.pop(item, None)
        write_json_atomic(guide_dir(data_dir, guide) / OVERRIDES_FILE, {"items": items})
    return current


def validate(fields: Any) -> dict[str, Any]:
    if not isinstance(fields, Mapping) or not fields:
        raise InvalidOverride(f"send a JSON object with one or more of {', '.join(OVERRIDE_FIELDS)}")
    unknown = sorted(set(fields) - set(OVERRIDE_FIELDS))
    if unknown:
        raise InvalidOverride(f"unknown field(s) {', '.join(map(str, unknown))}; known: {', '.join(OVERRIDE_FIELDS)}",
                              field=str(unknown[0]))
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            out[name] = None
        elif name in TEXT_FIELDS:
            out[name] = _language_map(name, value)
        elif name in MEDIA_FIELDS:
            out[name] = _media(name, value)
        else:
            out[name] = _links(value)
    return out


def _languages(name: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping) or len(value) > MAX_ENTRIES:
        raise InvalidOverride(f"{name}: a map from language to {'URL' if name in MEDIA_FIELDS else 'texts'}, "
                              f'e.g. {{"en": ...}}', field=name)
    for lang in value:
        if not LANGUAGE.match(str(lang)):
            raise InvalidOverride(f"{name}: {lang!r} is not a language tag (BCP 47, or 'none')", field=name)
    return value


def _language_map(name: str, value: Any) -> dict[str, list[str]]:
    out = {}
    for lang, texts in _languages(name, value).items():
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not all(isinstance(t, str) and len(t) <= MAX_TEXT for t in texts) \
                or len(texts) > MAX_ENTRIES:
            raise InvalidOverride(f"{name}.{lang}: a list of texts (each at most {MAX_TEXT} characters)", field=name)
        out[lang] = [t for t in texts if t.strip()]
    return out


def _url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value) or len(value) > 2048:
        raise InvalidOverride(f"{name}: {str(value)[:80]!r} is not an http(s) URL", field=name)
    return value


def _media(name: str, value: Any) -> dict[str, str]:
    return {lang: _url(f"{name}.{lang}", url) for lang, url in _languages(name, value).items()}


def _links(value: Any) -> list[dict]:
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise InvalidOverride('links: a list of {"label": {lang: [text]}, "href": URL}', field="links")
    out = []
    for link in value:
        if not isinstance(link, Mapping):
            raise InvalidOverride('links: each link is {"label": ..., "href": URL}', field="links")
        out.append({"label": _language_map("links.label", link.get("label") or {}),
                    "href": _url("links.href", link.get("href"))})
    return out


def apply_overrides(guide: Guide, overrides: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Apply `overrides` to the guide's items in place; returns the ids overridden that the
    guide does not have (reported, not fatal: the artwork may come back)."""
    missing = []
    for item_id, fields in overrides.items():
        item = guide.item(item_id)
        if item is None:
            missing.append(item_id)
            continue
        for name, value in fields.items():
            if name in OVERRIDE_FIELDS and value is not None:
                setattr(item, name, value)
    return missing
