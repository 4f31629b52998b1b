"""The reader never raises: garbage in, a ReadResult with problems out."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from iiif.model import ReadResult
from iiif.reader import read, read_bytes
from tests.iiif.test_reader_v2 import MANIFEST as V2_MANIFEST
from tests.iiif.test_reader_v2 import MIRADOR2_ANNOTATION
from tests.iiif.test_reader_v3 import MANIFEST as V3_MANIFEST


def assert_clean_failure(result: ReadResult) -> None:
    """A result for a bad document: a ReadResult, problems explaining, no internal error."""
    assert isinstance(result, ReadResult)
    assert result.problems, "a document that could not be read must say why"
    assert not any("internal reader error" in p.what for p in result.problems)


@pytest.mark.parametrize("doc", [
    None, [], [{"@type": "sc:Manifest"}], 42, 3.5, True, "manifest", b"bytes",
    {}, {"type": 5}, {"type": ["x", None]}, {"@context": 7, "@type": {}},
    {"@type": "sc:Manifest"},
    {"@type": "sc:Manifest", "sequences": "x"},
    {"@type": "sc:Manifest", "sequences": [{"canvases": [None, 1, "a", [], {}]}]},
    {"type": "Manifest", "items": {"id": 1}},
    {"type": "Manifest", "items": [{"type": "Canvas", "id": "c", "items": [{"items": [None, {"body": 1}]}]}]},
    {"type": "Collection", "items": [1, None, "x", {"type": "Manifest"}]},
    {"@type": "sc:Collection", "manifests": {"@id": 1}, "first": [], "total": "many"},
    {"type": "AnnotationPage", "items": [{"target": [[[]]]}, {"body": {"type": "Choice", "items": [[]]}}]},
    {"type": "AnnotationCollection", "first": 5},
    {"type": "Annotation", "target": {"source": {"id": 3}}},
    {"type": "Annotation", "body": {"type": "SpecificResource"}, "target": {"selector": [[{"type": "SvgSelector"}]]}},
])
def test_garbage_never_raises(doc: Any):
    assert_clean_failure(read(doc))


def test_unknown_results_always_explain():
    for doc in (None, {}, {"type": "OrderedCollection"}, {"type": "Canvas", "id": "x"}, {"@type": "fish"}):
        result = read(doc)
        assert result.type == "Unknown" and result.resource is None
        assert any(p.severity == "error" for p in result.problems)


def test_activity_streams_and_info_json_are_recognised():
    assert "Change Discovery" in read({"@context": "http://iiif.io/api/discovery/1/context.json",
                                       "type": "OrderedCollection"}).problems[0].what
    info = {"@context": "http://iiif.io/api/image/2/context.json", "@id": "https://x/y", "width": 1, "height": 1,
            "protocol": "http://iiif.io/api/image", "profile": "http://iiif.io/api/image/2/level0.json"}
    assert "read_info_json" in read(info).problems[0].what


def test_read_bytes_invalid_json_names_line_and_column():
    result = read_bytes(b'{\n  "a": 1,\n  oops\n}')
    assert (result.type, result.version, result.resource) == ("Unknown", None, None)
    [problem] = result.problems
    assert problem.where == "document" and problem.severity == "error"
    assert problem.what.startswith("not valid JSON: line 3 column 3: ")


def test_read_bytes_uses_url_as_where():
    [problem] = read_bytes("", url="https://example.org/m.json").problems
    assert problem.where == "https://example.org/m.json"
    assert problem.what == "not valid JSON: line 1 column 1: Expecting value"


def test_read_bytes_not_utf8():
    [problem] = read_bytes(b'{"label": "\xff"}').problems
    assert problem.what.startswith("not valid JSON: not UTF-8") and "0xff" in problem.what


def test_read_bytes_accepts_bom_and_str():
    doc = json.dumps(V2_MANIFEST)
    assert read_bytes(b"\xef\xbb\xbf" + doc.encode()).type == "Manifest"
    assert read_bytes(doc).type == "Manifest"
    assert read_bytes(memoryview(doc.encode())).resource.id == V2_MANIFEST["@id"]


def test_read_bytes_deeply_nested_json():
    result = read_bytes("[" * 100_000 + "]" * 100_000)
    assert result.type == "Unknown" and "not valid JSON" in result.problems[0].what


def test_read_bytes_wrong_argument_type():
    assert "expected bytes or text" in read_bytes(12).problems[0].what  # type: ignore[arg-type]


def test_where_is_prefixed_with_url():
    result = read({"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Manifest",
                   "id": "https://x/m", "label": {"en": ["m"]}, "items": [{"type": "Canvas"}]}, url="https://x/m ")
    assert {p.where for p in result.problems} >= {"https://x/m items[0].id", "https://x/m items[0]"}


def test_placeholders_reported_once_per_occurrence_up_to_a_limit():
    doc = copy.deepcopy(V2_MANIFEST)
    doc["metadata"] = [{"label": f"{{{{ site.label{i} }}}}", "value": "v"} for i in range(8)]
    result = read(doc)
    placeholder = [p for p in result.problems if "placeholder" in p.what]
    assert len(placeholder) == 6  # five named, then one counting the rest
    assert placeholder[0].where == "metadata[0].label" and "{{ site.label0 }}" in placeholder[0].what
    assert placeholder[-1].what.startswith("3 more")


# --- mutation fuzzing -----------------------------------------------------------------

JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", "asdf#xywh=1,2", "rdf:nil", [], {}, [None], [[]], {"id": 5},
                   {"type": "Choice", "items": [1, "a"]}, {"@type": "oa:Choice", "default": None},
                   {"type": "SpecificResource", "selector": 7}, {"@value": 3}, {"en": "x"},
                   "<svg><path d='M0,0 Z 1'/></svg>", {"type": "SvgSelector", "value": "<svg><path d='Q'/></svg>"}]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, path + (i,))
    return out


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
    return doc


@pytest.mark.parametrize("name, base", [("v2", V2_MANIFEST), ("v3", V3_MANIFEST), ("mirador2", MIRADOR2_ANNOTATION)])
def test_mutated_documents_never_break_the_reader(name: str, base: dict):
    rng = random.Random(f"loupe-{name}")  # deterministic
    for _ in range(400):
        doc = _mutate(base, rng)
        result = read(doc, url="https://example.org/fuzz")
        assert isinstance(result, ReadResult)
        internal = [p for p in result.problems if "internal reader error" in p.what]
        assert not internal, f"{internal[0].what}\n{json.dumps(doc)[:2000]}"
