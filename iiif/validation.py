"""Validate Presentation 3 JSON against the IIIF presentation validator's JSON Schema.

The schema (``schema/iiif_3_0.json`` of https://github.com/IIIF/presentation-validator) is
not bundled: that repository declares no licence, so it may not be redistributed. Pass its
path, or set ``LOUPE_IIIF3_SCHEMA``. ``jsonschema`` is imported only when validating.

Known places where the schema is stricter than the specifications (seen with our writers):

- AnnotationPage has ``additionalProperties: false``, so Content Search 2.0 responses fail on
  their own properties (``startIndex``, ``ignored``, ``annotations``) and on ``partOf`` being
  an embedded object (Search 2.0) rather than an array (Presentation 3).
- AnnotationCollection ``total`` must be > 0, although an empty result set has total 0.
- Annotation ``id`` is required, although Content State 1.0 lets an inline (encoded)
  content-state annotation omit it.
- The ``uri`` format is only checked when jsonschema's optional URI checker is installed.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_ENV = "LOUPE_IIIF3_SCHEMA"
# The schema's definitions for each top-level type (its root accepts any of them, which
# gives one unhelpful error; validating against the matching class gives precise ones).
_CLASS_FOR_TYPE = {
    "Manifest": "manifest",
    "Collection": "collection",
    "AnnotationCollection": "annotationCollection",
    "AnnotationPage": "annotationPage",
    "Annotation": "annotation",
}


def validate_v3(doc: dict, schema_path: str | os.PathLike | None = None) -> list[str]:
    """Problems found in ``doc`` as ``"path: message"`` strings; empty when it validates.

    ``schema_path`` defaults to the ``LOUPE_IIIF3_SCHEMA`` environment variable.
    """
    from jsonschema import Draft7Validator

    schema = _schema_for(doc, _load_schema(_resolve(schema_path)))
    validator = Draft7Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(f"{_path(list(error.absolute_path))}: {_describe(error)}")
    return problems


def _resolve(schema_path: str | os.PathLike | None) -> str:
    path = schema_path or os.environ.get(SCHEMA_ENV)
    if not path:
        raise ValueError(f"no IIIF 3 schema given: pass schema_path or set {SCHEMA_ENV} to "
                         "presentation-validator/schema/iiif_3_0.json")
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise FileNotFoundError(f"IIIF 3 schema not found at {resolved}")
    return str(resolved)


@lru_cache(maxsize=4)
def _load_schema(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _schema_for(doc: dict, schema: dict) -> dict:
    """The schema narrowed to the class matching ``doc["type"]`` (whole schema otherwise)."""
    name = _CLASS_FOR_TYPE.get(doc.get("type") if isinstance(doc, dict) else None)
    if not name or name not in schema.get("classes", {}):
        return schema
    narrowed = {k: v for k, v in schema.items() if k not in ("oneOf", "title")}
    narrowed["allOf"] = [{"$ref": f"#/classes/{name}"}]
    return narrowed


def _describe(error: Any) -> str:  # a jsonschema ValidationError
    """The error's message; for oneOf/anyOf, the reasons each alternative failed (leaving
    out bare type mismatches, which only say that another alternative was meant)."""
    if not error.context:
        return _shorten(error.message)
    reasons: list[str] = []
    stack = list(error.context)
    while stack:
        sub = stack.pop(0)
        if sub.context:
            stack.extend(sub.context)
        elif sub.validator != "type":
            where = _path(list(sub.absolute_path))
            reason = f"{where}: {sub.message}"
            if reason not in reasons:
                reasons.append(reason)
    if not reasons:
        return _shorten(error.message)
    return _shorten("no allowed form matches (" + "; ".join(reasons[:3]) + ")")


def _path(parts: list) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
