"""``tag_collection``: zero-shot tags for every image (and annotated region) of a collection,
stored in the catalog as machine annotations for curators to review.

Work goes manifest by manifest: fetch each image at ``image_max_side`` (a cache hit after a
harvest), crop its annotated regions, embed them in one batch, score them against the
manifest's vocabulary, and replace the model's proposals on those canvases in one
transaction. A stopped run leaves whole manifests done or untouched; a rerun converges.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select

from connector.catalog import Catalog
from connector.catalog.schema import CanvasRow, ManifestRow
from connector.catalog_images import CatalogImages
from connector.errors import FetchError
from loupe_core.settings import Settings
from loupe_index.catalog_targets import ImageToIndex
from loupe_models import load_model

from .label_embeddings import LabelEmbeddingCache
from .machine_tags import Proposal, replace_proposals
from .scope import VocabularyChooser, named_vocabulary, resolve_scope, scope_images
from .scoring import MAX_TOP_K, Tagger
from .vocabulary import Vocabulary
from .vocabulary_store import VocabularyStore

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from loupe_models.clip_model import ClipModel

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.2
DEFAULT_TOP_K = 3
Progress = Callable[[int, int], None]  # (images done, images in all)
ShouldStop = Callable[[], bool]  # asked between manifests: True stops the run there


@dataclass
class TagReport:
    collection: str
    model: str
    model_version: str
    threshold: float
    top_k: int
    images: int = 0  # images tagged
    regions: int = 0  # annotated regions tagged
    failed: int = 0  # images that could not be fetched
    proposed: int = 0  # machine annotations written
    replaced: int = 0  # earlier proposals of the model removed
    kept_decisions: int = 0  # tags not proposed again because a curator decided on them
    vocabularies: dict[str, int] = field(default_factory=dict)  # vocabulary -> images
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False  # should_stop said so before every manifest was done

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def cache_for(settings: Settings) -> LabelEmbeddingCache:
    return LabelEmbeddingCache(settings.cache_dir / "label_embeddings")


def check_options(threshold: float, top_k: int) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} must be between 0 and 1 (a softmax score)")
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k {top_k} must be between 1 and {MAX_TOP_K}")


def tag_collection(settings: Settings, collection_or_source: str, *,
                   vocabulary: Vocabulary | str | None = None, threshold: float = DEFAULT_THRESHOLD,
                   top_k: int = DEFAULT_TOP_K, regions: bool = True, model: "ClipModel | None" = None,
                   cache: LabelEmbeddingCache | None = None, progress: Progress | None = None,
                   should_stop: ShouldStop | None = None) -> TagReport:
    """Tag every image of ``collection_or_source`` (``all``, a source id/name/URL, a
    collection URI or key) and store the tags with score >= ``threshold`` (at most ``top_k``
    per image or region). ``vocabulary``: a Vocabulary, a stored list's key or ``default``;
    None picks each manifest's curator list (or the default). ``should_stop`` is asked before
    each manifest: when it says True the run ends there with ``report.stopped`` (what it wrote
    stays: whole manifests; a rerun converges).

    Raises ScopeError, VocabularyError, ValueError (options), and the model's errors
    (ModelWeightsMissing: no weights, never random ones)."""
    check_options(threshold, top_k)
    started = time.monotonic()
    settings.ensure_dirs()
    catalog = Catalog.open(settings)
    images = CatalogImages(settings, catalog)
    try:
        store = VocabularyStore(catalog.engine)
        scope = resolve_scope(catalog, collection_or_source)
        override = named_vocabulary(store, vocabulary) if isinstance(vocabulary, str) else vocabulary
        chooser = VocabularyChooser(catalog, store, override)
        if model is None:
            model = load_model(settings)
        tagger = Tagger(model, cache or cache_for(settings))
        report = TagReport(scope.description, model.name, model.version, threshold, top_k)
        items = list(scope_images(catalog, scope))
        canvas_ids = canvas_ids_of(catalog)
        done = 0
        for manifest, group in groupby(items, key=lambda i: i.manifest):
            if should_stop is not None and should_stop():
                report.stopped = True
                break
            group = list(group)
            vocab = chooser.choose(group[0].source_id, group[0].collection)
            proposals: list[Proposal] = []
            tagged: set[int] = set()
            for item in group:
                canvas_id = canvas_ids.get((manifest, item.canvas))
                found = _tag_image(tagger, images, item, vocab, top_k, threshold, regions, report)
                if canvas_id is not None and found is not None:
                    tagged.add(canvas_id)
                    proposals += [Proposal(canvas_id, box, label, score, pixels)
                                  for box, pixels, label, score in found]
                    report.vocabularies[vocab.name] = report.vocabularies.get(vocab.name, 0) + 1
                done += 1
                if progress:
                    progress(done, len(items))
            counts = replace_proposals(catalog, model.name, model.version, tagged, proposals)
            report.proposed += counts.proposed
            report.replaced += counts.replaced
            report.kept_decisions += counts.decided
        report.seconds = round(time.monotonic() - started, 3)
        return report
    finally:
        images.close()
        catalog.close()


def _tag_image(tagger: Tagger, images: CatalogImages, item: ImageToIndex, vocabulary: Vocabulary,
               top_k: int, threshold: float, regions: bool, report: TagReport) -> list[tuple] | None:
    """[(canvas box or None, image pixels or None, label, score)] of one image; None when it
    could not be fetched (its earlier proposals are then left as they are)."""
    try:
        fetched = images.fetch(item.source_id, item.image)
        picture = fetched.open()
    except (FetchError, OSError, ValueError) as e:
        report.failed += 1
        report.problems.append(f"{item.image.id}: {e}")
        log.warning("cannot tag %s: %s", item.image.id, e)
        return None
    full_size = (round(fetched.width * fetched.scale_x), round(fetched.height * fetched.scale_y))
    targets = [t for t in item.targets(full_size)
               if t.kind == "image" or (regions and t.kind == "region")]
    crops: list["PILImage.Image"] = []
    boxes: list[tuple] = []
    for t in targets:
        box = fetched.pixel_box(t.pixels)
        crops.append(picture if box == (0, 0, picture.width, picture.height) else picture.crop(box))
        whole = t.kind == "image" and _covers_canvas(t.xywh, item.canvas_size)
        boxes.append((None, None) if whole else (tuple(float(v) for v in t.xywh),
                                                 None if t.kind == "image" else t.pixels.as_tuple()))
    if not crops:
        return []
    report.images += 1
    report.regions += len(crops) - 1
    out = []
    for (box, pixels), labels in zip(boxes, tagger.tag_images(crops, vocabulary, top_k, threshold)):
        out += [(box, pixels, label, score) for label, score in labels]
    return out


def _covers_canvas(xywh, canvas_size: tuple[int, int] | None) -> bool:  # noqa: ANN001
    if canvas_size is None:
        return True
    x, y, w, h = xywh
    return x <= 0 and y <= 0 and x + w >= canvas_size[0] and y + h >= canvas_size[1]


def canvas_ids_of(catalog: Catalog) -> dict[tuple[str, str], int]:
    """(manifest URI, canvas URI) -> canvas row id."""
    with catalog.session() as s:
        rows = s.execute(select(ManifestRow.uri, CanvasRow.uri, CanvasRow.id)
                         .join(CanvasRow, CanvasRow.manifest_id == ManifestRow.id)
                         .where(ManifestRow.status != "deleted")).all()
    return {(m, c): i for m, c, i in rows}
