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

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]{0,500}>")
CONTEXT_CHARS = 30


def fold(text: str) -> str:
    """Lower-cased (case-folded), without diacritics, compatibility forms decomposed."""
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    decomposed = unicodedata.normalize("NFKD", c)
    return "".join(d for d in decomposed if not unicodedata.combining(d)).casefold()


def query_words(q: str) -> list[str]:
    """The folded words of a query, in order, without repeats."""
    return list(dict.fromkeys(_WORD.findall(fold(q))))


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
