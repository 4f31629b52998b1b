"""Vocabularies: the labels an image is tagged with, read from curators' files or requests.

A vocabulary is data (labels, each with an optional language and prompt), identified by a
digest of everything that changes its text embeddings, so that cached embeddings are reused
exactly as long as they are still right.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .default_vocabulary import DEFAULT_LABELS, DEFAULT_NAME
from .prompts import TEMPLATES

# Bounds: a stored list, a list sent inline with one request, one label and one prompt.
MAX_LABELS = 2000
MAX_INLINE_LABELS = 200
MAX_LABEL_CHARS = 200
MAX_PROMPT_CHARS = 300
MAX_LANGUAGE_CHARS = 35


class VocabularyError(ValueError):
    """A vocabulary that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Term:
    label: str
    language: str | None = None  # BCP 47 tag; picks the prompt templates
    prompt: str | None = None  # replaces the templates; "{}" in it stands for the label

    def as_json(self) -> dict[str, str]:
        out = {"label": self.label}
        if self.language:
            out["language"] = self.language
        if self.prompt:
            out["prompt"] = self.prompt
        return out


@dataclass(frozen=True)
class Vocabulary:
    name: str
    terms: tuple[Term, ...]

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.terms]

    @property
    def digest(self) -> str:
        """Changes when a label, language, prompt or a template changes: the cache key of
        the label embeddings (with the model version)."""
        text = json.dumps([[t.label, t.language, t.prompt] for t in self.terms] + [TEMPLATES],
                          ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.terms)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": len(self.terms), "digest": self.digest[:16],
                "labels": [t.as_json() for t in self.terms]}


def default_vocabulary() -> Vocabulary:
    return Vocabulary(DEFAULT_NAME, tuple(Term(label, "en") for label in DEFAULT_LABELS))


def make_vocabulary(name: str, entries: Iterable[Any], *, limit: int = MAX_LABELS) -> Vocabulary:
    """A checked vocabulary from strings or ``{"label", "language"?, "prompt"?}`` objects
    (or Terms). Duplicates (same label and language, ignoring case) are kept once."""
    terms: list[Term] = []
    seen: set[tuple[str, str | None]] = set()
    for n, entry in enumerate(entries, 1):
        term = _term(entry, n)
        key = (term.label.casefold(), term.language)
        if key in seen:
            continue
        seen.add(key)
        terms.append(term)
        if len(terms) > limit:
            raise VocabularyError(f"too many labels: at most {limit} in one vocabulary")
    if not terms:
        raise VocabularyError("the vocabulary has no labels")
    return Vocabulary(name, tuple(terms))


def _term(entry: Any, n: int) -> Term:
    if isinstance(entry, Term):
        return make_term(entry.label, entry.language, entry.prompt, n)
    if isinstance(entry, str):
        return make_term(entry, None, None, n)
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"label", "language", "prompt"}
        if unknown:
            raise VocabularyError(f"label {n}: unknown field(s) {', '.join(sorted(unknown))}; "
                                  "use label, language, prompt")
        return make_term(entry.get("label"), entry.get("language"), entry.get("prompt"), n)
    raise VocabularyError(f"label {n}: expected a string or an object with 'label', not {type(entry).__name__}")


def make_term(label: Any, language: Any, prompt: Any, n: int = 0) -> Term:
    where = f"label {n}" if n else "label"
    if not isinstance(label, str) or not label.strip():
        raise VocabularyError(f"{where}: the label must be a non-empty string")
    label = " ".join(label.split())
    if len(label) > MAX_LABEL_CHARS:
        raise VocabularyError(f"{where}: longer than {MAX_LABEL_CHARS} characters")
    language = _optional_text(language, f"{where} language", MAX_LANGUAGE_CHARS)
    prompt = _optional_text(prompt, f"{where} prompt", MAX_PROMPT_CHARS)
    return Term(label, language, prompt)


def _optional_text(value: Any, where: str, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise VocabularyError(f"{where}: expected a string")
    value = value.strip()
    if len(value) > limit:
        raise VocabularyError(f"{where}: longer than {limit} characters")
    return value


# --- files ---------------------------------------------------------------------------------


def read_vocabulary_file(path: str | Path, name: str | None = None) -> Vocabulary:
    """A curator's list: ``.csv`` (a header with ``label`` and optional ``language``,
    ``prompt`` columns; without such a header, the first column), ``.json`` (a list of
    strings or objects, or ``{"labels": [...]}``), anything else plain text with one label a
    line (``#`` starts a comment line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise VocabularyError(f"cannot read vocabulary file {p}: {e}") from None
    return parse_vocabulary(text, p.suffix.lower().lstrip("."), name or p.stem)


def parse_vocabulary(text: str, kind: str, name: str) -> Vocabulary:
    if kind == "json":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise VocabularyError(f"not valid JSON: {e}") from None
        if isinstance(data, Mapping):
            data = data.get("labels")
        if not isinstance(data, list):
            raise VocabularyError('expected a JSON list of labels or {"labels": [...]}')
        return make_vocabulary(name, data)
    if kind == "csv":
        return make_vocabulary(name, _csv_entries(text))
    lines = (line.strip() for line in text.splitlines())
    return make_vocabulary(name, [line for line in lines if line and not line.startswith("#")])


def _csv_entries(text: str) -> list[Any]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    if "label" not in header:
        return [r[0] for r in rows if r[0].strip() and not r[0].lstrip().startswith("#")]
    index = {k: header.index(k) for k in ("label", "language", "prompt") if k in header}

    def cell(row: Sequence[str], key: str) -> str | None:
        i = index.get(key)
        return row[i] if i is not None and i < len(row) else None

    return [{"label": cell(r, "label") or "", "language": cell(r, "language"), "prompt": cell(r, "prompt")}
            for r in rows[1:]]
