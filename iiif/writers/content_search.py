"""IIIF Content Search responses (1.0 and 2.0), autocomplete responses, and the service
blocks that advertise them in manifests. Shapes follow the specifications' examples.

- 2.0: an ``AnnotationPage`` whose ``items`` are the matching annotations (written by
  ``iiif.writers.annotations``: targets are SpecificResources whose source names the canvas
  and, in ``partOf``, its manifest), paged through an embedded ``AnnotationCollection``
  (``partOf`` with ``total``/``first``/``last``; ``next``/``prev``/``startIndex`` on the page),
  ``ignored`` parameters, and match context as ``contextualizing`` annotations with
  TextQuoteSelectors in ``annotations``.
- 1.0: an ``sc:AnnotationList`` of ``oa:Annotation`` (``on``: the string
  ``canvas#xywh=x,y,w,h`` with integers, or the canvas), paged through ``within`` (an
  ``sc:Layer`` with ``total``/``first``/``last``), ``next``/``prev``/``startIndex``,
  ``ignored`` in ``within``, and match context as ``search:Hit`` (``before`` and ``after``
  always present, empty when there is no surrounding text).

``on`` is a plain string because that is what Mirador 4 reads: given an object it wants
``full`` and a ``selector``, and the spec's ``{"@id": ..., "within": ...}`` form makes it
throw; the manifest is the one the search service belongs to anyway. 1.0 cannot express
polygons, points or Loupe's ``loupe:confidence``: an ``on`` carries the bounding box only,
and confidence is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import quote_plus, urlsplit, urlunsplit

from iiif.model import Annotation, LanguageMap
from iiif.writers.annotations import (
    LOUPE_CONTEXT,
    PRESENTATION_3_CONTEXT,
    MachineAnnotation,
    annotation_to_dict,
    uses_loupe_terms,
)

PRESENTATION_2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"
SEARCH_1_CONTEXT = "http://iiif.io/api/search/1/context.json"
SEARCH_2_CONTEXT = "http://iiif.io/api/search/2/context.json"
SEARCH_1_PROFILE = "http://iiif.io/api/search/1/search"
AUTOCOMPLETE_1_PROFILE = "http://iiif.io/api/search/1/autocomplete"


@dataclass(frozen=True)
class Paging:
    """Where one page of results sits in the whole result set (URLs are page URLs)."""

    collection_id: str  # the query's URL without the page parameter
    total: int
    first: str
    last: str | None = None
    next: str | None = None
    prev: str | None = None
    start_index: int | None = None

    @classmethod
    def for_page(cls, search_url: str, page: int, page_size: int, total: int, *,
                 page_param: str = "page") -> Paging | None:
        """Paging for 1-based ``page`` of ``search_url`` (which carries the query); None when
        every result fits in one page (a simple list needs no paging)."""
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        pages = max(1, math.ceil(total / page_size))
        if pages == 1:
            return None
        if not 1 <= page <= pages:
            raise ValueError(f"page {page} outside 1..{pages}")
        base = with_query_param(search_url, page_param, None)

        def url(n: int) -> str:
            return with_query_param(base, page_param, str(n))

        return cls(collection_id=base, total=total, first=url(1), last=url(pages),
                   next=url(page + 1) if page < pages else None,
                   prev=url(page - 1) if page > 1 else None,
                   start_index=(page - 1) * page_size)


@dataclass(frozen=True)
class TextMatch:
    """Where the query matched inside the text of one or more result annotations."""

    annotation_ids: Sequence[str]
    exact: str
    prefix: str | None = None
    suffix: str | None = None


@dataclass(frozen=True)
class Term:
    """One autocomplete suggestion. ``search_url`` (1.0 ``url``) defaults to the search URL
    with ``q`` set to ``value``."""

    value: str
    total: int | None = None
    label: LanguageMap | str | None = None
    language: str | None = None
    search_url: str | None = None


# --- Content Search 2.0 -------------------------------------------------------------------


def search_response_v2(page_id: str, annotations: Sequence[MachineAnnotation | Annotation], *,
                       paging: Paging | None = None, ignored: Iterable[str] = (),
                       matches: Sequence[TextMatch] = (), loupe_context: str = LOUPE_CONTEXT) -> dict:
    """A Content Search 2.0 response page (``loupe_context``: where Loupe's context is served)."""
    items = [annotation_to_dict(a, fallback_id=f"{page_id}#a{i}") for i, a in enumerate(annotations)]
    context = [SEARCH_2_CONTEXT]
    if uses_loupe_terms(items):
        context.append(loupe_context)
    context.append(PRESENTATION_3_CONTEXT)
    out: dict = {"@context": context, "id": page_id, "type": "AnnotationPage"}
    if paging:
        collection: dict = {"id": paging.collection_id, "type": "AnnotationCollection",
                            "total": paging.total, "first": _page_ref(paging.first)}
        if paging.last:
            collection["last"] = _page_ref(paging.last)
        out["partOf"] = collection
        if paging.next:
            out["next"] = _page_ref(paging.next)
        if paging.prev:
            out["prev"] = _page_ref(paging.prev)
        if paging.start_index is not None:
            out["startIndex"] = paging.start_index
    ignored = list(ignored)
    if ignored:
        out["ignored"] = ignored
    out["items"] = items
    if matches:
        out["annotations"] = [{"type": "AnnotationPage",
                               "items": [_match_annotation(page_id, i, m) for i, m in enumerate(matches, 1)]}]
    return out


def autocomplete_response_v2(response_id: str, terms: Sequence[Term], *,
                             ignored: Iterable[str] = ()) -> dict:
    """A Content Search 2.0 autocomplete response (``TermPage``)."""
    out: dict = {"@context": SEARCH_2_CONTEXT, "id": response_id, "type": "TermPage"}
    ignored = list(ignored)
    if ignored:
        out["ignored"] = ignored
    items = []
    for term in terms:
        item: dict = {"value": term.value}
        if term.language:
            item["language"] = term.language
        if term.total is not None:
            item["total"] = term.total
        if term.label:
            item["label"] = {"none": [term.label]} if isinstance(term.label, str) else dict(term.label)
        items.append(item)
    out["items"] = items
    return out


def search_service_v2(search_url: str, autocomplete_url: str | None = None) -> dict:
    """The ``SearchService2`` entry for a v3 manifest's ``service`` list."""
    block: dict = {"id": search_url, "type": "SearchService2"}
    if autocomplete_url:
        block["service"] = [{"id": autocomplete_url, "type": "AutoCompleteService2"}]
    return block


# --- Content Search 1.0 -------------------------------------------------------------------


def search_response_v1(list_id: str, annotations: Sequence[MachineAnnotation | Annotation], *,
                       paging: Paging | None = None, ignored: Iterable[str] = (),
                       matches: Sequence[TextMatch] = ()) -> dict:
    """A Content Search 1.0 response (``sc:AnnotationList``)."""
    ignored = list(ignored)
    uses_search_terms = bool(ignored or matches)
    out: dict = {
        "@context": [PRESENTATION_2_CONTEXT, SEARCH_1_CONTEXT] if uses_search_terms
        else PRESENTATION_2_CONTEXT,
        "@id": list_id,
        "@type": "sc:AnnotationList",
    }
    if paging or ignored:
        within: dict = {"@type": "sc:Layer"}
        if paging:
            within["total"] = paging.total
            within["first"] = paging.first
            if paging.last:
                within["last"] = paging.last
        if ignored:
            within["ignored"] = ignored
        out["within"] = within
    if paging:
        if paging.next:
            out["next"] = paging.next
        if paging.prev:
            out["prev"] = paging.prev
        if paging.start_index is not None:
            out["startIndex"] = paging.start_index
    out["resources"] = [_v1_annotation(annotation_to_dict(a, fallback_id=f"{list_id}#a{i}"))
                        for i, a in enumerate(annotations)]
    if matches:
        out["hits"] = [_v1_hit(m) for m in matches]
    return out


def autocomplete_response_v1(response_id: str, terms: Sequence[Term], *,
                             search_url: str | None = None, ignored: Iterable[str] = ()) -> dict:
    """A Content Search 1.0 autocomplete response (``search:TermList``).

    Each term's ``url`` is ``term.search_url``, else ``search_url`` with ``q`` set to the term.
    """
    out: dict = {"@context": SEARCH_1_CONTEXT, "@id": response_id, "@type": "search:TermList"}
    ignored = list(ignored)
    if ignored:
        out["ignored"] = ignored
    out["terms"] = []
    for term in terms:
        url = term.search_url or (with_query_param(search_url, "q", term.value) if search_url else None)
        if not url:
            raise ValueError(f"term {term.value!r} needs a search URL (Search 1.0 requires 'url')")
        entry: dict = {"match": term.value, "url": url}
        if term.total is not None:
            entry["count"] = term.total
        label = _first_label(term.label)
        if label:
            entry["label"] = label
        out["terms"].append(entry)
    return out


def search_service_v1(search_url: str, autocomplete_url: str | None = None) -> dict:
    """The Search 1.0 service block. ``@type`` and a list-valued nested ``service`` make it
    valid in v3 manifests too (Presentation 3 requires them of v2-style services)."""
    block: dict = {"@context": SEARCH_1_CONTEXT, "@id": search_url, "@type": "SearchService1",
                   "profile": SEARCH_1_PROFILE}
    if autocomplete_url:
        block["service"] = [{"@id": autocomplete_url, "@type": "AutoCompleteService1",
                             "profile": AUTOCOMPLETE_1_PROFILE}]
    return block


def service_blocks(search_url: str, autocomplete_url: str | None = None) -> dict[int, dict]:
    """Service entries to paste into a manifest's ``service``, by Content Search version."""
    return {1: search_service_v1(search_url, autocomplete_url),
            2: search_service_v2(search_url, autocomplete_url)}


# --- helpers ------------------------------------------------------------------------------


def with_query_param(url: str, key: str, value: str | None) -> str:
    """``url`` with query parameter ``key`` set to ``value`` (removed when None); other
    parameters are kept as they were written."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] != key]
    if value is not None:
        kept.append(f"{key}={quote_plus(value, safe='')}")
    return urlunsplit(parts._replace(query="&".join(kept)))


def _page_ref(page_id: str) -> dict:
    return {"id": page_id, "type": "AnnotationPage"}


def _match_annotation(page_id: str, index: int, match: TextMatch) -> dict:
    selector: dict = {"type": "TextQuoteSelector"}
    if match.prefix:
        selector["prefix"] = match.prefix
    selector["exact"] = match.exact
    if match.suffix:
        selector["suffix"] = match.suffix
    targets = [{"type": "SpecificResource", "source": annotation_id, "selector": [selector]}
               for annotation_id in match.annotation_ids]
    return {"id": f"{page_id}#match-{index}", "type": "Annotation", "motivation": "contextualizing",
            "target": targets[0] if len(targets) == 1 else targets}


def _v1_hit(match: TextMatch) -> dict:
    # Viewers show "before match after"; without them Mirador offers a "more..." on every hit.
    return {"@type": "search:Hit", "annotations": list(match.annotation_ids), "match": match.exact,
            "before": match.prefix or "", "after": match.suffix or ""}


def _v1_annotation(v3: dict) -> dict:
    """A v3 annotation dict in Presentation 2 / Open Annotation form."""
    motivations = v3.get("motivation") or []
    motivations = [motivations] if isinstance(motivations, str) else motivations
    out: dict = {"@id": v3["id"], "@type": "oa:Annotation"}
    if motivations:
        v1 = ["sc:painting" if m == "painting" else f"oa:{m}" for m in motivations]
        out["motivation"] = v1[0] if len(v1) == 1 else v1
    bodies = v3.get("body") or []
    resources = [_v1_body(b) for b in (bodies if isinstance(bodies, list) else [bodies])]
    if resources:
        out["resource"] = resources[0] if len(resources) == 1 else resources
    targets = v3["target"] if isinstance(v3["target"], list) else [v3["target"]]
    ons = [_v1_target(t) for t in targets]
    out["on"] = ons[0] if len(ons) == 1 else ons
    return out


def _v1_body(body: dict) -> dict:
    if body.get("type") == "TextualBody":
        out: dict = {"@type": "oa:Tag" if body.get("purpose") == "tagging" else "cnt:ContentAsText",
                     "chars": body["value"]}
        if body.get("format"):
            out["format"] = body["format"]
        if body.get("language"):
            out["language"] = body["language"]
        return out
    if body.get("type") == "SpecificResource":
        return {"@id": body["source"]}
    out = {"@id": body["id"]}
    if body.get("type") in ("Image", "Sound", "Text", "Video", "Dataset"):
        out["@type"] = f"dctypes:{body['type']}"
    return out


def _v1_target(target: str | dict) -> str:
    if isinstance(target, str):
        return target
    source = target["source"]
    canvas = source if isinstance(source, str) else source["id"]
    selectors = target.get("selector") or []
    selectors = [selectors] if isinstance(selectors, dict) else selectors
    fragment = next((s["value"] for s in selectors if s.get("type") == "FragmentSelector"), None)
    return f"{canvas}#{fragment}" if fragment else canvas


def _first_label(label: LanguageMap | str | None) -> str | None:
    if not label or isinstance(label, str):
        return label or None
    for values in label.values():
        if values:
            return values[0]
    return None
