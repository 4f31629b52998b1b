"""Visitor-camera augmentation: boxes stay on what they box, the split never leaks, views do
not depend on the number of processes, copy-paste fills rare classes, the contact sheet."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from tests.support.deps import need

# Imports albumentations (with its update check off) and OpenCV.
need("loupe_models.augmentation.camera")

from loupe_models.augmentation import GEOMETRY_ONLY, Sample, VisitorCamera, split_by_source, view_seed  # noqa: E402
from loupe_models.augmentation.boxes import clip_visible, transform_boxes  # noqa: E402
from loupe_models.augmentation.camera import visitor_view, working_image  # noqa: E402
from loupe_models.augmentation.contact_sheet import write_contact_sheet  # noqa: E402
from loupe_models.augmentation.copy_paste import copy_paste, label_counts  # noqa: E402
from loupe_models.augmentation.parallel import augment, views_of  # noqa: E402

MAGENTA = (255, 0, 255)
SMALL = dataclasses.replace(VisitorCamera(), long_side=256, work_side=640)


@pytest.fixture(scope="module")
def marked(lens_data) -> Sample:
    """A real artwork with a box filled in a colour no painting or gallery here has."""
    image, _ = working_image(lens_data / "artworks" / "botticelli-birth-of-venus.jpg", 800)
    image = image.copy()
    h, w = image.shape[:2]
    box = np.array([w * 0.55, h * 0.2, w * 0.8, h * 0.6]).round()
    x0, y0, x1, y1 = box.astype(int)
    image[y0:y1, x0:x1] = MAGENTA
    return Sample("venus-marked", image, [box], ("mark",))


def magenta(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    return (r > 150) & (b > 150) & (g < 100) & (np.abs(r - b) < 80)


def inside(mask: np.ndarray, box: np.ndarray, pad: float) -> float:
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = box
    return float(np.mean((xs >= x0 - pad) & (xs <= x1 + pad) & (ys >= y0 - pad) & (ys <= y1 + pad)))


@pytest.mark.shared_data
def test_boxes_follow_the_image_through_geometry(marked) -> None:
    camera = dataclasses.replace(GEOMETRY_ONLY, long_side=256, work_side=800)
    kept = 0
    for i in range(16):
        view = visitor_view(marked, view_seed(7, marked.key, i), camera, index=i)
        mask = magenta(view.image)
        if not len(view.boxes):  # dropped: most of the mark is out of view
            continue
        kept += 1
        assert view.labels == ("mark",)
        assert inside(mask, view.boxes[0], pad=1.5) > 0.99  # all of the mark is in its box
        ys, xs = np.nonzero(mask)  # and the box is not much larger than the mark it holds
        seen = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
        x0, y0, x1, y1 = view.boxes[0]
        assert seen / ((x1 - x0) * (y1 - y0)) > 0.85, view.info
    assert kept >= 8


@pytest.mark.shared_data
def test_sample_to_photo_maps_each_point_of_the_work_where_it_landed(marked) -> None:
    """The exact map (not the boxes' rectangles): the mark's corners land on its box's sides and
    points inside the mark land on magenta pixels."""
    camera = dataclasses.replace(GEOMETRY_ONLY, long_side=256, work_side=400)  # the sample read at half size
    x0, y0, x1, y1 = marked.boxes[0]
    inner = np.array([[x0 + (x1 - x0) * u, y0 + (y1 - y0) * v, 1.0] for u in (0.25, 0.5, 0.75) for v in (0.25, 0.75)])
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], np.float64)
    checked = 0
    for view in views_of(marked, range(12), 3, camera):
        h = np.array(view.info["sample_to_photo"]).reshape(3, 3)
        p = corners @ h.T
        p = p[:, :2] / p[:, 2:]
        height, width = view.image.shape[:2]
        if not len(view.boxes) or p.min() < 0 or p[:, 0].max() > width or p[:, 1].max() > height:
            continue  # partly out of view: the box is clipped
        checked += 1
        bx0, by0, bx1, by1 = view.boxes[0]
        assert np.allclose([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()], [bx0, by0, bx1, by1], atol=1.0)
        q = inner @ h.T
        q = np.round(q[:, :2] / q[:, 2:]).astype(int)
        assert magenta(view.image)[q[:, 1], q[:, 0]].all(), view.info
    assert checked >= 4


@pytest.mark.shared_data
def test_boxes_follow_the_image_with_every_effect(marked) -> None:
    camera = dataclasses.replace(SMALL, work_side=800, people_p=0.0)  # people may cover the mark
    for i in range(8):
        view = visitor_view(marked, view_seed(11, marked.key, i), camera, index=i)
        mask = magenta(view.image)
        if len(view.boxes) and mask.sum() > 50:
            assert inside(mask, view.boxes[0], pad=4) > 0.95, view.info


def test_geometry_of_a_seed_does_not_depend_on_the_effects() -> None:
    rng = np.random.default_rng(0)
    sample = Sample("noise", rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), [[20, 20, 60, 80]], ("a",))
    plain = visitor_view(sample, 5, GEOMETRY_ONLY)
    full = visitor_view(sample, 5, dataclasses.replace(VisitorCamera(), people_p=0.0))
    assert plain.info["yaw"] == full.info["yaw"] and plain.image.shape == full.image.shape
    np.testing.assert_allclose(plain.boxes, full.boxes)


def test_a_box_mostly_out_of_view_is_dropped() -> None:
    boxes = np.array([[90, 10, 110, 30], [50, 10, 70, 30], [-30, 0, -10, 20]], np.float32)
    shift = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    mapped, valid = transform_boxes(boxes, shift)
    kept_boxes, kept = clip_visible(mapped, valid, (100, 100), 0.6)  # 50% of the first is in view
    assert list(kept) == [1] and kept_boxes.tolist() == [[50, 10, 70, 30]]
    behind = np.array([[1, 0, 0], [0, 1, 0], [-0.02, 0, 1]], float)  # x >= 50 maps behind the camera
    assert list(transform_boxes(boxes, behind)[1]) == [False, False, True]


def synthetic(n_sources: int, per_source: int = 2) -> list[Sample]:
    rng = np.random.default_rng(1)
    return [Sample(f"src-{s:02d}", rng.integers(0, 255, (90, 120, 3), dtype=np.uint8), [[10, 10, 50, 50]],
                   ("common" if s % 5 else "rare",))
            for s in range(n_sources) for _ in range(per_source)]


def test_the_split_never_leaks_a_source_image() -> None:
    samples = synthetic(25)
    split = split_by_source(samples, validation=0.2, seed=3)
    train, validation = split.sources()
    assert not train & validation and len(validation) == 5 and len(train) == 20
    assert split_by_source(samples, 0.2, seed=3) == split  # stable
    # Copy-paste after the split, on one side: every pasted pixel stays on its side.
    pasted = copy_paste(split.train, min_count=12, seed=0)
    assert pasted and all(s.sources <= train for s in pasted)
    with pytest.raises(ValueError, match="split before copy-paste"):
        split_by_source(list(split.train) + pasted)
    views = [v for vs in augment(split.validation, 2, seed=1, camera=SMALL) for v in vs]
    assert {v.source_id for v in views} <= validation


def test_copy_paste_brings_rare_classes_up_with_their_pixels() -> None:
    samples = synthetic(10, per_source=1)  # "rare": 2 boxes, "common": 8
    made = copy_paste(samples, min_count=5, seed=0)
    counts = label_counts(list(samples) + made)
    assert counts["rare"] >= 5 and len({s.key for s in made}) == len(made)
    sample = made[0]
    x0, y0, x1, y1 = sample.boxes[-1].round().astype(int)
    assert sample.labels[-1] == "rare" and sample.source_id not in sample.pasted_from
    source = next(s for s in samples if s.source_id in sample.pasted_from)
    patch = sample.image[y0 + 2:y1 - 2, x0 + 2:x1 - 2].astype(float)
    region = source.image[10:50, 10:50].astype(float)
    assert abs(patch.mean() - region.mean()) < 12  # the pasted pixels are the region's


def test_same_seed_same_views_in_one_or_two_processes() -> None:
    samples = synthetic(3, per_source=1)
    one = [v for vs in augment(samples, 2, seed=9, camera=SMALL, processes=1) for v in vs]
    two = [v for vs in augment(samples, 2, seed=9, camera=SMALL, processes=2) for v in vs]
    assert [(v.source_id, v.index) for v in one] == [(v.source_id, v.index) for v in two]
    for a, b in zip(one, two):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes) and a.info == b.info
    other = [v for vs in augment(samples, 2, seed=10, camera=SMALL) for v in vs]
    assert not np.array_equal(one[0].image, other[0].image)


def test_contact_sheet_is_a_png_grid(tmp_path, marked) -> None:
    views = [visitor_view(marked, view_seed(0, marked.key, i), SMALL, index=i) for i in range(4)]
    path = write_contact_sheet(tmp_path / "sheet.png", views, columns=2, cell=128)
    with Image.open(path) as sheet:
        assert sheet.format == "PNG" and sheet.size == (2 * 132 + 4, 2 * (128 + 14 + 4) + 4)
