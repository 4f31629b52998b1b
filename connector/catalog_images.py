"""Pixels of catalog images, fetched the way the harvester fetched them: one fetcher for
indexing, tagging and searches that start from a region of the collection.

Only images the catalog knows are fetched, through ``ImageFetcher`` with their source's
policy (allow_private, politeness) and at ``image_max_side``, the size the harvest used, so a
fetch is normally an image-cache hit and a crop matches what was embedded. A published static
source is read from its folder (``source_transport``, the rule the harvester uses too). The
service never fetches a URL that a client sent.
"""

from __future__ import annotations

import threading
from typing import Union

from PIL import Image as PILImage

from iiif.model import Box, Image
from loupe_core.settings import Settings

from .catalog import Catalog, SourceInfo
from .http import FetchPolicy, HttpClient
from .images import FetchedImage, ImageFetcher
from .static_fetch import StaticFolderFetcher

Transport = Union[HttpClient, StaticFolderFetcher]


def source_transport(source: SourceInfo | None, client: HttpClient, settings: Settings) -> Transport:
    """How a source's documents and images are read: a published static collection from its
    folder (no server needed), anything else over HTTP with ``client``."""
    if source is not None and source.kind == "static" and source.local_path:
        base = source.url.rsplit("/", 1)[0] if source.url.endswith(".json") else source.url
        return StaticFolderFetcher(base, source.local_path, client, settings.max_json_bytes)
    return client


def source_policy(source: SourceInfo | None) -> FetchPolicy:
    """The source's private-network allowance (its own host and port, its ``allowed_hosts``)
    and politeness; the safe defaults for an image whose source was removed meanwhile."""
    if source is None:
        return FetchPolicy()
    return FetchPolicy.for_source(source)


class CatalogImages:
    """One ``ImageFetcher`` and policy per catalog source; thread-safe; ``close`` when done
    (or use it as a context manager). ``client``: share one, else one is made (and closed)."""

    def __init__(self, settings: Settings, catalog: Catalog, client: HttpClient | None = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self._client = client
        self._own_client = client is None
        self._fetchers: dict[int, tuple[ImageFetcher, FetchPolicy]] = {}
        self._lock = threading.Lock()

    def fetch(self, source_id: int, image: Image, max_side: int | None = None) -> FetchedImage:
        """The whole image, longest side at most ``max_side`` (default ``image_max_side``).
        Raises connector.errors.FetchError (network, HTTP, refused; ImageError for the bytes)."""
        fetcher, policy = self._for(source_id)
        return fetcher.fetch(image, max_side=max_side or self.settings.image_max_side, policy=policy)

    def crop(self, source_id: int, image: Image, pixels: Box | None) -> PILImage.Image:
        """``pixels`` (full-image pixels; None: all of it) of a catalog image, in RGB."""
        fetched = self.fetch(source_id, image)
        picture = fetched.open()
        if pixels is None:
            return picture
        box = fetched.pixel_box(pixels)
        return picture if box == (0, 0, picture.width, picture.height) else picture.crop(box)

    def _for(self, source_id: int) -> tuple[ImageFetcher, FetchPolicy]:
        with self._lock:
            found = self._fetchers.get(source_id)
            if found is None:
                if self._client is None:
                    self._client = HttpClient(self.settings)
                source = {s.id: s for s in self.catalog.list_sources()}.get(source_id)
                transport = source_transport(source, self._client, self.settings)
                found = self._fetchers[source_id] = (ImageFetcher(self.settings, transport), source_policy(source))
            return found

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._own_client:
                self._client.close()
                self._client = None
            self._fetchers.clear()

    def __enter__(self) -> "CatalogImages":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
