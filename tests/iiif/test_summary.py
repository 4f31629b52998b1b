"""summarize(): the overview printed by ``loupe inspect``."""

from __future__ import annotations

from iiif.reader import read, read_bytes
from iiif.summary import summarize
from tests.iiif.test_reader_v2 import MANIFEST as V2_MANIFEST
from tests.iiif.test_reader_v3 import MANIFEST as V3_MANIFEST

KEYS = ["type", "version", "label", "canvases", "images", "annotations", "members", "problems"]


def test_manifest_summary_counts():
    summary = summarize(read(V3_MANIFEST))
    assert list(summary) == KEYS
    assert summary == {"type": "Manifest", "version": 3, "label": "Picture", "canvases": 1, "images": 1,
                       "annotations": 3, "members": 0, "problems": []}


def test_v2_label_prefers_english():
    summary = summarize(read(V2_MANIFEST))
    assert (summary["label"], summary["canvases"], summary["images"], summary["annotations"]) == ("Book 1", 2, 2, 1)


def test_collection_summary_counts_members():
    doc = {"@context": "http://iiif.io/api/presentation/2/context.json", "@id": "https://x/c", "@type": "sc:Collection",
           "label": {"@value": "Sammlung", "@language": "de"},
           "manifests": [{"@id": f"https://x/m{i}", "@type": "sc:Manifest"} for i in range(3)]}
    summary = summarize(read(doc))
    assert (summary["type"], summary["label"], summary["members"], summary["canvases"]) == ("Collection", "Sammlung", 3, 0)


def test_unknown_summary_lists_problems():
    summary = summarize(read_bytes(b"nope", url="https://x/y"))
    assert summary == {"type": "Unknown", "version": None, "label": "", "canvases": 0, "images": 0, "annotations": 0,
                       "members": 0, "problems": [{"where": "https://x/y", "severity": "error",
                                                   "what": "not valid JSON: line 1 column 1: Expecting value"}]}


def test_annotation_page_summary():
    doc = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": "https://x/p", "type": "AnnotationPage",
           "label": {"none": ["OCR"]},
           "items": [{"id": f"https://x/a{i}", "type": "Annotation", "motivation": "supplementing",
                      "body": {"type": "TextualBody", "value": "w"}, "target": "https://x/c#xywh=1,1,1,1"} for i in range(4)]}
    summary = summarize(read(doc))
    assert (summary["type"], summary["label"], summary["annotations"]) == ("AnnotationPage", "OCR", 4)
