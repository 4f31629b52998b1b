"""Visitor-camera augmentation: how a visitor's phone sees an artwork in a gallery.

Pure functions: a sample (image, boxes, labels, source) and a seed in, a view out; the same
seed gives the same view in any process. Used by the detector and lens training jobs and by
``loupe augment`` (a contact sheet of the pipeline).

* `config` — `VisitorCamera`, every probability and range as data;
* `samples` — `Sample` and `View`, seeds per view;
* `boxes` — boxes through a homography, clipped, dropped when mostly out of view;
* `scene` — the artwork hung in a gallery: wall, frame, neighbouring works, label;
* `occluders` — people, glare and specular highlights, smudges on the lens, vignetting;
* `camera` — `visitor_view`: framing, viewing angle, scene, occluders, then albumentations
  for colour temperature, brightness, contrast, gamma, blur, sensor noise and JPEG;
* `copy_paste` — annotated regions pasted onto other canvases for rare classes;
* `split` — training and validation by source image, before augmenting;
* `parallel` — many views across processes, reproducibly;
* `contact_sheet` — a PNG grid of views with their boxes.

This package's ``__init__`` and `config`, `samples`, `split` import no OpenCV or
albumentations; the others do.
"""

from loupe_models.augmentation.config import GEOMETRY_ONLY, VisitorCamera
from loupe_models.augmentation.samples import Sample, View, view_seed
from loupe_models.augmentation.split import Split, split_by_source

__all__ = ["GEOMETRY_ONLY", "Sample", "Split", "View", "VisitorCamera", "split_by_source", "view_seed"]
