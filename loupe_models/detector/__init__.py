"""A single-stage detector of curators' annotated regions on the EfficientNet-Lite0 backbone.

CenterNet-style: one stride-16 map (the stride-32 features upsampled and added), per class a
centre heatmap and a box (centre offset, log width and height), so that overlapping details of
one artwork each keep their own box. Trained in PyTorch on visitor-camera views
(``loupe_models.augmentation``), mirrored in Keras with the same weights for a TensorFlow.js
graph model (uint8) that the lens runs; Python and the browser decode the output the same way.

* `config` — `DetectorConfig`: input size, stride, channels, as data (no torch);
* `decode` — letterboxing a picture into the input, and the output into boxes (numpy; the
  browser's ``lens/src/detect.js`` does the same);
* `targets` — training targets from boxes (numpy);
* `metrics` — AP and mAP@0.5, per-class thresholds calibrated on held-out views;
* `data` — the split (by source image where a class allows it) and pools of views;
* `torch_model`, `trainer` — the model, its loss, the training loop with resumable state;
* `keras_model`, `export` — the Keras twin and the TensorFlow.js export with loupe.json;
* `store` — versioned detectors under ``<data_dir>/models/detectors/`` (``NAME@vN``);
* `lens_folder` — samples from a folder of artworks with a ``details.csv`` (the shared lens data).

Importing this package, `config`, `decode`, `targets`, `metrics` and `store` imports neither
torch nor TensorFlow.
"""

from loupe_models.detector.config import DetectorConfig

__all__ = ["DetectorConfig"]
