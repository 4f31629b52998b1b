"""Catalog regions as annotations for IIIF output (Content Search results, annotations out).

A curator's region becomes the annotation it was harvested from (its id, motivation, texts
by language, tags as ``tagging`` bodies); a machine region becomes a ``MachineAnnotation``
with its provenance (generator = model and version, creator = the process, ``loupe:confidence``,
created) and its review (``loupe:review``: proposed, or accepted with who and when). Targets
carry ``partOf`` the manifest, as Content Search 2.0 and Content State expect.
"""

from __future__ import annotations

from connector.catalog.keys import uri_key
from iiif.model import Annotation, Body, Target
from iiif.writers.annotations import MachineAnnotation

from .catalog_reads import RegionText

MACHINE_MOTIVATION = "tagging"
PROPOSED, ACCEPTED = "proposed", "accepted"


def motivation_of(region: RegionText) -> str | None:
    """The region's motivation in the v3 vocabulary (machine regions default to tagging)."""
    m = region.motivation
    if m:
        return m.split(":", 1)[-1]
    return MACHINE_MOTIVATION if region.made_by == "machine" else None


def annotation_id(region: RegionText, base: str) -> str:
    """The harvested annotation's own id, else a stable id on the canvas's annotation page."""
    return region.annotation_id or f"{base}/iiif/annotations/{uri_key(region.canvas)}.json#region-{region.id}"


def region_annotation(region: RegionText, base: str) -> Annotation | MachineAnnotation:
    target_id = annotation_id(region, base)
    if region.made_by == "machine":
        texts = [*region.tags, *[t for ts in region.texts.values() for t in ts]]
        language = next((lang for lang, ts in region.texts.items() if ts and lang != "none"), None) \
            if not region.tags else None
        return MachineAnnotation(
            id=target_id, canvas_id=region.canvas, manifest_id=region.manifest, box=region.box,
            polygon=region.polygon, motivation=motivation_of(region) or MACHINE_MOTIVATION,
            body_value="; ".join(texts) if texts else None, language=language, generator_name=region.model,
            generator_version=region.model_version, creator=region.creator, created=region.created,
            confidence=_confidence(region.confidence), **_review(region))
    motivation = motivation_of(region)
    bodies = [Body(type="TextualBody", value=text, language=None if lang == "none" else lang)
              for lang, texts in region.texts.items() for text in texts]
    bodies += [Body(type="TextualBody", value=tag, purpose="tagging") for tag in region.tags]
    return Annotation(id=target_id, motivations=[motivation] if motivation else [], bodies=bodies,
                      targets=[Target(source=region.canvas, box=region.box, polygon=region.polygon,
                                      manifest=region.manifest)],
                      creator=region.creator)


def _review(region: RegionText) -> dict:
    """``loupe:review`` and, for an accepted one, who validated it and when."""
    if region.review != ACCEPTED:
        return {"review": PROPOSED}
    return {"review": ACCEPTED, "reviewed_by": f"curator key {region.reviewed_by}" if region.reviewed_by else None,
            "reviewed": region.reviewed, "modified": region.reviewed if region.corrected else None}


def _confidence(value: float | None) -> float | None:
    if value is None:
        return None
    return min(1.0, max(0.0, float(value)))
