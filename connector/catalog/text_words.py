"""Words of texts as people search them: the one definition that Content Search, autocomplete
and the full-text index share (``search_service.text_match`` shows matches with it,
``fulltext`` indexes with it, so the index finds exactly what a scan would).

- case-insensitive (Unicode case folding: "Straße" matches "STRASSE");
- diacritics folded ("Pietà" matches "pieta", "Ë" matches "e"), compatibility forms decomposed;
- a word is a run of ``\\w`` characters of the folded text; HTML tags are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

WORD = re.compile(r"\w+")
TAG = re.compile(r"<[^>]{0,500}>")


def fold(text: str) -> str:
    """Lower-cased (case-folded), without diacritics, compatibility forms decomposed."""
    return "".join(fold_char(c) for c in text)


@lru_cache(maxsize=65536)
def fold_char(c: str) -> str:
    decomposed = unicodedata.normalize("NFKD", c)
    return "".join(d for d in decomposed if not unicodedata.combining(d)).casefold()


def query_words(q: str) -> list[str]:
    """The folded words of a query, in order, without repeats."""
    return list(dict.fromkeys(WORD.findall(fold(q))))


def text_words(text: str) -> list[str]:
    """The folded words of one text (tags removed), in order."""
    return WORD.findall(fold(TAG.sub(" ", text)))


def words_of(texts: Iterable[str]) -> list[str]:
    """The distinct folded words of several texts, in order of first appearance."""
    return list(dict.fromkeys(w for t in texts for w in text_words(t)))
