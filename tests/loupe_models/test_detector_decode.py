"""The detector's numpy side: targets and decoding agree (a perfect output gives back its
boxes), AP and mAP@0.5 on known cases, thresholds calibrated for F1, the split by source."""

from __future__ import annotations

import numpy as np
import pytest

from loupe_models.augmentation import Sample
from loupe_models.detector.config import Detection, DetectorConfig
from loupe_models.detector.decode import decode, letterbox, peaks
from loupe_models.detector.metrics import Matcher, average_precision, calibrate, found_share, summary
from loupe_models.detector.targets import targets

CONFIG = DetectorConfig(("angel", "virgin", "dove"), input_size=256)


def perfect_output(boxes: np.ndarray, classes: list[int]) -> np.ndarray:
    heat, box, _ = targets(boxes, classes, len(CONFIG.classes), CONFIG.grid)
    logits = np.log(np.clip(heat, 1e-6, 1 - 1e-6) / (1 - np.clip(heat, 1e-6, 1 - 1e-6)))
    return np.concatenate([logits, box.reshape(CONFIG.grid, CONFIG.grid, -1)], axis=-1)


def test_decoding_a_perfect_output_gives_back_the_boxes_even_where_classes_overlap() -> None:
    boxes = np.array([[10, 20, 110, 200], [30, 40, 130, 150], [150, 60, 250, 250]], np.float32)
    out = perfect_output(boxes, [0, 1, 2])
    assert out.shape == (16, 16, CONFIG.channels)
    found = decode(out, CONFIG, 0.9)
    assert sorted(d.label for d in found) == ["angel", "dove", "virgin"]
    for d in found:
        np.testing.assert_allclose(d.box, boxes[CONFIG.classes.index(d.label)], atol=1e-3)
    # Letterboxed at scale 0.5 and clipped to the picture: boxes come back in picture pixels.
    half = decode(out, CONFIG, 0.9, scale=0.5, picture_size=(400, 300))
    assert max(d.box[2] for d in half) <= 400 and max(d.box[3] for d in half) <= 300
    assert {d.label: d.box[0] for d in half}["angel"] == pytest.approx(20, abs=1e-2)


def test_thresholds_are_per_class_and_peaks_are_local_maxima() -> None:
    out = perfect_output(np.array([[10, 20, 110, 200]], np.float32), [0])
    out[..., 0] -= 1.0  # the angel's peak now scores sigmoid(large - 1)
    assert decode(out, CONFIG, [1.0, 0.5, 0.5]) == []
    assert len(decode(out, CONFIG, [0.5, 0.5, 0.5])) == 1
    scores = np.zeros((4, 4, 1))
    scores[1, 1] = scores[2, 3] = 1.0
    scores[1, 2] = 0.5
    assert np.argwhere((peaks(scores) & (scores > 0))[..., 0]).tolist() == [[1, 1], [2, 3]]


def test_letterbox_keeps_the_aspect_top_left_and_pads() -> None:
    picture = np.full((100, 200, 3), 10, np.uint8)
    pixels, scale = letterbox(picture, 128)
    assert pixels.shape == (128, 128, 3) and scale == pytest.approx(0.64)
    assert pixels[:64].mean() == pytest.approx(10) and pixels[64:].mean() == pytest.approx(127)


def test_average_precision_of_known_rankings() -> None:
    assert average_precision([0.9, 0.8], [True, True], 2) == pytest.approx(1.0)
    assert average_precision([0.9, 0.8], [False, True], 2) == pytest.approx(0.25)  # recall 0.5 at precision 0.5
    assert average_precision([], [], 3) == 0.0
    assert np.isnan(average_precision([0.5], [False], 0))


def test_matching_at_iou_half_calibration_and_map() -> None:
    matcher = Matcher(CONFIG.classes)
    truth = np.array([[0, 0, 100, 100], [100, 100, 200, 200]], np.float32)
    detections = [Detection("angel", 0.9, (2, 2, 100, 100)), Detection("angel", 0.8, (0, 0, 100, 100)),  # duplicate
                  Detection("virgin", 0.7, (100, 100, 190, 200)), Detection("virgin", 0.2, (0, 0, 10, 10))]
    matcher.add(detections, truth, ("angel", "virgin"))
    angel, virgin = matcher.records["angel"], matcher.records["virgin"]
    assert angel.hits == [True, False] and virgin.hits == [True, False]
    threshold, info = calibrate(virgin)
    assert threshold == pytest.approx(0.7) and info["f1"] == 1.0
    result = summary(matcher)
    assert result["map50"] == pytest.approx(1.0) and result["classes_evaluated"] == 2
    assert result["per_class"]["dove"]["ap50"] is None and result["per_class"]["dove"]["calibrated"] is False
    assert found_share(matcher, result["thresholds"]) == {"recall": 1.0, "precision": 1.0, "boxes": 2}


def test_a_class_on_one_image_only_is_held_out_by_view_others_by_source() -> None:
    from loupe_models.detector.data import detection_split

    image = np.zeros((8, 8, 3), np.uint8)
    samples = [Sample("annunciation", image, [[0, 0, 4, 4]], ("gabriel",))]
    samples += [Sample(f"saint-{i}", image, [[0, 0, 4, 4]], ("halo",)) for i in range(10)]
    samples += [Sample(f"background-{i}", image) for i in range(10)]
    split = detection_split(samples, 0.3, seed=1)
    train, held = {s.source_id for s in split.train}, {s.source_id for s in split.validation}
    assert train & held == {"annunciation"} == set(split.views_only)
    assert held - {"annunciation"} and any(s.startswith("saint-") for s in held)
    assert {lbl for s in split.train for lbl in s.labels} == {"gabriel", "halo"}
