"""A guide and its items, as the bundle's ``items`` (``lens/BUNDLE.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iiif.model import Image

LanguageMap = dict[str, list[str]]
MediaMap = dict[str, str]  # language -> URL


@dataclass
class GuideItem:
    id: str
    kind: str  # artwork | detail
    canvas: str
    manifest: str
    parent: str | None = None
    title: LanguageMap = field(default_factory=dict)
    artist: LanguageMap = field(default_factory=dict)
    text: LanguageMap = field(default_factory=dict)
    audio: MediaMap = field(default_factory=dict)
    video: MediaMap = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    metadata: list[dict] = field(default_factory=list)  # [{"label": map, "value": map}]
    # Where the pixels are (for the build): the artwork's catalog image, the detail's box in
    # that image's full-resolution pixels (x, y, w, h).
    source_id: int | None = None
    image: Image | None = None
    full_box: tuple[float, float, float, float] | None = None
    # A detail's region's texts (every language) and tags: what a detector's class may be named.
    labels: tuple[str, ...] = ()

    def bundle_entry(self, size: tuple[int, int] | None = None, region: list[int] | None = None,
                     image_path: str | None = None) -> dict[str, Any]:
        """The bundle's item: `size` and `image_path` of the artwork's reference image,
        `region` of a detail in that image's pixels."""
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "parent": self.parent, "canvas": self.canvas,
            "manifest": self.manifest, "region": region, "size": list(size) if size else None,
            "image": image_path, "title": self.title, "artist": self.artist, "text": self.text,
        }
        if self.audio:
            out["audio"] = self.audio
        if self.video:
            out["video"] = self.video
        out["links"] = self.links
        if self.metadata:
            out["metadata"] = self.metadata
        return out


@dataclass
class Guide:
    id: str
    label: LanguageMap
    items: list[GuideItem]

    @property
    def artworks(self) -> list[GuideItem]:
        return [i for i in self.items if i.kind == "artwork"]

    @property
    def details(self) -> list[GuideItem]:
        return [i for i in self.items if i.kind == "detail"]

    def item(self, item_id: str) -> GuideItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    @property
    def languages(self) -> list[str]:
        """Languages present in the items' texts, most used first ("none" left out)."""
        counts: dict[str, int] = {}
        for item in self.items:
            for lmap in (item.title, item.artist, item.text):
                for lang, texts in lmap.items():
                    if lang != "none" and texts:
                        counts[lang] = counts.get(lang, 0) + len(texts)
            for media in (item.audio, item.video):
                for lang in media:
                    if lang != "none":
                        counts[lang] = counts.get(lang, 0) + 1
        return sorted(counts, key=lambda lang: (-counts[lang], lang))
