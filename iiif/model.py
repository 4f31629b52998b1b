"""Loupe's small internal model of IIIF.

Every input (Presentation 2.0, 2.1, 3.0; Image API 1, 2, 3) is read into these classes by
``iiif.reader``; nothing downstream sees raw IIIF JSON, ``@id`` or v2 vocabulary. Every
IIIF output is written from them by ``iiif.writers``.

Coordinates: a ``Box`` on a canvas is in canvas units (pixels of the canvas coordinate
space); ``iiif.geometry`` maps it to the pixels of a painted image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# A IIIF language map: language code (or "none") -> list of strings.
LanguageMap = dict[str, list[str]]

Severity = Literal["error", "warning"]


@dataclass
class Problem:
    """Something wrong or unsupported in a document. ``where`` is a path in the document
    such as ``items[2].items[0].body`` (prefixed with the document's URL when known)."""

    where: str
    what: str
    severity: Severity = "error"

    def __str__(self) -> str:  # pragma: no cover - formatting only
        return f"{self.severity}: {self.where}: {self.what}"


@dataclass
class Box:
    """An axis-aligned rectangle ``x, y, w, h`` (floats; writers round to integers)."""

    x: float
    y: float
    w: float
    h: float

    def as_xywh(self) -> str:
        return ",".join(str(int(round(v))) for v in (self.x, self.y, self.w, self.h))

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)


@dataclass
class ImageService:
    """An IIIF Image API service for one image."""

    id: str  # base URI, without /info.json
    version: int  # 1, 2 or 3
    level: int | None = None  # compliance level 0, 1, 2; None when unknown
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    sizes: list[tuple[int, int]] = field(default_factory=list)
    # Each tile: {"width": int, "height": int, "scaleFactors": [int, ...]}
    tiles: list[dict] = field(default_factory=list)
    # Extra features declared by the service ("regionByPx", "sizeByWh", ...), where listed.
    extra_features: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)


@dataclass
class Image:
    """An image painted onto a canvas (the resource, not the annotation)."""

    id: str
    format: str | None = None
    width: int | None = None
    height: int | None = None
    service: ImageService | None = None
    # Where on the canvas it is painted; None means the whole canvas.
    target_box: Box | None = None
    # Part of the image resource that is painted (SpecificResource with a selector on the
    # image itself, e.g. ImageApiSelector or xywh); None means the whole image.
    source_box: Box | None = None
    label: LanguageMap = field(default_factory=dict)
    # Other choices when the painting body was a Choice; this image is the default (first).
    alternatives: list["Image"] = field(default_factory=list)
    annotation_id: str | None = None


@dataclass
class Body:
    """One body of an annotation."""

    type: str  # "TextualBody", "Tag" (TextualBody with purpose tagging), "SpecificResource", "Image", ...
    value: str | None = None  # text (HTML allowed when format is text/html)
    language: str | None = None
    format: str | None = None
    purpose: str | None = None  # "describing", "tagging", "identifying", "commenting", ...
    id: str | None = None  # URI for identifying/linking bodies, or an embedded resource's id


@dataclass
class Target:
    """What an annotation points at: a canvas and optionally a region of it."""

    source: str  # canvas URI (fragment removed)
    box: Box | None = None  # in canvas coordinates; None = whole canvas
    selector: str | None = None  # "xywh", "percent", "FragmentSelector", "SvgSelector", "PointSelector", "ImageApiSelector", "Choice", ...
    polygon: list[tuple[float, float]] | None = None  # from an SvgSelector
    point: tuple[float, float] | None = None  # from a PointSelector
    svg: str | None = None
    manifest: str | None = None  # partOf, when the target says so


@dataclass
class Annotation:
    id: str | None
    motivations: list[str] = field(default_factory=list)  # v3 vocabulary ("painting", "commenting", "tagging", ...)
    bodies: list[Body] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    creator: str | None = None
    created: str | None = None

    @property
    def texts(self) -> dict[str, list[str]]:
        """Body texts by language ("none" when unknown)."""
        out: dict[str, list[str]] = {}
        for b in self.bodies:
            if b.value and b.purpose != "tagging":
                out.setdefault(b.language or "none", []).append(b.value)
        return out

    @property
    def tags(self) -> list[str]:
        return [b.value for b in self.bodies if b.value and b.purpose == "tagging"]


@dataclass
class AnnotationPage:
    """A v3 AnnotationPage or v2 AnnotationList, embedded or fetched."""

    id: str | None
    annotations: list[Annotation] = field(default_factory=list)
    next: str | None = None  # paging (AnnotationCollection / v2 layers)
    part_of: str | None = None
    label: LanguageMap = field(default_factory=dict)


@dataclass
class Canvas:
    id: str
    label: LanguageMap = field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    images: list[Image] = field(default_factory=list)
    # Non-painting annotations found embedded on the canvas.
    annotations: list[Annotation] = field(default_factory=list)
    # AnnotationPages/Lists referenced by URI only (to be fetched by the connector).
    annotation_refs: list[str] = field(default_factory=list)
    thumbnail: list[str] = field(default_factory=list)


@dataclass
class Agent:
    """A provider (v3) or a v2 attribution/logo turned into one."""

    id: str | None = None
    label: LanguageMap = field(default_factory=dict)
    homepage: list[str] = field(default_factory=list)
    logo: list[str] = field(default_factory=list)


@dataclass
class MetadataEntry:
    label: LanguageMap
    value: LanguageMap


@dataclass
class Reference:
    """A member of a collection: its URI and what the collection said about it."""

    id: str
    type: str  # "Manifest" or "Collection"
    label: LanguageMap = field(default_factory=dict)
    thumbnail: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    id: str
    version: int  # presentation major version of the source document: 2 or 3
    label: LanguageMap = field(default_factory=dict)
    summary: LanguageMap = field(default_factory=dict)
    metadata: list[MetadataEntry] = field(default_factory=list)
    rights: str | None = None
    required_statement: MetadataEntry | None = None  # v2 attribution becomes this
    provider: list[Agent] = field(default_factory=list)
    thumbnail: list[str] = field(default_factory=list)
    homepage: list[str] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)  # raw-but-normalised service blocks: {"id","type","profile"}
    nav_date: str | None = None
    canvases: list[Canvas] = field(default_factory=list)
    # Manifest-level non-painting annotations (embedded) and referenced pages.
    annotations: list[Annotation] = field(default_factory=list)
    annotation_refs: list[str] = field(default_factory=list)
    part_of: list[str] = field(default_factory=list)


@dataclass
class Collection:
    id: str
    version: int
    label: LanguageMap = field(default_factory=dict)
    summary: LanguageMap = field(default_factory=dict)
    members: list[Reference] = field(default_factory=list)
    # Manifests embedded in full (rare, but allowed); their references are also in members.
    embedded_manifests: list[Manifest] = field(default_factory=list)
    # Paging: v2 "first"/"next" (and v3 collections split into pages by some publishers).
    first: str | None = None
    next: str | None = None
    total: int | None = None
    rights: str | None = None
    required_statement: MetadataEntry | None = None
    metadata: list[MetadataEntry] = field(default_factory=list)
    provider: list[Agent] = field(default_factory=list)


DocumentType = Literal["Collection", "Manifest", "AnnotationPage", "AnnotationCollection", "Unknown"]


@dataclass
class ReadResult:
    """What the reader returns: the document's kind, version, the model and the problems."""

    type: DocumentType
    version: int | None
    resource: Collection | Manifest | AnnotationPage | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.resource is not None and not any(p.severity == "error" for p in self.problems)
