"""IIIF Content State 1.0: encoding, region states and viewer links."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from iiif.model import Box
from iiif.validation import validate_v3
from iiif.writers.content_state import (
    content_state_for_region,
    content_state_link,
    decode_content_state,
    encode_content_state,
)

MANIFEST = "https://example.org/object1/manifest"
CANVAS = "https://example.org/object1/canvas7"

# Section 6.3 of the specification: this condensed state and its encoding.
SPEC_STATE = ('{"id":"https://example.org/object1/canvas7#xywh=1000,2000,1000,2000","type":"Canvas",'
              '"partOf":[{"id":"https://example.org/object1/manifest","type":"Manifest"}]}')
SPEC_ENCODED = (
    "JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmV4YW1wbGUub3JnJTJGb2JqZWN0MSUyRmNhbnZhczclMjN4eXdo"
    "JTNEMTAwMCUyQzIwMDAlMkMxMDAwJTJDMjAwMCUyMiUyQyUyMnR5cGUlMjIlM0ElMjJDYW52YXMlMjIlMkMlMjJwYXJ0"
    "T2YlMjIlM0ElNUIlN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJGZXhhbXBsZS5vcmclMkZvYmplY3QxJTJGbWFu"
    "aWZlc3QlMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q")


def test_spec_example_encodes_and_decodes():
    assert encode_content_state(SPEC_STATE) == SPEC_ENCODED
    assert encode_content_state(json.loads(SPEC_STATE)) == SPEC_ENCODED  # compact JSON, same order
    assert decode_content_state(SPEC_ENCODED) == json.loads(SPEC_STATE)


@pytest.mark.parametrize("state", [
    {"id": "https://example.org/m", "type": "Manifest"},
    {"label": {"it": ["Madonna col Bambino, è già qui"], "ja": ["聖母子"], "none": ["🖼️ 🔍"]}},
    {"value": "quotes \" and \\ backslashes, <html> & ampersands, 100% sure!", "n": [1, 2.5, None, True]},
    {"target": "https://example.org/c?x=1&y=2#xywh=1,2,3,4", "odd": "!*'()~-_."},
])
def test_round_trip(state):
    encoded = encode_content_state(state)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encoded)  # base64url, no padding
    assert decode_content_state(encoded) == state


def test_non_json_text_round_trips_as_text():
    assert decode_content_state(encode_content_state("not json: ünïcode")) == "not json: ünïcode"
    assert decode_content_state(encode_content_state("[1, 2]")) == "[1, 2]"  # only objects are states


def test_first_step_is_exactly_encodeURIComponent():
    encoded = encode_content_state("a b/é!*'()~-_.")
    inner = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    # encodeURIComponent("a b/é!*'()~-_.") in a browser:
    assert inner == "a%20b%2F%C3%A9!*'()~-_."


def test_plain_uris_are_not_decoded():
    assert decode_content_state("https://example.org/object1/manifest") == "https://example.org/object1/manifest"


@pytest.mark.parametrize("garbage", ["abcde", "%%%%", "4pyT4p"])
def test_undecodable_input_is_refused(garbage):
    with pytest.raises(ValueError):
        decode_content_state(garbage)


def test_region_state_structure():
    state = content_state_for_region(MANIFEST, CANVAS, Box(1000.2, 2000, 999.6, 2000))
    assert state == {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": {"id": f"{CANVAS}#xywh=1000,2000,1000,2000", "type": "Canvas",
                   "partOf": [{"id": MANIFEST, "type": "Manifest"}]},
    }
    whole = content_state_for_region(MANIFEST, CANVAS + "#xywh=1,1,1,1", annotation_id="https://l.org/s/1",
                                     with_context=False)
    assert whole["id"] == "https://l.org/s/1" and "@context" not in whole
    assert whole["target"]["id"] == CANVAS


def test_region_state_against_the_v3_schema(v3_schema):
    published = content_state_for_region(MANIFEST, CANVAS, Box(1, 2, 3, 4), annotation_id="https://l.org/s/1")
    assert validate_v3(published, v3_schema) == []
    # Inline states may omit the id (Content State 1.0, 6.2); the Presentation schema wants one.
    assert validate_v3(content_state_for_region(MANIFEST, CANVAS, Box(1, 2, 3, 4)), v3_schema) == [
        "$: 'id' is a required property"]


def test_link_carries_an_encoded_state():
    state = content_state_for_region(MANIFEST, CANVAS, Box(10, 20, 30, 40))
    link = content_state_link("https://viewer.example.org/mirador/?theme=dark#top", state)
    parts = urlsplit(link)
    assert (parts.netloc, parts.path, parts.fragment) == ("viewer.example.org", "/mirador/", "top")
    query = parse_qs(parts.query)
    assert query["theme"] == ["dark"]
    assert decode_content_state(query["iiif-content"][0]) == state


def test_link_replaces_an_existing_state_and_keeps_plain_uris_plain():
    link = content_state_link("https://v.example.org/?iiif-content=old&x", MANIFEST + "?a=1")
    assert link == "https://v.example.org/?x&iiif-content=https%3A%2F%2Fexample.org%2Fobject1%2Fmanifest%3Fa%3D1"
    assert unquote(link.split("iiif-content=")[1]) == MANIFEST + "?a=1"
