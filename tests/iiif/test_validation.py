"""Validation against the presentation validator's v3 JSON Schema (read from shared data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iiif.validation import SCHEMA_ENV, validate_v3

FIXTURES = ("iiif", "IIIF-presentation-validator", "fixtures", "3")


@pytest.fixture(scope="module")
def schema(shared_data: Path) -> Path:
    path = shared_data / "iiif" / "IIIF-presentation-validator" / "schema" / "iiif_3_0.json"
    if not path.is_file():
        pytest.skip(f"IIIF v3 schema not found at {path}")
    return path


def fixture(shared_data: Path, name: str) -> dict:
    return json.loads(shared_data.joinpath(*FIXTURES, name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["annoPage.json", "full_example.json", "content_state.json",
                                  "point_selector.json", "extension_anno.json"])
def test_valid_fixtures_pass(shared_data, schema, name):
    assert validate_v3(fixture(shared_data, name), schema) == []


@pytest.mark.parametrize("name, expected", [
    ("broken_collection.json", "$: 'label' is a required property"),
    ("broken_choice.json", "$.items[0]: 'height' is a dependency of 'width'"),
])
def test_broken_fixtures_are_reported_with_their_path(shared_data, schema, name, expected):
    assert expected in validate_v3(fixture(shared_data, name), schema)


def test_alternatives_are_explained(schema):
    page = {"id": "https://e.org/p", "type": "AnnotationPage",
            "items": [{"id": "https://e.org/a", "type": "Annotation", "target": {"type": "SpecificResource"}}]}
    (problem,) = validate_v3(page, schema)
    assert problem.startswith("$.items[0].target: no allowed form matches")
    assert "'source' is a required property" in problem


def test_schema_path_from_the_environment(schema, monkeypatch):
    monkeypatch.setenv(SCHEMA_ENV, str(schema))
    assert validate_v3({"id": "https://e.org/p", "type": "AnnotationPage", "items": []}) == []


def test_missing_schema_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv(SCHEMA_ENV, raising=False)
    with pytest.raises(ValueError, match=SCHEMA_ENV):
        validate_v3({"type": "AnnotationPage"})
    with pytest.raises(FileNotFoundError):
        validate_v3({"type": "AnnotationPage"}, tmp_path / "nope.json")
