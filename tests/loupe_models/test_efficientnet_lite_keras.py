"""The Keras EfficientNet-Lite0 takes the package's weights by position and computes PyTorch's
features; its TensorFlow.js graph model (uint8) runs in Chromium and gives, there, exactly the
features Python computes for the browser (`browser_model`)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PROJECT_ROOT
from tests.support.chromium import chromium as launched_chromium
from tests.support.deps import need

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = need("tensorflow")
need("tf_keras")
need("loupe_models.efficientnet_lite.tfjs")  # sets what tensorflowjs needs to import quietly
with warnings.catch_warnings():  # tensorflow_hub (imported by tensorflowjs) still uses pkg_resources
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    need("tensorflowjs")

from loupe_models.efficientnet_lite import keras_model  # noqa: E402
from loupe_models.efficientnet_lite.tfjs import browser_model, export_graph_model  # noqa: E402

TFJS = PROJECT_ROOT / "lens" / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
# Ops of the exported graph: all standard, run by every TensorFlow.js backend.
STANDARD_OPS = {"AddV2", "Const", "FusedDepthwiseConv2dNative", "Identity", "Maximum", "Mean", "Mul", "Pad",
                "Placeholder", "Pow", "Rsqrt", "Square", "Sum", "_FusedConv2D"}


@pytest.fixture(scope="module")
def keras_lite(lite):
    try:  # only possible before TensorFlow's runtime starts; later tests inherit the first setting
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    return keras_model.from_checkpoint(lite.weights.path)


@pytest.fixture(scope="module")
def pixels(lens_data) -> np.ndarray:
    """One real artwork as the browser will feed it: (1, 224, 224, 3) RGB 0-255 floats."""
    image = Image.open(lens_data / "artworks" / "botticelli-birth-of-venus.jpg").convert("RGB")
    return np.asarray(image.resize((224, 224), Image.Resampling.BICUBIC), np.float32)[None]


def torch_features(lite, pixels: np.ndarray) -> np.ndarray:
    import torch

    x = torch.from_numpy((pixels - 127.0) / 128.0).permute(0, 3, 1, 2).contiguous()
    return lite.encode_pixels(x)[0]


def test_keras_takes_the_weights_by_position_and_agrees_with_pytorch(keras_lite, lite, pixels) -> None:
    assert keras_lite.count_params() == 3_413_024 and keras_lite.output_shape == (None, 1280)
    cosine = float(keras_lite(pixels).numpy()[0] @ torch_features(lite, pixels))
    assert cosine > 0.999, cosine


def test_without_head_the_model_is_smaller(lite) -> None:
    small = keras_model.from_checkpoint(lite.weights.path, head=False)
    assert small.output_shape == (None, 320) and small.count_params() == 2_998_304


@pytest.fixture(scope="module")
def exported(keras_lite, tmp_path_factory):
    return export_graph_model(keras_lite, tmp_path_factory.mktemp("tfjs") / "lite0", "uint8")


def test_export_is_a_small_graph_model_of_standard_ops(exported) -> None:
    model = json.loads((exported.folder / "model.json").read_text())
    assert model["format"] == "graph-model"
    assert {n["op"] for n in model["modelTopology"]["node"]} <= STANDARD_OPS
    weights = [w for group in model["weightsManifest"] for w in group["weights"]]
    floats = [w for w in weights if w["dtype"] == "float32"]  # int32 constants (paddings, axes) stay
    assert len(floats) > 60 and all(w.get("quantization", {}).get("dtype") == "uint8" for w in floats)
    assert 3.2e6 < exported.bytes < 3.6e6, exported.bytes  # measured 3.44 MB with the 1280 head
    assert exported.meta["output"]["dim"] == 1280


@pytest.fixture(scope="module")
def chromium():
    with launched_chromium(TFJS) as browser:
        yield browser


def run_in_browser(browser, folder: Path, pixels: np.ndarray) -> np.ndarray:
    """Features of `pixels` from the graph model in `folder`, on TensorFlow.js' CPU backend
    (the reference backend: float32 like Python). Files are served from disk by routing."""
    served = {"tf.min.js": TFJS, **{f"model/{p.name}": p for p in folder.iterdir()}}

    def serve(route) -> None:
        name = route.request.url.split("//loupe.test/", 1)[1]
        if name == "":
            return route.fulfill(body="<!doctype html><title>parity</title>", content_type="text/html")
        return route.fulfill(path=str(served[name])) if name in served else route.fulfill(status=404)

    page = browser.new_page()
    try:
        page.route("http://loupe.test/**", serve)
        page.goto("http://loupe.test/")
        page.add_script_tag(url="http://loupe.test/tf.min.js")
        values = page.evaluate("""async ([pixels, shape]) => {
            await tf.setBackend('cpu'); await tf.ready();
            const model = await tf.loadGraphModel('http://loupe.test/model/model.json');
            const y = model.predict(tf.tensor(pixels, shape, 'float32'));
            return Array.from(await y.data());
        }""", [pixels.reshape(-1).tolist(), list(pixels.shape)])
    finally:
        page.close()
    return np.asarray(values, np.float32)


@pytest.mark.slow
@pytest.mark.shared_data
def test_browser_features_equal_python_features(chromium, exported, keras_lite, lite, pixels) -> None:
    in_browser = run_in_browser(chromium, exported.folder, pixels)
    assert in_browser.shape == (1280,)
    python = browser_model(keras_lite, "uint8")(pixels).numpy()[0]
    assert float(in_browser @ python) > 0.9999
    # What uint8 weights cost against the float32 model (measured 0.93): descriptors the
    # browser compares with must come from `browser_model`, not from the float32 model.
    assert 0.9 < float(in_browser @ torch_features(lite, pixels)) < 0.99
