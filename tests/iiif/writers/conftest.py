"""Fixtures for the writer tests: the v3 JSON Schema and the spec examples in ../shared/data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def v3_schema(shared_data: Path) -> Path:
    """The presentation validator's schema (read from shared data: it may not be bundled)."""
    path = shared_data / "iiif" / "IIIF-presentation-validator" / "schema" / "iiif_3_0.json"
    if not path.is_file():
        pytest.skip(f"IIIF v3 schema not found at {path}")
    return path


@pytest.fixture(scope="session")
def search_example(shared_data: Path):
    """Load ``IIIF-api/source/search/{version}.0/extracted/example-NN.json`` as JSON.

    The examples are cut from the spec's markdown: they contain ``// ...`` comments, trailing
    commas and Jekyll placeholders for the major version, which are removed here."""

    def load(version: int, number: int) -> dict:
        path = (shared_data / "iiif" / "IIIF-api" / "source" / "search" / f"{version}.0"
                / "extracted" / f"example-{number:02d}.json")
        if not path.is_file():
            pytest.skip(f"spec example {path} is absent")
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{\{\s*page\.major\s*\}\}", str(version), text)
        text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
        text = re.sub(r",(\s*[}\]])", r"\1", text)
        return json.loads(text)

    return load
