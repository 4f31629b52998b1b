"""The lens's recognition: what the browser computes for a camera frame, in Python.

* `frames` — a frame as the models see it (model input, ORB grey image), the same arithmetic
  as ``lens/src/recognizer.js``;
* `orb` — local features of the reference images and the verification of a frame against them;
* `bundle` — a bundle's files (``lens/BUNDLE.md``) read and written;
* `decision` — the decision of ``lens/BUNDLE.md`` (shortlist, verification, detail);
* `training` — fine-tuning the backbone on visitor-camera views (metric learning);
* `calibration` — per-item distances, per-class thresholds, the minimum of inliers.

``frames``, ``orb`` and ``decision`` import OpenCV; `training` imports torch; the model parts
of `bundle` import TensorFlow when called.
"""
