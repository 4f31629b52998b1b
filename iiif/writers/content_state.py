"""IIIF Content State API 1.0: links that open a viewer on a region of a canvas.

*content-state-encoding* (spec section 6.1) is ``encodeURIComponent`` of the JSON text, then
base64url of those (ASCII) bytes, with the ``=`` padding removed. The first step is what lets
browsers' ``btoa`` handle any Unicode; we reproduce it byte for byte, so a JavaScript viewer
decodes our links and we decode theirs. A content state that is a plain URI is never encoded
(section 6.2): ``decode_content_state`` returns such a string unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from iiif.model import Box

PRESENTATION_3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
CONTENT_STATE_PARAM = "iiif-content"
# Characters encodeURIComponent leaves alone besides letters, digits and "-_.~" (which
# Python's quote never encodes).
_URI_COMPONENT_SAFE = "!*'()"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def encode_content_state(state: dict | str) -> str:
    """Content-state-encode a content state (a dict, or its JSON text)."""
    text = state if isinstance(state, str) else json.dumps(state, ensure_ascii=False,
                                                           separators=(",", ":"))
    uri_encoded = quote(text, safe=_URI_COMPONENT_SAFE)  # UTF-8, like encodeURIComponent
    return base64.urlsafe_b64encode(uri_encoded.encode("ascii")).decode("ascii").rstrip("=")


def decode_content_state(encoded: str) -> dict | str:
    """Decode a content state: the JSON object it carries, else its text.

    A plain URI (``http...``) is returned as given, since plain URIs are never encoded.
    Raises ValueError when ``encoded`` is not content-state-encoded.
    """
    encoded = encoded.strip()
    if "://" in encoded:
        return encoded
    if not _BASE64URL.fullmatch(encoded) or len(encoded) % 4 == 1:
        raise ValueError("not content-state-encoded: not unpadded base64url")
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        text = unquote(raw, errors="strict")
    except (binascii.Error, UnicodeError) as error:
        raise ValueError(f"not content-state-encoded: {error}") from error
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


def content_state_for_region(manifest_id: str, canvas_id: str, box: Box | None = None, *,
                             annotation_id: str | None = None, with_context: bool = True) -> dict:
    """A content-state Annotation (motivation ``contentState``) pointing at ``box`` of a
    canvas (the whole canvas when None) within its manifest.

    ``annotation_id`` may be left out for inline (encoded) use, as the spec allows;
    a content state published at a URL should have one.
    """
    target_id = canvas_id.split("#", 1)[0]
    if box is not None:
        target_id += f"#xywh={box.as_xywh()}"
    state: dict = {}
    if with_context:
        state["@context"] = PRESENTATION_3_CONTEXT
    if annotation_id:
        state["id"] = annotation_id
    state.update({
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": {"id": target_id, "type": "Canvas",
                   "partOf": [{"id": manifest_id, "type": "Manifest"}]},
    })
    return state


def content_state_link(viewer_url: str, state: dict | str) -> str:
    """``viewer_url`` with ``?iiif-content=`` carrying ``state``: encoded when it is JSON,
    as given (percent-escaped) when it is a plain URI. Other query parameters and the
    fragment of ``viewer_url`` are kept; an existing ``iiif-content`` is replaced."""
    if isinstance(state, str) and state.lstrip().startswith("http"):
        value = state.strip()
    else:
        value = encode_content_state(state)
    parts = urlsplit(viewer_url)
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] != CONTENT_STATE_PARAM]
    kept.append(f"{CONTENT_STATE_PARAM}={quote(value, safe='')}")
    return urlunsplit(parts._replace(query="&".join(kept)))
