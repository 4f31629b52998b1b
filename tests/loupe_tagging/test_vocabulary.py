"""Vocabularies: the default list, curators' files, limits, prompts and the cache digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loupe_tagging.default_vocabulary import DEFAULT_LABELS
from loupe_tagging.prompts import prompts_for
from loupe_tagging.vocabulary import (
    MAX_LABEL_CHARS,
    Term,
    VocabularyError,
    default_vocabulary,
    make_vocabulary,
    parse_vocabulary,
    read_vocabulary_file,
)


def test_default_vocabulary_covers_museum_subjects() -> None:
    vocabulary = default_vocabulary()
    assert 140 <= len(vocabulary) <= 200
    assert len({t.label.casefold() for t in vocabulary.terms}) == len(vocabulary)
    for label in ("Annunciation", "Crucifixion", "Madonna and Child", "angel", "portrait", "landscape",
                  "still life", "seascape", "skull", "lily", "horse", "ship", "fresco", "engraving", "drawing"):
        assert label in DEFAULT_LABELS


def test_text_file_one_label_a_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "saints.txt"
    path.write_text("# saints of the altarpieces\nSaint Jerome\n\n  saint   jerome \nlily\n", encoding="utf-8")
    vocabulary = read_vocabulary_file(path)
    assert vocabulary.name == "saints"
    assert vocabulary.labels == ["Saint Jerome", "lily"]  # whitespace normalised, duplicates kept once


def test_csv_with_language_and_prompt(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("label,language,prompt\nlily,en,a white lily as a symbol of purity\nange,fr,\n", encoding="utf-8")
    vocabulary = read_vocabulary_file(path)
    assert vocabulary.terms == (Term("lily", "en", "a white lily as a symbol of purity"), Term("ange", "fr"))
    headerless = parse_vocabulary("skull,ignored\nship\n", "csv", "plain")
    assert headerless.labels == ["skull", "ship"]


def test_json_lists_and_objects() -> None:
    vocabulary = parse_vocabulary(json.dumps({"labels": ["ship", {"label": "lily", "language": "en"}]}), "json", "j")
    assert vocabulary.terms == (Term("ship"), Term("lily", "en"))
    with pytest.raises(VocabularyError, match="unknown field"):
        make_vocabulary("x", [{"label": "ship", "colour": "red"}])


@pytest.mark.parametrize("entries, message", [
    ([], "no labels"),
    ([""], "non-empty"),
    ([42], "expected a string"),
    (["x" * (MAX_LABEL_CHARS + 1)], "longer than"),
    ([f"label {i}" for i in range(11)], "at most 10"),
])
def test_bad_vocabularies_say_what_is_wrong(entries: list, message: str) -> None:
    with pytest.raises(VocabularyError, match=message):
        make_vocabulary("bad", entries, limit=10)


def test_digest_changes_with_anything_that_changes_the_embeddings() -> None:
    base = make_vocabulary("a", ["lily", "ship"])
    assert make_vocabulary("other name", ["lily", "ship"]).digest == base.digest
    assert make_vocabulary("a", ["ship", "lily"]).digest != base.digest
    assert make_vocabulary("a", [{"label": "lily", "prompt": "a lily"}, "ship"]).digest != base.digest
    assert make_vocabulary("a", [{"label": "lily", "language": "fr"}, "ship"]).digest != base.digest


def test_prompts_templates_languages_and_overrides() -> None:
    english = prompts_for("skull")
    assert len(english) >= 4 and "a painting of skull." in english
    assert all("ange" in p for p in prompts_for("ange", "fr")) and len(prompts_for("ange", "fr")) >= 2
    assert prompts_for("kallo", "fi") == ["kallo"]  # no templates for the language: the bare label
    assert prompts_for("lily", prompt="a white {} in a vase") == ["a white lily in a vase"]
    assert prompts_for("lily", prompt="the flower of the Annunciation") == ["the flower of the Annunciation"]
