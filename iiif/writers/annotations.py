"""Presentation 3 AnnotationPages of machine (and curator) annotations.

Targets are written the way Mirador and the Content State / Content Search specs expect::

    {"type": "SpecificResource",
     "source": {"id": CANVAS, "type": "Canvas", "partOf": [{"id": MANIFEST, "type": "Manifest"}]},
     "selector": {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                  "value": "xywh=x,y,w,h"}}

with integer ``xywh`` in canvas units. A polygon gets a list of two selectors describing the
same segment: the FragmentSelector of its bounding box (for clients that only read boxes)
and an SvgSelector with the polygon as a closed ``<path>``.

The model that produced an annotation is its ``generator``, a Web Annotation ``Software``
agent: ``{"id": URI (when known), "type": "Software", "name": "MobileCLIP2-S0 dfndr2b",
"label": {"none": ["MobileCLIP2-S0 dfndr2b"]}}`` (``name`` is the Web Annotation property,
``label`` the IIIF one; both are written so either kind of client can show it).

``creator`` is an agent too: a machine annotation's process is ``Software``; a harvested
creator is ``{"id": URI}`` or ``{"name": ...}`` (its kind is not known).

Extensions, on an Annotation:

- ``loupe:confidence``: the producing model's confidence that the annotation holds, a number
  in [0, 1] (higher is surer; a calibrated probability only where the model says so);
- ``loupe:review``: where a curator's review stands, ``proposed`` (not reviewed yet) or
  ``accepted`` (validated by a person; rejected ones are not served);
- ``loupe:reviewedBy`` (an agent, a ``Person`` named by a fingerprint of the curator's key)
  and ``loupe:reviewed`` (when): who decided and when. A corrected acceptance also has
  ``modified``.

They are defined in a JSON-LD context (``context_document()``; ``LOUPE_CONTEXT`` names its
published copy, a service passes the address it serves it at); pages that use them list that
context before the Presentation 3 context, as the IIIF extension rules ask.

Pages are plain dicts built here and checked against iiif-prezi3's models (``check_with_prezi3``).
They are not *serialised* by iiif-prezi3 because its pydantic URL type rewrites identifiers
(percent-encodes non-ASCII, adds ``/`` to bare hosts) and silently drops properties it does
not model (``partOf`` on a target's source, an agent's ``label``, extensions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence

from iiif.model import Annotation, Body, Box, LanguageMap, Target

PRESENTATION_3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
LOUPE_CONTEXT = "https://loupe-iiif.github.io/ns/loupe.jsonld"
LOUPE_CONTEXT_PATH = "/iiif/context/loupe.jsonld"  # where a Loupe service serves that context
LOUPE_NAMESPACE = "https://loupe-iiif.github.io/ns/#"
CONFIDENCE = "loupe:confidence"
REVIEW = "loupe:review"
REVIEWED_BY = "loupe:reviewedBy"
REVIEWED = "loupe:reviewed"
LOUPE_TERMS = (CONFIDENCE, REVIEW, REVIEWED_BY, REVIEWED)
REVIEW_STATES = ("proposed", "accepted")
XSD = "http://www.w3.org/2001/XMLSchema#"
LOUPE_CONTEXT_DOCUMENT: dict = {
    "@context": {
        "loupe": LOUPE_NAMESPACE,
        CONFIDENCE: {"@id": CONFIDENCE, "@type": f"{XSD}double"},
        REVIEW: {"@id": REVIEW, "@type": "@vocab"},
        "proposed": {"@id": "loupe:Proposed"},
        "accepted": {"@id": "loupe:Accepted"},
        REVIEWED_BY: {"@id": REVIEWED_BY},
        REVIEWED: {"@id": REVIEWED, "@type": f"{XSD}dateTime"},
    }
}
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"
# Web Annotation motivations that double as a body's purpose.
_PURPOSES = frozenset({"assessing", "bookmarking", "classifying", "commenting", "describing",
                       "editing", "highlighting", "identifying", "linking", "moderating",
                       "questioning", "replying", "tagging"})


@dataclass
class MachineAnnotation:
    """One annotation made by a model (or a person) on a region of a canvas.

    ``box``/``polygon`` are in canvas units; neither means the whole canvas. ``body_id``
    identifies the body by URI (e.g. a Wikidata entity for ``identifying``); ``body_value``
    is its text. ``purpose`` defaults to the motivation when that is a Web Annotation
    motivation. ``created`` is an ISO 8601 string or a datetime (naive = UTC).
    """

    id: str
    canvas_id: str
    body_value: str | None = None
    manifest_id: str | None = None
    box: Box | None = None
    polygon: list[tuple[float, float]] | None = None
    motivation: str = "tagging"
    language: str | None = None
    purpose: str | None = None
    body_format: str | None = "text/plain"
    body_id: str | None = None
    generator_name: str | None = None  # model name, e.g. "MobileCLIP2-S0"
    generator_version: str | None = None  # e.g. pretrained tag or checkpoint hash
    generator_id: str | None = None  # URI of the software or model card
    creator: str | None = None  # URI or name of the person/system responsible
    creator_type: str | None = "Software"  # the agent's kind: Software, Person, Organization
    created: datetime | str | None = None
    confidence: float | None = None
    review: str | None = None  # proposed | accepted (loupe:review)
    reviewed_by: str | None = None  # name of the person who decided (loupe:reviewedBy)
    reviewed: datetime | str | None = None  # when (loupe:reviewed)
    modified: datetime | str | None = None  # when a person corrected it


def annotation_page(page_id: str, annotations: Sequence[MachineAnnotation | Annotation], *,
                    label: LanguageMap | str | None = None, next_page: str | None = None,
                    part_of: str | None = None, loupe_context: str = LOUPE_CONTEXT) -> dict:
    """A v3 AnnotationPage (JSON-serialisable dict) holding ``annotations`` in order.

    Model annotations without an id get ``{page_id}#a{index}``. ``part_of`` is the id of the
    AnnotationCollection this page belongs to; ``next_page`` the id of the next page.
    ``loupe_context``: the address of Loupe's context document, named when an item uses it.
    """
    items = [annotation_to_dict(a, fallback_id=f"{page_id}#a{i}") for i, a in enumerate(annotations)]
    page: dict = {"@context": page_context(items, loupe_context), "id": page_id, "type": "AnnotationPage"}
    if label:
        page["label"] = _language_map(label)
    if part_of:
        page["partOf"] = [{"id": part_of, "type": "AnnotationCollection"}]
    if next_page:
        page["next"] = {"id": next_page, "type": "AnnotationPage"}
    page["items"] = items
    check_with_prezi3(page)
    return page


def names_loupe_context(context: object) -> bool:
    """Whether a document's ``@context`` names Loupe's context (the published address, or a
    Loupe service's own copy): the document came from Loupe."""
    names = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and (c == LOUPE_CONTEXT or c.split("?", 1)[0].endswith(LOUPE_CONTEXT_PATH))
               for c in names)


def page_context(items: Iterable[dict], loupe_context: str = LOUPE_CONTEXT) -> str | list[str]:
    """The page's ``@context``: Presentation 3, preceded by Loupe's when an item uses it."""
    if uses_loupe_terms(items):
        return [loupe_context, PRESENTATION_3_CONTEXT]
    return PRESENTATION_3_CONTEXT


def uses_loupe_terms(items: Iterable[dict]) -> bool:
    return any(term in item for item in items for term in LOUPE_TERMS)


def annotation_to_dict(annotation: MachineAnnotation | Annotation, *,
                       fallback_id: str | None = None) -> dict:
    """One Annotation as a v3 dict (no ``@context``; it is embedded in a page)."""
    if isinstance(annotation, MachineAnnotation):
        return _machine_annotation(annotation)
    return _model_annotation(annotation, fallback_id)


def check_with_prezi3(page: dict) -> None:
    """Validate ``page`` against iiif-prezi3's AnnotationPage model; ValueError if invalid."""
    from iiif_prezi3 import AnnotationPage as Prezi3AnnotationPage
    from pydantic import ValidationError

    try:
        Prezi3AnnotationPage.model_validate(page)
    except ValidationError as error:
        raise ValueError(f"AnnotationPage {page.get('id')} is not valid IIIF v3: {error}") from error


# --- targets ------------------------------------------------------------------------------


def region_target(canvas_id: str, *, manifest_id: str | None = None, box: Box | None = None,
                  polygon: Sequence[tuple[float, float]] | None = None,
                  point: tuple[float, float] | None = None, svg: str | None = None) -> str | dict:
    """A target on a canvas: the canvas URI alone when it is the whole canvas with no
    manifest, else a SpecificResource whose source names the canvas (and its manifest)."""
    canvas_id = canvas_id.split("#", 1)[0]
    if polygon and box is None:
        box = bounding_box(polygon)
    selectors: list[dict] = []
    if box is not None:
        selectors.append(fragment_selector(box))
    if svg or polygon:
        selectors.append({"type": "SvgSelector", "value": svg or svg_path(polygon)})
    if point is not None:
        selectors.append({"type": "PointSelector", "x": _integer(point[0]), "y": _integer(point[1])})
    if not selectors and not manifest_id:
        return canvas_id
    source: dict = {"id": canvas_id, "type": "Canvas"}
    if manifest_id:
        source["partOf"] = [{"id": manifest_id, "type": "Manifest"}]
    target: dict = {"type": "SpecificResource", "source": source}
    if selectors:
        target["selector"] = selectors[0] if len(selectors) == 1 else selectors
    return target


def fragment_selector(box: Box) -> dict:
    return {"type": "FragmentSelector", "conformsTo": MEDIA_FRAGMENTS, "value": f"xywh={box.as_xywh()}"}


def bounding_box(points: Sequence[tuple[float, float]]) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0 = math.floor(min(xs)), math.floor(min(ys))
    return Box(x0, y0, math.ceil(max(xs)) - x0, math.ceil(max(ys)) - y0)


def svg_path(points: Sequence[tuple[float, float]]) -> str:
    """A closed polygon as an SVG document with one ``<path>`` (the form Mirador draws)."""
    if len(points) < 3:
        raise ValueError("a polygon needs at least 3 points")
    coords = " L".join(f"{_number(x)},{_number(y)}" for x, y in points)
    return f'<svg xmlns="http://www.w3.org/2000/svg"><path d="M{coords} Z"/></svg>'


# --- conversion ---------------------------------------------------------------------------


def _machine_annotation(a: MachineAnnotation) -> dict:
    out: dict = {"id": a.id, "type": "Annotation", "motivation": a.motivation}
    if a.created is not None:
        out["created"] = _iso8601(a.created)
    if a.modified is not None:
        out["modified"] = _iso8601(a.modified)
    if a.creator:
        out["creator"] = agent(a.creator, a.creator_type)
    generator = _software_agent(a.generator_name, a.generator_version, a.generator_id)
    if generator:
        out["generator"] = generator
    purpose = a.purpose or (a.motivation if a.motivation in _PURPOSES else None)
    bodies = []
    if a.body_value is not None:
        bodies.append(_body(Body(type="TextualBody", value=a.body_value, language=a.language,
                                 format=a.body_format, purpose=purpose)))
    if a.body_id:
        bodies.append(_body(Body(type="SpecificResource", id=a.body_id, purpose=purpose)))
    if bodies:
        out["body"] = bodies[0] if len(bodies) == 1 else bodies
    out["target"] = region_target(a.canvas_id, manifest_id=a.manifest_id, box=a.box,
                                  polygon=a.polygon)
    if a.confidence is not None:
        if not 0.0 <= a.confidence <= 1.0 or math.isnan(a.confidence):
            raise ValueError(f"confidence must be in [0, 1], got {a.confidence} for {a.id}")
        out[CONFIDENCE] = round(float(a.confidence), 4)
    if a.review is not None:
        if a.review not in REVIEW_STATES:
            raise ValueError(f"review must be one of {', '.join(REVIEW_STATES)}, got {a.review!r} for {a.id}")
        out[REVIEW] = a.review
    if a.reviewed_by:
        out[REVIEWED_BY] = agent(a.reviewed_by, "Person")
    if a.reviewed is not None:
        out[REVIEWED] = _iso8601(a.reviewed)
    return out


def _model_annotation(a: Annotation, fallback_id: str | None) -> dict:
    annotation_id = a.id or fallback_id
    if not annotation_id:
        raise ValueError("annotation has no id and no fallback id was given")
    out: dict = {"id": annotation_id, "type": "Annotation"}
    if a.motivations:
        out["motivation"] = a.motivations[0] if len(a.motivations) == 1 else list(a.motivations)
    if a.created:
        out["created"] = a.created
    if a.creator:
        out["creator"] = agent(a.creator)
    bodies = [b for b in (_body(body) for body in a.bodies) if b]
    if bodies:
        out["body"] = bodies[0] if len(bodies) == 1 else bodies
    targets = [_model_target(t) for t in a.targets]
    if not targets:
        raise ValueError(f"annotation {annotation_id} has no target")
    out["target"] = targets[0] if len(targets) == 1 else targets
    return out


def _model_target(t: Target) -> str | dict:
    return region_target(t.source, manifest_id=t.manifest, box=t.box, polygon=t.polygon,
                         point=t.point, svg=t.svg)


def _body(b: Body) -> dict | None:
    """A body dict: a TextualBody for text, a SpecificResource for a URI used with a purpose
    (``identifying``, ``classifying``), else the resource itself (id and type)."""
    if b.type == "SpecificResource" and b.id:
        return _without_none({"type": "SpecificResource", "source": b.id, "purpose": b.purpose})
    if b.type in ("TextualBody", "Tag") or not b.id:
        if b.value is None:
            return None
        purpose = b.purpose or ("tagging" if b.type == "Tag" else None)
        return _without_none({"id": b.id, "type": "TextualBody", "value": b.value,
                              "format": b.format, "language": b.language, "purpose": purpose})
    body = _without_none({"id": b.id, "type": b.type, "format": b.format, "language": b.language,
                          "purpose": b.purpose})
    if b.value:
        body["label"] = {b.language or "none": [b.value]}
    return body


def _without_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def agent(creator: str, kind: str | None = None) -> dict:
    """A Web Annotation agent for a creator given as a URI or a name."""
    out: dict = {"id": creator} if creator.startswith(("http://", "https://")) else {}
    if kind:
        out["type"] = kind
    if "id" not in out:
        out["name"] = creator
    return out


def _software_agent(name: str | None, version: str | None, agent_id: str | None) -> dict | None:
    if not (name or agent_id):
        return None
    agent: dict = {}
    if agent_id:
        agent["id"] = agent_id
    agent["type"] = "Software"
    if name:
        title = f"{name} {version}" if version else name
        agent["name"] = title
        agent["label"] = {"none": [title]}
    return agent


def _iso8601(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _language_map(label: LanguageMap | str) -> LanguageMap:
    return {"none": [label]} if isinstance(label, str) else {k: list(v) for k, v in label.items()}


def _integer(value: float) -> int:
    return int(round(value))


def _number(value: float) -> str:
    """Coordinates to 2 decimals, without trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
