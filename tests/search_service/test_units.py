"""The search service's pure parts: text matching, the composed-search baseline, parameter
parsing, references, URL keys."""

from __future__ import annotations

import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from connector.catalog.keys import uri_key
from search_service.combiner import CombinerRegistry, zero_shot_compose
from search_service.params import query_from_args, query_from_json
from search_service.query_model import registry_model_for
from search_service.references import parse_reference, parse_xywh
from search_service.request_errors import InvalidRequest
from search_service.text_match import FoldedText, fold, query_words, snippet, words_with_prefix

# --- text matching -------------------------------------------------------------------------


@pytest.mark.parametrize("text, folded", [("Pietà", "pieta"), ("STRASSE", "strasse"), ("Straße", "strasse"),
                                          ("Ærø", "ærø"), ("ﬁgure", "figure"), ("Œuvre", "œuvre")])
def test_fold(text, folded):
    assert fold(text) == folded


def test_word_prefix_matching_and_positions():
    text = FoldedText("Détail : <b>la Vierge</b> à l'Annonciation")
    assert text.find("vier") is not None and text.find("ierge") is None
    start, end = text.find("annon")
    assert text.original[start:end] == "Annonciation"  # the whole word
    s = snippet(text, "detai")
    assert s.exact == "Détail" and s.prefix is None and s.suffix.startswith(" :")
    assert text.matches_all(["la", "vierge"]) and not text.matches_all(["la", "madonna"])
    assert query_words("  Vierge, vierge; LA ") == ["vierge", "la"]


def test_words_with_prefix_keeps_the_original_form():
    assert words_with_prefix(["Venus and Vénus", "venerable"], "ven") == [
        ("venus", "Venus"), ("venus", "Vénus"), ("venerable", "venerable")]


# --- composed search -------------------------------------------------------------------------


def test_zero_shot_compose_is_the_documented_weighted_sum():
    image, text = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    q = zero_shot_compose(image, text, 0.25)
    expected = np.array([0.75, 0.25, 0.0]) / np.linalg.norm([0.75, 0.25, 0.0])
    assert np.allclose(q, expected) and q.dtype == np.float32
    assert np.allclose(zero_shot_compose(image, text, 0.0), image)
    assert np.allclose(zero_shot_compose(image, text, 1.0), [0, 1, 0])
    with pytest.raises(ValueError, match="cancel"):
        zero_shot_compose(image, -image, 0.5)
    with pytest.raises(ValueError):
        zero_shot_compose(image, text, 1.5)


def test_the_combiner_registry_is_empty_until_one_is_registered():
    registry = CombinerRegistry()
    assert registry.for_vector("loupe-tiny__random") is None

    class Half:
        name = "half"

        def combine(self, image, text):
            return (image + text) / 2

    registry.register("loupe-tiny__random", Half())
    assert registry.for_vector("loupe-tiny__random").name == "half"


# --- parameters ------------------------------------------------------------------------------


def test_query_from_args():
    q = query_from_args(MultiDict([("kind", "image,region"), ("manifest", "https://a/m1,x"), ("manifest", "https://a/m2"),
                                   ("limit", "7"), ("one_per_canvas", "yes"), ("year_from", "1500"),
                                   ("source", "3"), ("source", "demo")]))
    assert q.filters.kind == ("image", "region")
    assert q.filters.manifest == ("https://a/m1,x", "https://a/m2")  # commas in URIs are kept
    assert q.limit == 7 and q.one_per_canvas and q.filters.year_from == 1500
    assert q.filters.source_ids == (3,) and "demo" in q.filters.source_names


def test_query_from_json():
    q = query_from_json({"filters": {"kind": ["view"], "source": 2, "year_to": 1700}, "limit": 3, "cursor": "abc"})
    assert q.filters.kind == ("view",) and q.filters.source == (2,) and q.filters.year_to == 1700
    assert q.limit == 3 and q.cursor == "abc"
    with pytest.raises(InvalidRequest) as e:
        query_from_json({"filters": {"year_from": True}})
    assert e.value.field == "filters.year_from"


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("10,20,30,40", (10, 20, 30, 40)), ("xywh=1.5,2,3,4", (1.5, 2, 3, 4)),
                                             ([0, 0, 5, 5], (0, 0, 5, 5)), (" 1, 2, 3, 4 ", (1, 2, 3, 4))])
def test_parse_xywh(value, expected):
    assert parse_xywh(value) == expected


@pytest.mark.parametrize("value", ["1,2,3", "1,2,-3,4", [1, 2, 3], [True, 2, 3, 4], "nan,1,2,3", 7, "pct:1,2,3,4"])
def test_parse_xywh_refuses(value):
    with pytest.raises(InvalidRequest) as e:
        parse_xywh(value)
    assert e.value.field == "xywh"


def test_a_canvas_fragment_is_a_region():
    ref = parse_reference({"canvas": "https://a/canvas/1#xywh=1,2,3,4"})
    assert ref.canvas == "https://a/canvas/1" and ref.xywh == (1, 2, 3, 4) and ref.manifest is None


# --- names ------------------------------------------------------------------------------------


def test_uri_keys_are_short_stable_hashes():
    assert uri_key("https://example.org/m.json") == uri_key("https://example.org/m.json")
    assert len(uri_key("x")) == 16 and uri_key("x") != uri_key("y")


def test_registry_vectors_name_their_model():
    assert registry_model_for("loupe-tiny__random") == "loupe-tiny"
    assert registry_model_for("mobileclip2-s0__dfndr2b") == "MobileCLIP2-S0"
    assert registry_model_for("mobileclip2-s0__epoch_3-abc123") is None


def test_text_asked_of_an_image_only_model_is_a_conflict_that_says_where_clip_goes():
    from pathlib import Path

    from loupe_models import TextNotSupported
    from search_service.errors import _from_domain

    answer = _from_domain(TextNotSupported("efficientnet-lite0", "MobileCLIP2-S0", Path("/m/open_clip_model.safetensors")))
    assert (answer.status, answer.code) == (409, "needs_clip_model")
    assert "/m/open_clip_model.safetensors" in answer.message and "text search" in answer.message


def test_a_full_text_index_problem_is_a_503_that_says_what_to_run():
    from connector.catalog.fulltext import FullTextError
    from search_service.errors import _from_domain

    answer = _from_domain(FullTextError("run `loupe catalog fulltext --rebuild`"))
    assert (answer.status, answer.code) == (503, "fulltext_unavailable") and "--rebuild" in answer.message
