"""Parameters of a ``lens_build`` job and the checks before one is submitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from connector.catalog import Catalog
from loupe_core.settings import Settings
from loupe_guide import GuideError, check_guide_id, guide_from_catalog
from loupe_guide.catalog import manifest_ids
from loupe_models.detector.store import DetectorStore
from loupe_models.training.checkpoints import UnknownCheckpoint
from training_worker.jobs.kind import UnknownReference
from training_worker.jobs.params import JobParams, ParamError, param

MODES = ("retrieval", "classify", "detect")


def parse_modes(value: object) -> str:
    names = [m.strip() for m in str(value).split(",") if m.strip()]
    unknown = [m for m in names if m not in MODES]
    if unknown or not names:
        raise ValueError(f"modes: a comma-separated list of {', '.join(MODES)} (not {value!r})")
    return ",".join(m for m in MODES if m in names or m == "retrieval")


@dataclass(frozen=True)
class LensBuildParams(JobParams):
    kind_name: ClassVar[str] = "lens_build"

    guide: str = param("default", "the guide: 'default' (every artwork), a defined guide or a source's name")
    collection: str = param("", "define the guide as this collection (a IIIF Collection URI, or a source's id, "
                                "name or URL) before building; empty: as defined")
    modes: str = param("retrieval,detect", "modes to build (retrieval always: classify and detect build on it)",
                       parse=parse_modes, schema={"type": "string"})
    views: int = param(12, "training views per artwork", minimum=2, maximum=500)
    epochs: int = param(6, "fine-tuning epochs", minimum=1, maximum=200)
    input_size: int = param(160, "model input side in pixels", minimum=64, maximum=320)
    calibration_views: int = param(2, "calibration views per artwork (never trained on)", minimum=1, maximum=100)
    non_artworks: int = param(60, "pictures of no known artwork for calibration", minimum=0, maximum=5000)
    processes: int = param(0, "processes making views (0: every core)", minimum=0, maximum=256)
    seed: int = param(0, "the same seed gives the same views")
    detector: str = param("", "detect mode with this trained detector (NAME or NAME@vN, `loupe detector train`), "
                              "its classes mapped to the guide's details by region label or tag; empty: the "
                              "details projected through the verification homography")


def check_lens_build(params: LensBuildParams, settings: Settings, catalog: Catalog) -> None:
    """The guide id is a slug and names a guide with at least one artwork; the detector exists."""
    if params.detector:
        if "detect" not in params.modes.split(","):
            raise ParamError(f"detector {params.detector!r} given, but modes {params.modes!r} leave detect out",
                             field="detector")
        try:
            found = DetectorStore(settings).get(params.detector)
        except UnknownCheckpoint as e:
            raise UnknownReference(str(e), field="detector", code="unknown_detector") from None
        if not (found.tfjs_folder / "model.json").is_file():
            raise ParamError(f"detector {found.ref!r} has no TensorFlow.js export in {found.tfjs_folder} "
                             "(train it with --export)", field="detector")
    try:
        check_guide_id(params.guide)
    except GuideError as e:
        raise ParamError(str(e), field="guide") from None
    if params.collection:
        try:
            manifest_ids(catalog, params.collection)
        except GuideError as e:
            raise UnknownReference(str(e), field="collection", code="unknown_collection") from None
        return
    try:
        guide = guide_from_catalog(catalog, settings.data_dir, params.guide)
    except GuideError as e:
        raise UnknownReference(str(e), field="guide", code="unknown_guide") from None
    if not guide.artworks:
        raise ParamError(f"guide {params.guide!r} has no artwork yet: publish or harvest a collection first "
                         "(`loupe publish FOLDER`, `loupe harvest`)", field="guide")
