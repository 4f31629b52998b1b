"""Tagging runs on the indexed demo collection (``indexed_demo`` in tests/conftest.py) with the
tiny random model (loupe-tiny); the model and the label embeddings are shared by the session
(embedding the default vocabulary's ~1000 prompts is the slow part of a first run)."""

from __future__ import annotations

import functools

import pytest

from tests.support.deps import need


@pytest.fixture(scope="session")
def tiny_model(indexed_demo):  # noqa: ANN001, ANN201
    need("open_clip")
    from loupe_models import load_model

    return load_model(indexed_demo.settings)


@pytest.fixture
def tag(tiny_model, label_cache):  # noqa: ANN001, ANN201
    """``tag_collection`` with the shared model and label cache."""
    from loupe_tagging import tag_collection

    return functools.partial(tag_collection, model=tiny_model, cache=label_cache)
