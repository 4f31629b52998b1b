"""Opaque pagination cursors: an offset plus a fingerprint of the query it belongs to, so a
cursor sent with another query (text, filters, model, grouping) is refused clearly instead
of returning a page of something else.

Cursors are not signed (anyone can decode one and write another): what they say is checked
instead. The offset must be one paging can reach (below ``MAX_OFFSET``, the deepest hit
paging reaches: ``vector_index.MAX_DEPTH`` is this), so a
forged cursor with a huge offset is refused rather than answered with an empty page."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

import numpy as np

from .errors import CursorError

CURSOR_VERSION = 1
MAX_OFFSET = 5_000


def query_fingerprint(vector: np.ndarray, vector_name: str, filters_key: str, one_per_canvas: bool) -> str:
    """A short hash of what decides the result order. The vector is normalised and rounded
    to float16, so re-encoding the same text or image gives the same fingerprint."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    rounded = (v / norm if norm else v).astype("<f2").tobytes()
    h = hashlib.sha256(rounded)
    h.update(json.dumps([vector_name, filters_key, bool(one_per_canvas)]).encode())
    return h.hexdigest()[:20]


def text_fingerprint(text: str, vector_name: str | None, filters_key: str, one_per_canvas: bool) -> str:
    """The fingerprint of a hybrid text search (its words, and the vector fused with them)."""
    h = hashlib.sha256(json.dumps(["hybrid", text, vector_name, filters_key, bool(one_per_canvas)]).encode())
    return h.hexdigest()[:20]


def encode_cursor(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "o": int(offset), "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> int:
    """The offset in ``cursor``; ``CursorError`` when it is malformed or for another query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        offset, fp, version = data["o"], data["q"], data["v"]  # TypeError when not an object
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise CursorError("the cursor is not one this service gave out; start again without a cursor") from None
    if version != CURSOR_VERSION or isinstance(offset, bool) or not isinstance(offset, int) or offset < 1 \
            or not isinstance(fp, str):
        raise CursorError("the cursor is not one this service gave out; start again without a cursor")
    if offset >= MAX_OFFSET:
        raise CursorError(f"the cursor points past the deepest page a search reaches ({MAX_OFFSET:,} results); "
                          "start again without a cursor, or narrow the search with filters")
    if fp != fingerprint:
        raise CursorError("the cursor belongs to a different query (its text or image, filters, model or "
                          "one-per-canvas option changed); start again without a cursor")
    return offset
