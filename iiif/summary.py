"""A small, JSON-ready overview of a ``ReadResult`` (what ``loupe inspect`` prints)."""

from __future__ import annotations

from iiif.language import pick
from iiif.model import AnnotationPage, Canvas, Collection, Manifest, ReadResult


def _canvases(result: ReadResult) -> list[Canvas]:
    resource = result.resource
    if isinstance(resource, Manifest):
        return resource.canvases
    if isinstance(resource, Collection):
        return [c for m in resource.embedded_manifests for c in m.canvases]
    return []


def _annotation_count(result: ReadResult) -> int:
    resource = result.resource
    if isinstance(resource, AnnotationPage):
        return len(resource.annotations)
    if isinstance(resource, Manifest):
        return len(resource.annotations) + sum(len(c.annotations) for c in resource.canvases)
    if isinstance(resource, Collection):
        return sum(len(m.annotations) + sum(len(c.annotations) for c in m.canvases)
                   for m in resource.embedded_manifests)
    return 0


def summarize(result: ReadResult) -> dict:
    """``{"type", "version", "label", "canvases", "images", "annotations", "members",
    "problems"}``: counts are ints; the label is the English, language-less or first
    value; canvases of a collection are those of its embedded manifests."""
    resource = result.resource
    canvases = _canvases(result)
    label = getattr(resource, "label", None) or {}
    return {
        "type": result.type,
        "version": result.version,
        "label": pick(label),
        "canvases": len(canvases),
        "images": sum(len(c.images) for c in canvases),
        "annotations": _annotation_count(result),
        "members": len(resource.members) if isinstance(resource, Collection) else 0,
        "problems": [{"where": p.where, "what": p.what, "severity": p.severity} for p in result.problems],
    }
