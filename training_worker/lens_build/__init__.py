"""The ``lens_build`` job: a guide's lens bundle (``lens/BUNDLE.md``). Reads the guide from the
catalog (``loupe_guide``), applies the curators' overrides, fetches each artwork's image,
fine-tunes and exports the recognition models, calibrates them, and writes a new bundle
version under ``<data_dir>/lens/<guide>/v<N>/``, ``current.json`` last.

``job.lens_build_job`` is the handler. Importing this package imports neither torch nor
TensorFlow.
"""

from training_worker.jobs.kind import JobKind

from .params import LensBuildParams, check_lens_build

KIND = JobKind(
    name="lens_build", title="Build a lens guide's bundle (recognition models, guide texts)", params=LensBuildParams,
    check=check_lens_build, handler="training_worker.lens_build.job:lens_build_job", progress_unit="step",
    description="Reads the guide (artworks, details, texts in every language, media) from the catalog, applies the "
                "curators' overrides, fine-tunes EfficientNet-Lite0 on visitor-camera views of the artworks, exports "
                "TensorFlow.js models (uint8), descriptors and ORB features, calibrates distances, thresholds and "
                "the minimum of inliers, and writes a new version of <data_dir>/lens/<guide>/ (lens/BUNDLE.md). "
                "A retried job builds its version again from the start.")

__all__ = ["KIND", "LensBuildParams"]
