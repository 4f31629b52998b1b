"""Targets, media fragments, selectors and SVG outlines."""

from __future__ import annotations

import math

import pytest

from iiif._context import ReadContext
from iiif.model import Box
from iiif.selectors import fragment_params, image_api_region, parse_selector, parse_target, parse_xywh
from iiif.svg import SvgError, bounding_box, path_points, svg_shapes

CANVAS = "https://example.org/canvas/1"


def ctx_with_canvas(width: int | None = 2000, height: int | None = 1000) -> ReadContext:
    ctx = ReadContext()
    ctx.canvas_sizes[CANVAS] = (width, height)
    return ctx


# --- media fragments ----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("1,2,3,4", ("pixel", (1, 2, 3, 4))),
    ("pixel:10,20,30,40", ("pixel", (10, 20, 30, 40))),
    ("percent:10,20,30.5,40", ("percent", (10, 20, 30.5, 40))),
    (" 1.5, 2.5 ,3,4 ", ("pixel", (1.5, 2.5, 3, 4))),
])
def test_parse_xywh_accepts_units_and_spaces(value, expected):
    assert parse_xywh(value) == expected


@pytest.mark.parametrize("value", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,0,4", "1,2,3,-4", "inch:1,2,3,4", ""])
def test_parse_xywh_rejects_malformed(value):
    with pytest.raises(ValueError):
        parse_xywh(value)


def test_fragment_params_split_on_ampersand():
    assert fragment_params("#xywh=1,2,3,4&t=5,6") == {"xywh": "1,2,3,4", "t": "5,6"}


def test_string_target_with_xywh_strips_fragment_from_source():
    ctx = ReadContext()
    [t] = parse_target(f"  {CANVAS}#xywh=265,661,1260,1239 ", "target", ctx)
    assert t.source == CANVAS
    assert t.box == Box(265, 661, 1260, 1239)
    assert t.selector == "xywh"
    assert ctx.problems == []


def test_pixel_unit_is_the_same_as_no_unit():
    [t] = parse_target(f"{CANVAS}#xywh=pixel:1,2,3,4", "on", ReadContext())
    assert t.box == Box(1, 2, 3, 4)


def test_percent_xywh_converted_with_known_canvas_size():
    ctx = ctx_with_canvas(2000, 1000)
    [t] = parse_target(f"{CANVAS}#xywh=percent:10,20,50,25", "target", ctx)
    assert t.box == Box(200, 200, 1000, 250)
    assert t.selector == "percent"
    assert ctx.problems == []


def test_percent_xywh_without_canvas_size_is_a_problem_and_no_box():
    ctx = ReadContext()
    [t] = parse_target(f"{CANVAS}#xywh=percent:10,20,50,25", "items[0].target", ctx)
    assert t.box is None
    assert t.selector == "percent"
    [p] = ctx.problems
    assert p.where == "items[0].target" and "canvas size is unknown" in p.what


def test_percent_in_fragment_selector_converted_too():
    ctx = ctx_with_canvas(400, 200)
    [t] = parse_target({"type": "SpecificResource", "source": CANVAS,
                        "selector": {"type": "FragmentSelector", "value": "xywh=percent:0,0,50,50"}}, "target", ctx)
    assert t.box == Box(0, 0, 200, 100)


def test_time_fragment_targets_whole_canvas_with_warning():
    ctx = ReadContext()
    [t] = parse_target(f"{CANVAS}#t=0,10", "target", ctx)
    assert t.source == CANVAS and t.box is None
    assert ctx.problems[0].severity == "warning"


def test_invalid_xywh_reported_as_error():
    ctx = ReadContext()
    [t] = parse_target(f"{CANVAS}#xywh=1,2,three,4", "on", ctx)
    assert t.box is None
    assert ctx.problems[0].severity == "error" and "invalid region" in ctx.problems[0].what


# --- dict targets ------------------------------------------------------------------------

def test_specific_resource_with_fragment_selector_and_part_of():
    value = {
        "type": "SpecificResource",
        "source": {"id": CANVAS, "type": "Canvas",
                   "partOf": [{"id": "https://example.org/manifest", "type": "Manifest"}]},
        "selector": {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                     "value": "xywh=300,800,1200,1200"},
    }
    [t] = parse_target(value, "target", ReadContext())
    assert (t.source, t.box, t.selector, t.manifest) == (CANVAS, Box(300, 800, 1200, 1200), "FragmentSelector",
                                                         "https://example.org/manifest")


def test_v2_specific_resource_uses_full_and_within():
    value = {"@type": "oa:SpecificResource", "full": CANVAS,
             "selector": {"@type": "oa:FragmentSelector", "value": "xywh=1,2,3,4"},
             "within": {"@id": "https://example.org/m.json", "@type": "sc:Manifest"}}
    [t] = parse_target(value, "on", ReadContext())
    assert t.source == CANVAS and t.box == Box(1, 2, 3, 4) and t.manifest == "https://example.org/m.json"


def test_canvas_object_target_with_fragment_in_id():
    value = {"id": f"{CANVAS}#xywh=1528,3024,344,408", "type": "Canvas",
             "partOf": [{"id": "https://example.org/manifest", "type": "Manifest"}]}
    [t] = parse_target(value, "target", ReadContext())
    assert t.source == CANVAS and t.box == Box(1528, 3024, 344, 408) and t.manifest == "https://example.org/manifest"


def test_on_arrays_give_one_target_each():
    targets = parse_target([f"{CANVAS}#xywh=1,1,1,1", "https://example.org/canvas/2"], "on", ReadContext())
    assert [t.source for t in targets] == [CANVAS, "https://example.org/canvas/2"]


def test_point_selector_gives_point_not_box():
    [t] = parse_target({"type": "SpecificResource", "source": CANVAS,
                        "selector": {"type": "PointSelector", "x": 3385, "y": 1464}}, "target", ReadContext())
    assert t.point == (3385, 1464) and t.box is None and t.selector == "PointSelector"


def test_target_without_source_is_an_error():
    ctx = ReadContext()
    assert parse_target({"type": "SpecificResource", "selector": {"type": "PointSelector", "x": 1, "y": 1}},
                        "target", ctx) == []
    assert ctx.problems[0].severity == "error"


@pytest.mark.parametrize("junk", [1.0, True, "", {"type": "Canvas"}, [None]])
def test_junk_targets_are_errors_not_exceptions(junk):
    ctx = ReadContext()
    assert parse_target(junk, "on", ctx) == []
    assert ctx.problems and ctx.problems[0].severity == "error"


# --- SVG and Choice selectors ------------------------------------------------------------

RECIPE_0261_SVG = ("<svg xmlns='http://www.w3.org/2000/svg'><g><path d='M270.000000,1900.000000 "
                   "L1530.000000,1900.000000 L1530.000000,1610.000000 L1315.000000,1300.000000 "
                   "L1200.000000,986.000000 L904.000000,661.000000 L600.000000,986.000000 "
                   "L500.000000,1300.000000 L270,1630 L270.000000,1900.000000' /></g></svg>")


def test_svg_selector_gives_polygon_and_bounding_box():
    ctx = ReadContext()
    region = parse_selector({"type": "SvgSelector", "value": RECIPE_0261_SVG}, "selector", ctx)
    assert region.selector == "SvgSelector"
    assert region.polygon[0] == (270, 1900) and len(region.polygon) == 9  # closing point dropped
    assert region.box == Box(270, 661, 1260, 1239)
    # Kept as its sanitised geometry (iiif.svg_sanitiser): same shape, canonical quoting.
    assert region.svg == RECIPE_0261_SVG.replace("'", '"').replace('" /></g>', '"/></g>')
    assert ctx.problems == []


# A Mirador 2 annotation selector: oa:Choice of an xywh default and an SVG item (paper.js
# writes relative path commands and curves).
MIRADOR2_SVG = ('<svg xmlns="http://www.w3.org/2000/svg"><path xmlns="http://www.w3.org/2000/svg" '
                'd="M100,200h150v100h-150z" data-paper-data="{&quot;strokeWidth&quot;:1}" '
                'id="rectangle_1" fill-opacity="0" stroke="#00bfff"/></svg>')


def test_mirador2_choice_prefers_svg_polygon_and_keeps_xywh_box():
    selector = {"@type": "oa:Choice",
                "default": {"@type": "oa:FragmentSelector", "value": "xywh=99,199,152,102"},
                "item": {"@type": "oa:SvgSelector", "value": MIRADOR2_SVG}}
    ctx = ReadContext()
    region = parse_selector(selector, "on.selector", ctx)
    assert region.selector == "Choice"
    assert region.box == Box(99, 199, 152, 102)  # the xywh kept as the box
    assert region.polygon == [(100, 200), (250, 200), (250, 300), (100, 300)]
    assert region.svg == ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M100,200h150v100h-150z" '
                          'id="rectangle_1" fill-opacity="0" stroke="#00bfff"/></svg>')
    assert ctx.problems == []


def test_list_of_selectors_merged_like_a_choice():
    region = parse_selector([{"type": "SvgSelector", "value": "<svg><polygon points='0,0 10,0 10,10'/></svg>"},
                             {"type": "FragmentSelector", "value": "xywh=0,0,10,10"}], "s", ReadContext())
    assert region.polygon == [(0, 0), (10, 0), (10, 10)] and region.box == Box(0, 0, 10, 10)


def test_svg_only_box_is_the_polygon_bounds():
    region = parse_selector({"type": "SvgSelector", "value": "<svg><rect x='5' y='6' width='7' height='8'/></svg>"},
                            "s", ReadContext())
    assert region.box == Box(5, 6, 7, 8)
    assert region.polygon == [(5, 6), (12, 6), (12, 14), (5, 14)]


def test_svg_without_shapes_is_an_error():
    ctx = ReadContext()
    region = parse_selector({"type": "SvgSelector", "value": "<svg><text>hi</text></svg>"}, "s", ctx)
    assert region.box is None and ctx.problems[0].severity == "error"


def test_svg_transform_is_reported():
    ctx = ReadContext()
    parse_selector({"type": "SvgSelector", "value": "<svg><g transform='scale(2)'><rect width='1' height='1'/></g></svg>"},
                   "s", ctx)
    assert any("transform" in p.what for p in ctx.problems)


def test_unsupported_selector_is_a_warning():
    ctx = ReadContext()
    region = parse_selector({"type": "TextQuoteSelector", "exact": "bird"}, "s", ctx)
    assert region.box is None and ctx.problems[0].severity == "warning"


def test_image_api_selector_region():
    region = parse_selector({"@type": "iiif:ImageApiSelector", "region": "100,100,1000,1600"}, "s", ReadContext())
    assert region.box == Box(100, 100, 1000, 1600) and region.selector == "ImageApiSelector"


def test_image_api_region_variants():
    ctx = ReadContext()
    assert image_api_region("full", "r", ctx, (100, 50)) is None
    assert image_api_region("square", "r", ctx, (100, 50)) == Box(25, 0, 50, 50)
    assert image_api_region("pct:10,10,50,50", "r", ctx, (200, 100)) == Box(20, 10, 100, 50)
    assert ctx.problems == []
    assert image_api_region("pct:10,10,50,50", "r", ctx, None) is None
    assert ctx.problems[0].severity == "warning"


# --- SVG path data -----------------------------------------------------------------------

def test_relative_path_commands_and_implicit_lineto():
    [points] = path_points("m10,10 20,0 0,20 -20,0z")
    assert points == [(10, 10), (30, 10), (30, 30), (10, 30)]


def test_cubic_curve_is_sampled_so_bounds_include_the_bulge():
    [points] = path_points("M0,0 C0,100 100,100 100,0")
    x, y, w, h = bounding_box(points)
    assert (x, w) == (0, 100)
    assert 70 < h <= 75  # a cubic with both controls at 100 peaks at 75


def test_smooth_and_quadratic_curves():
    [points] = path_points("M0,0 Q50,100 100,0 T200,0 S250,-50 300,0")
    assert points[-1] == (300, 0)
    x, y, w, h = bounding_box(points)
    assert y < -20 and y + h > 40


def test_arc_with_compact_flags():
    # Half circle of radius 50 from (0,50) to (100,50), flags written without separators.
    [points] = path_points("M0,50 a50,50 0 01100,0")
    x, y, w, h = bounding_box(points)
    assert points[-1] == pytest.approx((100, 50))
    assert y == pytest.approx(0, abs=1) and w == pytest.approx(100)


def test_multiple_subpaths():
    shapes = path_points("M0,0 L1,0 L1,1 Z M5,5 L6,5 L6,6 Z")
    assert len(shapes) == 2 and shapes[1][0] == (5, 5)


def test_circle_and_ellipse_approximated():
    [circle] = svg_shapes("<svg><circle cx='50' cy='50' r='10'/></svg>")
    x, y, w, h = bounding_box(circle)
    assert (x, y, w, h) == pytest.approx((40, 40, 20, 20))
    assert all(math.dist(p, (50, 50)) == pytest.approx(10) for p in circle)


@pytest.mark.parametrize("d", ["L", "M0,0 Lx", "M0,0 Z 5,5", "M0", "Q 1,2"])
def test_malformed_path_data_raises_svg_error(d):
    with pytest.raises(SvgError):
        path_points(d)


def test_malformed_svg_in_selector_is_reported_not_raised():
    ctx = ReadContext()
    region = parse_selector({"type": "SvgSelector", "value": "<svg><path d='M0,0 Z 5,5'/></svg>"}, "s", ctx)
    assert region.polygon is None and ctx.problems[0].severity == "error"
