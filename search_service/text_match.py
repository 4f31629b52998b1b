"""Matching query words against annotation texts, as people expect from a search box.

- case-insensitive (Unicode case folding: "Straße" matches "STRASSE");
- diacritics folded ("Pietà" matches "pieta", "Ë" matches "e");
- each query word matches the start of a word of the text ("ven" matches "Venus");
- every query word must match (AND), in any order;
- punctuation separates words; HTML tags in texts are ignored.

``FoldedText`` remembers where each folded character came from, so a match can be shown in
the original text (Content Search "hits" with before/after context).
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.catalog.text_words import TAG as _TAG
from connector.catalog.text_words import WORD as _WORD
from connector.catalog.text_words import fold, query_words
from connector.catalog.text_words import fold_char as _fold_char

__all__ = ["CONTEXT_CHARS", "FoldedText", "Snippet", "fold", "query_words", "snippet", "words_with_prefix"]

CONTEXT_CHARS = 30


class FoldedText:
    """A text folded for matching, with a map from folded to original positions."""

    def __init__(self, text: str) -> None:
        self.original = _TAG.sub(" ", text)
        parts: list[str] = []
        origin: list[int] = []
        for i, c in enumerate(self.original):
            f = _fold_char(c)
            parts.append(f)
            origin.extend([i] * len(f))
        self.folded = "".join(parts)
        self._origin = origin
        self.words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(self.folded)]

    def find(self, word: str) -> tuple[int, int] | None:
        """(start, end) in the original text of the whole first word starting with ``word``."""
        for w, start, end in self.words:
            if w.startswith(word):
                return self._origin[start], self._origin[end - 1] + 1
        return None

    def matches_all(self, words: list[str]) -> bool:
        return all(self.find(w) is not None for w in words)


@dataclass(frozen=True)
class Snippet:
    exact: str
    prefix: str | None
    suffix: str | None


def snippet(text: FoldedText, word: str, context: int = CONTEXT_CHARS) -> Snippet | None:
    """The matched word of the original text with some context either side."""
    span = text.find(word)
    if span is None:
        return None
    start, end = span
    before = text.original[max(0, start - context):start]
    after = text.original[end:end + context]
    return Snippet(text.original[start:end], before or None, after or None)


def words_with_prefix(texts: list[str], prefix: str) -> list[tuple[str, str]]:
    """(folded word, original form) of each word in ``texts`` starting with folded ``prefix``."""
    out = []
    for t in texts:
        ft = FoldedText(t)
        for w, start, end in ft.words:
            if w.startswith(prefix):
                out.append((w, ft.original[ft._origin[start]:ft._origin[end - 1] + 1]))
    return out
