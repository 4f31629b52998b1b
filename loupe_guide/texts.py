"""Language maps and media: merging texts, finding the artist among metadata, audio and
video among annotation links."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from loupe_guide.model import LanguageMap

ARTIST_LABELS = re.compile(r"^(artist|creator|author|painter|maker|attribution|artista|autore|autrice|"
                           r"pittore|auteur|artiste|k[uü]nstler|maler|urheber|autor|kunstenaar|maker/artist)$", re.I)
AUDIO = re.compile(r"\.(mp3|m4a|aac|ogg|oga|opus|wav|flac)(\?.*)?$", re.I)
VIDEO = re.compile(r"\.(mp4|m4v|webm|ogv|mov)(\?.*)?$", re.I)


def as_map(value: Any) -> LanguageMap:
    """A IIIF language map from what the catalog holds (a map, a string, a list)."""
    if not value:
        return {}
    if isinstance(value, str):
        return {"none": [value]}
    if isinstance(value, Mapping):
        out: LanguageMap = {}
        for lang, texts in value.items():
            for text in [texts] if isinstance(texts, str) else (texts or []):
                if isinstance(text, str) and text.strip():
                    out.setdefault(str(lang) or "none", []).append(text.strip())
        return out
    out = {}
    for v in value:
        merge(out, as_map(v))
    return out


def merge(into: LanguageMap, *maps: Mapping[str, list[str]]) -> LanguageMap:
    """Append every text of `maps` to `into`, language by language, without repeats."""
    for lmap in maps:
        for lang, texts in lmap.items():
            bucket = into.setdefault(lang, [])
            bucket.extend(t for t in texts if t not in bucket)
    return into


def artist_of(metadata: Iterable[Mapping]) -> LanguageMap:
    """The value of the first metadata entry whose label (in any language) names the artist."""
    for entry in metadata or ():
        labels = [t for texts in as_map(entry.get("label")).values() for t in texts]
        if any(ARTIST_LABELS.match(label.strip().rstrip(":")) for label in labels):
            return as_map(entry.get("value"))
    return {}


def media_kind(url: str) -> str | None:
    """"audio" or "video" for a link that is one (by its file name), else None."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    if AUDIO.search(url):
        return "audio"
    if VIDEO.search(url):
        return "video"
    return None
