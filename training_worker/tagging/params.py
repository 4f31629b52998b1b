"""Parameters of a ``tag`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_tagging import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_K,
    ScopeError,
    Vocabulary,
    VocabularyError,
    VocabularyStore,
    make_vocabulary,
    resolve_scope,
)
from loupe_tagging.scope import named_vocabulary
from loupe_tagging.scoring import MAX_TOP_K
from training_worker.jobs.common_params import check_model, model_param
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, ParamError, param

INLINE_NAME = "inline"


def vocabulary_param(value: Any) -> str | dict[str, Any] | None:
    """A stored list's key as it is; an inline list (or ``{"name"?, "labels"}``) checked and
    stored as ``{"name", "labels"}``, so that the job does not depend on a file."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        name, labels = INLINE_NAME, value
    elif isinstance(value, Mapping):
        name, labels = value.get("name") or INLINE_NAME, value.get("labels")
        if not isinstance(name, str) or not isinstance(labels, list):
            raise ParamError('an inline vocabulary is a list of labels or {"name"?, "labels": [...]}', "vocabulary")
    else:
        raise ParamError("vocabulary: a stored list's key, 'default', or a list of labels", "vocabulary")
    try:
        vocabulary = make_vocabulary(name, labels)
    except VocabularyError as e:
        raise ParamError(str(e), "vocabulary") from None
    return {"name": vocabulary.name, "labels": [t.as_json() for t in vocabulary.terms]}


def collection_param(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParamError("collection is required: 'all', a source id or name, a collection URI or key", "collection")
    return value.strip()


@dataclass(frozen=True)
class TagParams(JobParams):
    kind_name: ClassVar[str] = "tag"

    collection: str = param(help="'all', a source id or name, a IIIF Collection URI or key",
                            parse=collection_param, schema={"type": "string"})
    vocabulary: str | dict[str, Any] | None = param(
        None, "a stored list's key or 'default', or inline labels (strings or {label, language?, prompt?}), or "
              "{name?, labels}; default: each collection's curator list, else the built-in list",
        parse=vocabulary_param, schema={"oneOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]})
    threshold: float = param(DEFAULT_THRESHOLD, "keep tags with at least this score (softmax over the vocabulary)",
                             minimum=0.0, maximum=1.0)
    top_k: int = param(DEFAULT_TOP_K, "at most this many tags per image or region", minimum=1, maximum=MAX_TOP_K)
    regions: bool = param(True, "also tag annotated regions")
    model: str | None = model_param()

    def vocabulary_value(self) -> str | Vocabulary | None:
        """As ``tag_collection`` takes it: a name, or the inline vocabulary."""
        if isinstance(self.vocabulary, dict):
            return make_vocabulary(self.vocabulary["name"], self.vocabulary["labels"])
        return self.vocabulary


def check_tag(params: TagParams, settings: Settings, catalog: Catalog) -> None:
    """The model, the collection and a named vocabulary exist."""
    check_model(settings, params.model)
    try:
        resolve_scope(catalog, params.collection)
    except ScopeError as e:
        raise UnknownReference(str(e), field="collection", code="unknown_collection") from None
    if isinstance(params.vocabulary, str):
        try:
            named_vocabulary(VocabularyStore(catalog.engine), params.vocabulary)
        except ScopeError as e:
            raise UnknownReference(str(e), field="vocabulary", code="unknown_vocabulary") from None
