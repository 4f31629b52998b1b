"""Language values of v2 and v3 into language maps; picking a label; the HTML subset."""

from __future__ import annotations

import pytest

from iiif._context import ReadContext
from iiif.html import html_issues
from iiif.language import language_map, metadata_list, pick


@pytest.mark.parametrize("value, expected", [
    ("Plain", {"none": ["Plain"]}),
    ({"@value": "Titre", "@language": "fr"}, {"fr": ["Titre"]}),
    ({"@value": "No language"}, {"none": ["No language"]}),
    ([{"@value": "62: quelque titre", "@language": "fr"}, {"@value": "62: some title", "@language": "en"}],
     {"fr": ["62: quelque titre"], "en": ["62: some title"]}),
    (["a", "b", {"@value": "c", "@language": "en"}], {"none": ["a", "b"], "en": ["c"]}),
    (None, {}),
    ("", {}),
])
def test_v2_values(value, expected):
    ctx = ReadContext(version=2)
    assert language_map(value, "label", ctx) == expected
    assert ctx.problems == []


def test_v3_language_map_kept():
    ctx = ReadContext(version=3)
    value = {"en": ["Whistler's Mother"], "fr": ["La Mère de Whistler"]}
    assert language_map(value, "label", ctx) == value
    assert ctx.problems == []


def test_v3_plain_string_is_accepted_with_a_warning():
    ctx = ReadContext(version=3)
    assert language_map("Old label", "label", ctx) == {"none": ["Old label"]}
    assert ctx.problems[0].severity == "warning" and ctx.problems[0].where == "label"


def test_v3_single_string_value_and_at_none_key_are_repaired():
    ctx = ReadContext(version=3)
    assert language_map({"@none": ["Map"], "en": "Title"}, "label", ctx) == {"none": ["Map"], "en": ["Title"]}
    assert [p.where for p in ctx.problems] == ["label.@none", "label.en"]


def test_numbers_become_text_with_a_warning():
    ctx = ReadContext(version=2)
    assert language_map(1.0, "label", ctx) == {"none": ["1.0"]}
    assert ctx.problems[0].severity == "warning"


def test_value_object_without_value_is_reported():
    ctx = ReadContext(version=2)
    assert language_map({"@language": "en"}, "description", ctx) == {}
    assert "no @value" in ctx.problems[0].what


def test_junk_inside_maps_is_skipped():
    ctx = ReadContext(version=3)
    assert language_map({"en": ["ok", None, {"x": 1}], "de": 5}, "label", ctx) == {"en": ["ok"]}
    assert len(ctx.problems) == 3


def test_duplicates_collapsed():
    assert language_map(["x", "x"], "l", ReadContext(version=2)) == {"none": ["x"]}


def test_every_language_value_is_sanitised_with_a_problem():
    ctx = ReadContext(version=3)
    lmap = language_map({"en": ["<span onmouseover='x()'>Hi</span>", "<span>Hi</span>"], "de": ["a < b"],
                         "fr": ["<div>Salut</div>"]}, "label", ctx)
    # the two English values are now one; a harmless <div> is unwrapped
    assert lmap == {"en": ["<span>Hi</span>"], "de": ["a < b"], "fr": ["<span>Salut</span>"]}
    assert [(p.where, p.severity) for p in ctx.problems] == [("label.en", "error"), ("label.fr", "warning")]
    assert "onmouseover" in ctx.problems[0].what and "unsafe markup removed" in ctx.problems[0].what
    assert "<div> is not allowed" in ctx.problems[1].what


def test_value_with_nothing_left_is_dropped():
    ctx = ReadContext(version=3)
    assert language_map({"en": ["<script>alert(1)</script>"], "de": ["Titel"]}, "summary", ctx) == {"de": ["Titel"]}
    assert "value is dropped" in ctx.problems[0].what


@pytest.mark.parametrize("lmap, expected", [
    ({"fr": ["Titre"], "en": ["Title"], "none": ["T"]}, "Title"),
    ({"fr": ["Titre"], "none": ["T"]}, "T"),
    ({"fr": ["Titre"], "de": ["Titel"]}, "Titre"),
    ({"en": ["a", "b"]}, "a; b"),
    ({}, ""),
])
def test_pick(lmap, expected):
    assert pick(lmap) == expected


def test_metadata_pairs():
    ctx = ReadContext(version=2)
    entries = metadata_list([{"label": "date", "value": [{"@value": "some data", "@language": "en"}]},
                             "not a pair", {"label": "empty"}], "metadata", ctx)
    assert [(e.label, e.value) for e in entries] == [({"none": ["date"]}, {"en": ["some data"]}),
                                                      ({"none": ["empty"]}, {})]
    assert ctx.problems[0].where == "metadata[1]"


@pytest.mark.parametrize("text, fragment", [
    ("<x> <y> <plain text>", "<x> is not allowed"),
    ("<span onmouseover='ownzor()'>Naughty</span>", "event handler"),
    ("<span><script>function ownzor() {}</script>Naughty</span>", "unsafe HTML element <script>"),
    ("<span><!-- &lt;script>function ownzor() {}&lt;/script>-->Naughty</span>", "comments"),
    ("<a href='javascript:alert(1)'>x</a>", "unsafe URL"),
])
def test_html_issues_found(text, fragment):
    assert any(fragment in issue for issue in html_issues(text))


@pytest.mark.parametrize("text", [
    "<p><a href='https://example.org'>Berliner Tageblatt</a> - <b>Public Domain</b><br/><img src='x.png'/></p>",
    "Plain text with a < sign",
    "a <b>bold</b> word not wrapped in a tag",
])
def test_html_issues_none(text):
    assert html_issues(text) == []
