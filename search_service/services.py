"""What the application's views share: settings, catalog, index, models, the search engine.

One ``Services`` per process, stored in ``app.extensions["loupe"]`` (``get_services()``
inside a request). Everything is opened on first use and owned by the object that opened it:
Qdrant local mode lets one process hold the index, so the server opens it once and its
embedded job workers write through that same object (``JobResources(index=services.index)``).
Tests pass their own catalog, index or model cache; what is passed in is not closed here.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from flask import current_app

from connector.catalog import Catalog
from connector.catalog.keys import KeyDirectory
from connector.catalog_images import CatalogImages
from loupe_core.settings import Settings
from loupe_index import VectorIndex, VectorIndexError
from loupe_models import load_model
from loupe_tagging import LabelEmbeddingCache, Tagger, VocabularyStore
from training_worker.broker import job_queue, make_broker
from training_worker.jobs import JobQueue, JobStore

from .combiner import CombinerRegistry
from .engine import SearchEngine
from .image_limits import ImageGate
from .key_store import KeyStore
from .query_model import load_query_model
from .rate_limits import Limiter, make_limiter

if TYPE_CHECKING:  # pragma: no cover
    from loupe_models import ClipModel, ModelCache

log = logging.getLogger(__name__)

EXTENSION = "loupe"
T = TypeVar("T")


class Services:
    def __init__(self, settings: Settings, *, catalog: Catalog | None = None, index: "VectorIndex | None" = None,
                 model_cache: "ModelCache | None" = None, combiners: CombinerRegistry | None = None,
                 jobs: "JobQueue | None" = None, label_cache: LabelEmbeddingCache | None = None,
                 index_role: str = "server") -> None:
        self.settings = settings
        self.model_cache = model_cache  # None: loupe_models' process-wide cache
        self.combiners = combiners or CombinerRegistry()
        self.index_role = index_role
        self._catalog = catalog
        self._index = index
        self._jobs = jobs
        self._label_cache = label_cache
        self._owned: list[Callable[[], None]] = []
        self._lazy: dict[str, Any] = {}
        self._lock = threading.RLock()

    # --- catalog and index --------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                self.settings.ensure_dirs()
                self._catalog = Catalog.open(self.settings)
                self._owned.append(self._catalog.close)
            return self._catalog

    @property
    def index(self) -> "VectorIndex":
        """The vector index, opened on first use (local mode: owned by this process from then on).
        Raises IndexLockedError when another process holds local storage."""
        with self._lock:
            if self._index is None:
                self._index = VectorIndex.open(self.settings, role=self.index_role)
                self._owned.append(self._index.close)
            return self._index

    # --- models -------------------------------------------------------------------------
    def active_vector(self) -> str:
        """The vector searches use; VectorIndexError (503) when nothing is indexed yet."""

        vector = self.index.active_vector()
        if vector is None:
            raise VectorIndexError("the index holds no vectors yet: index the catalog first "
                                   "(`loupe index`, or POST /api/admin/index)")
        return vector

    def query_model(self, vector: str | None = None) -> "ClipModel":
        """The model that encodes queries for ``vector`` (default: the active one), loaded
        once per process. Raises ModelWeightsMissing / ModelError (answered 503)."""

        vector = vector or self.active_vector()
        models = self._lazy.setdefault("models", {})
        model = models.get(vector)
        if model is None:
            model = load_query_model(self.settings, vector, self.model_cache)
            models[vector] = model
        return model

    # --- the rest, made on first use ------------------------------------------------------
    @property
    def engine(self) -> "SearchEngine":
        return self._once("engine", lambda: SearchEngine(self))

    @property
    def image_gate(self) -> ImageGate:
        """The slots of this process for image work (``image_work``)."""
        settings = self.settings
        return self._once("image_gate", lambda: ImageGate(settings.image_slot_count, settings.image_slot_wait_s))

    @property
    def images(self) -> CatalogImages:
        def make() -> CatalogImages:
            images = CatalogImages(self.settings, self.catalog)
            self._owned.append(images.close)
            return images

        return self._once("images", make)

    @property
    def vocabularies(self) -> VocabularyStore:
        """Curators' label lists (in the catalog's database)."""
        return self._once("vocabularies", lambda: VocabularyStore(self.catalog.engine))

    @property
    def label_cache(self) -> LabelEmbeddingCache:
        """Label embeddings kept between tagging requests (and on disk)."""
        with self._lock:
            if self._label_cache is None:
                self._label_cache = LabelEmbeddingCache(self.settings.cache_dir / "label_embeddings")
            return self._label_cache

    def tagger(self) -> Tagger:
        """Zero-shot tagging with the configured model (the one `loupe tag` stores tags with)."""
        return Tagger(load_model(self.settings, cache=self.model_cache), self.label_cache)

    @property
    def keys(self) -> KeyDirectory:
        return self._once("keys", lambda: KeyDirectory(self.catalog))

    @property
    def api_keys(self) -> KeyStore:
        """Named, revocable API keys (in the catalog database)."""
        return self._once("api_keys", lambda: KeyStore(self.catalog.engine))

    @property
    def rate_limiter(self) -> "Limiter | None":
        """Per-client limits of anonymous requests that run the model (None: off)."""
        def make() -> "Limiter | None":
            limiter = make_limiter(self.settings)
            if hasattr(limiter, "close"):
                self._owned.append(limiter.close)
            return limiter

        return self._once("rate_limiter", make)

    # --- jobs ---------------------------------------------------------------------------
    def attach_jobs(self, queue: "JobQueue") -> None:
        """Submit jobs through ``queue`` (the embedded worker's, in `loupe serve`)."""
        with self._lock:
            self._jobs = queue

    def job_queue(self) -> "JobQueue":
        """Where admin endpoints submit jobs: the attached queue; else Redis when redis_url is
        set; else the job store only (a server's embedded worker picks the job up from there)."""
        with self._lock:
            if self._jobs is None:
                if self.settings.redis_url:
                    broker = make_broker(self.settings)
                    self._owned.append(broker.close)
                    self._jobs = job_queue(broker)
                else:
                    store = JobStore.open(self.settings)
                    self._owned.append(store.close)
                    self._jobs = JobQueue(store)
            return self._jobs

    @property
    def jobs_attached(self) -> bool:
        return self._jobs is not None

    # --- life cycle ---------------------------------------------------------------------
    def warm(self) -> None:
        """Load what the first search needs (index mirror, query model); problems are logged,
        not raised: the server starts anyway and answers searches with the reason."""
        try:
            self.index.warm()
            if self.index.active_vector() is not None:
                self.query_model()
        except Exception as e:  # noqa: BLE001 - logged; each search reports it again
            log.warning("warming up search: %s", e)

    def close(self) -> None:
        """Close what this object opened, newest first; what was passed in stays open. Used
        again afterwards, it opens things anew."""
        with self._lock:
            owned, self._owned = self._owned[::-1], []
            self._lazy.clear()
            if self._catalog is not None and self._catalog.close in owned:
                self._catalog = None
            if self._index is not None and self._index.close in owned:
                self._index = None
        for close in owned:
            try:
                close()
            except Exception:  # noqa: BLE001 - close the rest anyway
                log.exception("closing a service resource failed")

    def _once(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._lazy:
                self._lazy[name] = make()
            return self._lazy[name]


def get_services() -> Services:
    """The current application's services (inside a request or app context)."""
    return current_app.extensions[EXTENSION]
