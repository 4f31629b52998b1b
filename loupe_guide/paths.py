"""Guide ids and where a guide's files live: ``<data_dir>/lens/<guide>/`` (``lens/BUNDLE.md``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from loupe_guide.errors import GuideError

DEFAULT_GUIDE = "default"
GUIDE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
ITEM_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,200}")
CURRENT_FILE = "current.json"


def check_guide_id(guide: str) -> str:
    if not isinstance(guide, str) or not GUIDE_ID.fullmatch(guide):
        raise GuideError(f"guide id {guide!r}: use a short slug (a-z, 0-9 and '-', at most 63 characters)")
    return guide


def lens_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "lens"


def guide_dir(data_dir: Path, guide: str) -> Path:
    return lens_dir(data_dir) / check_guide_id(guide)


def current_version(data_dir: Path, guide: str) -> int | None:
    """The version ``current.json`` names, None before the first bundle."""
    path = guide_dir(data_dir, guide) / CURRENT_FILE
    try:
        return int(json.loads(path.read_text())["version"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as e:
        raise GuideError(f"{path} is not readable ({e})") from None


def write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    part.replace(path)
