"""End to end through the reader: every OWASP payload in every text a manifest carries
(labels, summaries, metadata, requiredStatement, provider, canvas and annotation labels,
annotation bodies of Presentation 2 and 3, tags, bodyValue) and in SVG selectors comes out
as safe IIIF HTML or plain text; ``javascript:`` rights and body links are dropped; each
removal is recorded as a problem."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterator

import pytest

from iiif.model import Manifest
from iiif.reader import read_bytes
from tests.support.xss import (
    PAYLOADS,
    SVG_PAYLOADS,
    assert_safe_svg,
    assert_safe_value,
    hostile_annotation_list_v2,
    hostile_manifest_v2,
    hostile_manifest_v3,
)

TEXT_KEYS = {"label", "summary", "value", "creator"}
# Payloads that are harmless under HTML5 parsing: nothing to remove.
HARMLESS = {"\\\";alert('XSS');//", "<A HREF=\"http://www.google.com/ogle.com/\">XSS</A>"}


def walk(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, string) for every string in a model object, with the nearest field name."""
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name), f.name)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, key if key in TEXT_KEYS else str(k))
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from walk(v, key)
    elif isinstance(value, str):
        yield key, value


def assert_model_is_safe(resource: Any, where: str) -> int:
    """Every text is safe HTML or harmless text, every SVG only geometry; the number of texts."""
    texts = 0
    for key, text in walk(resource):
        if key in TEXT_KEYS:
            assert_safe_value(text, f"{where} {key}")
            texts += 1
        elif key == "svg":
            assert_safe_svg(text, where)
        elif key in ("rights", "id", "source"):
            assert not text.lower().replace("\t", "").startswith(("javascript", "jav&#x09;", "data:", "vbscript")), text
    return texts


def read(doc: dict):
    return read_bytes(json.dumps(doc).encode(), url=doc.get("id") or doc.get("@id"))


@pytest.mark.parametrize("number, payload", list(enumerate(PAYLOADS)))
def test_v3_manifest_carries_no_unsafe_markup(number: int, payload: str) -> None:
    svg = SVG_PAYLOADS[number % len(SVG_PAYLOADS)]
    result = read(hostile_manifest_v3(payload, svg))
    manifest = result.resource
    assert isinstance(manifest, Manifest)
    assert assert_model_is_safe(manifest, payload) > 0
    assert manifest.rights is None
    assert any("rights" in p.where and "javascript" in p.what and "dropped" in p.what for p in result.problems)
    notes = manifest.canvases[0].annotations
    assert notes[0].targets[0].polygon  # the outline survived its sanitising
    assert all(b.id != "javascript:alert(1)" for a in notes for b in a.bodies)
    assert any("SVG selector: removed" in p.what for p in result.problems)
    if payload not in HARMLESS:
        assert any("markup removed" in p.what for p in result.problems), payload


@pytest.mark.parametrize("number, payload", list(enumerate(PAYLOADS)))
def test_v2_manifest_and_annotation_list_carry_no_unsafe_markup(number: int, payload: str) -> None:
    result = read(hostile_manifest_v2(payload))
    assert isinstance(result.resource, Manifest) and result.resource.rights is None
    assert_model_is_safe(result.resource, payload)
    assert any("license" in p.where and "dropped" in p.what for p in result.problems)
    page = read(hostile_annotation_list_v2(payload, SVG_PAYLOADS[number % len(SVG_PAYLOADS)]))
    assert_model_is_safe(page.resource, payload)
    assert page.resource.annotations[0].targets[0].polygon


def test_clean_values_pass_through_untouched() -> None:
    """The same manifest with honest texts: nothing changed, no markup warning."""
    doc = hostile_manifest_v3("Portrait <i>of</i> a lady", "<svg xmlns='http://www.w3.org/2000/svg'>"
                      "<path d='M10,10 L90,10 L90,60 Z'/></svg>")
    doc["rights"] = "http://creativecommons.org/publicdomain/mark/1.0/"
    doc["summary"] = {"en": ["<p>Oil on panel, <b>1510</b>; see <a href=\"https://example.org/x\">x</a></p>"]}
    result = read(doc)
    m = result.resource
    assert m.label == {"en": ["Portrait <i>of</i> a lady", "Title Portrait <i>of</i> a lady"]}
    assert m.summary == {"en": ['<p>Oil on panel, <b>1510</b>; see <a href="https://example.org/x">x</a></p>']}
    assert m.rights == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert not any("markup" in p.what or "SVG selector" in p.what for p in result.problems), result.problems


@pytest.mark.parametrize("rights, severity", [
    ("javascript:alert(1)", "error"), (" JavaScript:alert(1)", "error"), ("java\tscript:alert(1)", "error"),
    ("data:text/html,<script>alert(1)</script>", "error"), ("vbscript:msgbox(1)", "error"),
    ("<img src=x onerror=alert(1)>", "warning"), ("All rights reserved", "warning"),
    ("https://example.org/<script>", "warning"), ("urn:x-rights:1", "warning"),
])
def test_rights_that_are_not_clean_http_uris_are_dropped_with_a_problem(rights: str, severity: str) -> None:
    """A script URL is an error (the manifest shows in ``loupe catalog problems``)."""
    doc = hostile_manifest_v3("x", SVG_PAYLOADS[0])
    doc["rights"] = rights
    result = read(doc)
    assert result.resource.rights is None
    assert [p.severity for p in result.problems if p.where.endswith("rights")] == [severity]
