"""The search engine: every kind of query becomes one vector, searched in the active vector.

- text: the text encoded by the model that made the active vector;
- image: an uploaded image, or a region of the collection (``references``), encoded likewise;
- composed: a reference or uploaded image plus a modification text, combined by a trained
  Combiner when one is registered for the vector, else by the zero-shot baseline
  (``combiner.zero_shot_compose``: normalise((1 - w) * image + w * text), w = text_weight);
- similar: the stored vector of a result (its point id).

The API, the command line (`loupe search`) and the web page call the same methods. Results
are ``SearchOutcome``s; ``results.results_json`` turns their hits into result objects.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image as PILImage

from loupe_index import SearchHit, VectorIndexError
from loupe_index.cursor import decode_cursor, encode_cursor, text_fingerprint
from loupe_index.hybrid import fuse, text_ranking, text_weights
from loupe_index.vector_index import MAX_LIMIT
from loupe_models import ModelError, get_spec
from search_service.query_model import registry_model_for

from .combiner import BASELINE, DEFAULT_TEXT_WEIGHT, zero_shot_compose
from .params import SearchQuery
from .references import Reference, resolve_reference
from .request_errors import InvalidRequest, NotInCatalog

if TYPE_CHECKING:  # pragma: no cover
    from .services import Services

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1_000
TEXT_DEPTH = 200  # documents of each kind the text ranker scores
VECTOR_DEPTH = 200  # vector hits fused with them (more for pages beyond)


@dataclass
class SearchOutcome:
    hits: list[SearchHit]
    next_cursor: str | None
    vector: str
    model: str
    query: dict[str, Any]  # what was searched, for the response
    timings_ms: dict[str, float] = field(default_factory=dict)
    rankers: list[str] = field(default_factory=lambda: ["vector"])  # "text" (catalog words), "vector" (the model of `vector`)


class SearchEngine:
    def __init__(self, services: "Services") -> None:
        self.services = services

    # --- queries ------------------------------------------------------------------------
    def text(self, text: str, query: SearchQuery) -> SearchOutcome:
        """Hybrid: the catalog's words (``loupe_index.hybrid``) fused with CLIP's ranking by
        reciprocal rank; CLIP alone when no text matches (its own scores and order), the words
        alone when there is no CLIP to ask (nothing indexed, no weights, or an image-only
        model). ``rankers`` in the outcome says which ranked the results."""
        text = check_text(text, "q")
        described = {"type": "text", "text": text}
        start = time.perf_counter()
        try:
            vector_name: str | None = self.services.active_vector()
        except VectorIndexError:
            vector_name = None
        words = text_ranking(self.services.catalog, text, query.filters, vector_name or "", TEXT_DEPTH)
        text_ms = _ms(start)
        model, why = self._text_model(vector_name)
        if model is None and not words and why is not None:
            raise why  # neither ranker can answer: say why CLIP cannot
        if model is not None and not words:
            start = time.perf_counter()
            vector = model.encode_texts([text])[0]
            outcome = self._search(vector, vector_name, model.name, query, described, encode_ms=_ms(start))
            outcome.timings_ms["text_ms"] = round(text_ms, 2)
            outcome.rankers = ["vector"]
            return outcome
        fingerprint = text_fingerprint(text, vector_name, query.filters.key(), query.one_per_canvas)
        offset = decode_cursor(query.cursor, fingerprint) if query.cursor else 0
        rankings = [words]
        timings = {"text_ms": round(text_ms, 2)}
        rankers = ["text"]
        if model is not None:
            start = time.perf_counter()
            vector = model.encode_texts([text])[0]
            timings["encode_ms"] = round(_ms(start), 2)
            start = time.perf_counter()
            depth = min(MAX_LIMIT, max(VECTOR_DEPTH, offset + query.limit))  # the same for every page
            page = self.services.index.search(vector, vector_name, limit=depth, filters=query.filters,
                                              one_per_canvas=query.one_per_canvas)
            timings["search_ms"] = round(_ms(start), 2)
            rankings.append(page.hits)
            rankers.append("vector")
        fused = fuse(rankings, [text_weights(words), None][:len(rankings)], one_per_canvas=query.one_per_canvas)
        hits = fused[offset:offset + query.limit]
        more = offset + query.limit < len(fused) and offset + query.limit < MAX_LIMIT
        label = model.name if model is not None else (_model_label(vector_name) if vector_name else "")
        return SearchOutcome(hits, encode_cursor(offset + query.limit, fingerprint) if more else None,
                             vector_name or "", label, {**described, **query.describe()}, timings, rankers)

    def image(self, image: PILImage.Image, query: SearchQuery, *, described: dict[str, Any] | None = None) -> SearchOutcome:
        vector_name, model = self._model()
        start = time.perf_counter()
        vector = model.encode_images([image])[0]
        return self._search(vector, vector_name, model.name, query, described or {"type": "image", "image": "upload"},
                            encode_ms=_ms(start))

    def reference(self, reference: Reference, query: SearchQuery) -> SearchOutcome:
        resolved = resolve_reference(reference, self.services.catalog, self.services.images)
        return self.image(resolved.image, query, described={"type": "image", "reference": reference.describe()})

    def composed(self, text: str, query: SearchQuery, *, image: PILImage.Image | None = None,
                 reference: Reference | None = None, point_id: str | None = None,
                 text_weight: float = DEFAULT_TEXT_WEIGHT) -> SearchOutcome:
        """Exactly one of ``image``, ``reference`` or ``point_id`` is the starting image."""
        text = check_text(text, "text")
        if sum(x is not None for x in (image, reference, point_id)) != 1:
            raise InvalidRequest("a composed search needs one reference image: an upload, a 'reference' or a 'point_id'",
                              field="reference")
        vector_name, model = self._model()
        start = time.perf_counter()
        described: dict[str, Any] = {"type": "composed", "text": text}
        if point_id is not None:
            image_vector = self._stored_vector(point_id, vector_name)
            described["point_id"] = point_id
        else:
            if reference is not None:
                image = resolve_reference(reference, self.services.catalog, self.services.images).image
                described["reference"] = reference.describe()
            else:
                described["image"] = "upload"
            image_vector = model.encode_images([image])[0]
        text_vector = model.encode_texts([text])[0]
        combiner = self.services.combiners.for_vector(vector_name, self.services.settings)
        if combiner is not None:
            vector = combiner.combine(image_vector, text_vector)
            described["method"] = combiner.name
        else:
            try:
                vector = zero_shot_compose(image_vector, text_vector, text_weight)
            except ValueError as e:
                raise InvalidRequest(str(e), field="text_weight") from None
            described["method"] = BASELINE
            described["text_weight"] = text_weight
        return self._search(vector, vector_name, model.name, query, described, encode_ms=_ms(start))

    def similar(self, point_id: str, query: SearchQuery) -> SearchOutcome:
        vector_name = self.services.active_vector()
        vector = self._stored_vector(point_id, vector_name)
        return self._search(vector, vector_name, _model_label(vector_name), query,
                            {"type": "similar", "point_id": point_id}, encode_ms=0.0)

    # --- internals ----------------------------------------------------------------------
    def _text_model(self, vector_name: str | None):  # noqa: ANN202 - (ClipModel or None, why not)
        """The model that encodes text for the active vector, or None and the reason."""
        if vector_name is None:
            return None, VectorIndexError("the index holds no vectors yet and no catalog text matches: index the "
                                          "catalog (`loupe index`, or POST /api/admin/index)")
        name = registry_model_for(vector_name)
        if name is not None and get_spec(name).kind == "image":
            return None, None  # image-only (efficientnet-lite0): the words alone, and no error
        try:
            model = self.services.query_model(vector_name)
        except ModelError as e:  # no weights here, or a model this server is not configured with
            return None, e
        if not getattr(model, "encodes_text", True):
            return None, None  # image-only (efficientnet-lite0): the words alone, and no error
        return model, None

    def _model(self):  # noqa: ANN202 - (vector name, ClipModel)
        vector_name = self.services.active_vector()
        return vector_name, self.services.query_model(vector_name)

    def _stored_vector(self, point_id: str, vector_name: str) -> np.ndarray:
        try:
            canonical = str(uuid.UUID(point_id))
        except (ValueError, AttributeError, TypeError):
            raise InvalidRequest(f"{point_id!r} is not a result id (the 'id' of a search result)",
                              field="point_id") from None
        vector = self.services.index.vector_of(canonical, vector_name)
        if vector is None:
            raise NotInCatalog(code="unknown_point", message=f"the index holds no result {canonical} for the active model "
                           f"(the index may have changed since)", field="point_id")
        return vector

    def _search(self, vector: np.ndarray, vector_name: str, model_name: str, query: SearchQuery,
                described: dict[str, Any], *, encode_ms: float) -> SearchOutcome:
        start = time.perf_counter()
        page = self.services.index.search(vector, vector_name, limit=query.limit, filters=query.filters,
                                          cursor=query.cursor, one_per_canvas=query.one_per_canvas)
        timings = {"encode_ms": round(encode_ms, 2), "search_ms": round(_ms(start), 2)}
        return SearchOutcome(page.hits, page.next_cursor, vector_name, model_name,
                             {**described, **query.describe()}, timings)


def check_text(text: Any, field: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"{field!r} must be a non-empty text", field=field)
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"{field!r} is {len(text)} characters long; at most {MAX_TEXT_CHARS}", field=field)
    return text


def _model_label(vector_name: str) -> str:
    return registry_model_for(vector_name) or vector_name


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
