"""SVG selectors keep their geometry and lose everything that could act."""

from __future__ import annotations

import pytest

from iiif.svg import svg_shapes
from iiif.svg_sanitiser import sanitise_svg
from tests.support.xss import SVG_PAYLOADS, assert_safe_svg


@pytest.mark.parametrize("svg", SVG_PAYLOADS)
def test_hostile_svg_keeps_only_its_shape(svg: str) -> None:
    clean, removed = sanitise_svg(svg)
    assert_safe_svg(clean, svg)
    assert removed, svg  # the curator is told
    assert len(svg_shapes(clean)) == 1, clean  # the outline survives
    assert sanitise_svg(clean) == (clean, [])  # stable


def test_tool_written_svg_is_kept_quietly() -> None:
    """Mirador 2/3 and Annotorious write paper.js data, styles and namespaces: harmless,
    dropped without a warning; the geometry and colours stay."""
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink'>"
           "<path xmlns=\"http://www.w3.org/2000/svg\" d=\"M100,200c0,-50 150,-50 150,0z\" "
           "data-paper-data=\"{&quot;strokeWidth&quot;:1}\" id=\"ellipse_1\" fill-opacity=\"0\" fill=\"#00bfff\" "
           "fill-rule=\"nonzero\" stroke=\"#00bfff\" stroke-width=\"1\" style=\"mix-blend-mode: normal\"/></svg>")
    clean, removed = sanitise_svg(svg)
    assert removed == []
    assert clean == ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M100,200c0,-50 150,-50 150,0z" '
                     'id="ellipse_1" fill-opacity="0" fill="#00bfff" fill-rule="nonzero" stroke="#00bfff" '
                     'stroke-width="1"/></svg>')
    assert svg_shapes(clean) == svg_shapes(svg)


def test_svg_spelling_of_attributes_is_restored() -> None:
    clean, _ = sanitise_svg("<SVG VIEWBOX='0 0 10 10'><RECT X='1' Y='1' WIDTH='2' HEIGHT='2' TRANSFORM='rotate(45)'/></SVG>")
    assert clean == ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="1" y="1" width="2" '
                     'height="2" transform="rotate(45)"/></svg>')
