"""Prompt templates: each label becomes several sentences whose embeddings are averaged.

CLIP was trained on captions, so "a painting of a skull" matches images better than the bare
word "skull"; averaging over a few phrasings (the prompt ensembling of the CLIP paper, section
3.1.4) removes most of the dependence on any one phrasing. The templates suit artworks of all
kinds: a painting, a print, a photograph or an object in the collection.
"""

from __future__ import annotations

from typing import Mapping, Sequence

# language (BCP 47 primary subtag) -> templates; "{}" is replaced by the label.
TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "en": (
        "a painting of {}.",
        "an artwork showing {}.",
        "a print depicting {}.",
        "a photograph of {}.",
        "a detail of an artwork showing {}.",
        "{}, in a museum collection.",
    ),
    "fr": ("une peinture de {}.", "une œuvre d'art représentant {}.", "une gravure représentant {}."),
    "de": ("ein Gemälde von {}.", "ein Kunstwerk, das {} zeigt.", "ein Druck mit {}."),
    "it": ("un dipinto di {}.", "un'opera d'arte che raffigura {}.", "una stampa che raffigura {}."),
    "es": ("una pintura de {}.", "una obra de arte que muestra {}.", "un grabado de {}."),
    "nl": ("een schilderij van {}.", "een kunstwerk met {}.", "een prent van {}."),
}
DEFAULT_LANGUAGE = "en"


def templates_for(language: str | None) -> Sequence[str]:
    """The language's templates; a language without templates gets the bare label only
    (an English sentence around a word of another language would mislead the text encoder)."""
    primary = (language or DEFAULT_LANGUAGE).split("-")[0].lower()
    return TEMPLATES.get(primary, ("{}",))


def prompts_for(label: str, language: str | None = None, prompt: str | None = None) -> list[str]:
    """The sentences embedded for one label. A curator's ``prompt`` replaces the templates;
    one containing "{}" is used as a template itself."""
    if prompt:
        return [prompt.replace("{}", label)]
    return [t.format(label) for t in templates_for(language)]
