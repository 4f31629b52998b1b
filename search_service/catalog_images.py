"""Pixels of catalog images, for searches that start from a region of the collection.

Only images the catalog knows are fetched, through ``connector.images.ImageFetcher`` with
their source's policy (allow_private, politeness) and at ``image_max_side``, the size the
harvest and the indexer used, so the fetch is normally an image-cache hit and the crop
matches what was embedded. A published static source is read from its folder. The service
never fetches a URL that a client sent.
"""

from __future__ import annotations

import threading

from PIL import Image as PILImage

from connector.catalog import Catalog, SourceInfo
from connector.http import FetchPolicy, HttpClient
from connector.images import FetchedImage, ImageFetcher
from connector.static_fetch import StaticFolderFetcher
from iiif.model import Box, Image
from loupe_core.settings import Settings


class CatalogImages:
    """One ``ImageFetcher`` per catalog source; thread-safe; ``close`` when done."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.catalog = catalog
        self._client: HttpClient | None = None
        self._fetchers: dict[int, tuple[ImageFetcher, FetchPolicy]] = {}
        self._lock = threading.Lock()

    def fetch(self, source_id: int, image: Image) -> FetchedImage:
        """The whole image, longest side at most ``image_max_side``. Raises
        connector.errors.FetchError (network, HTTP, refused; ImageError for the bytes)."""
        fetcher, policy = self._for(source_id)
        return fetcher.fetch(image, max_side=self.settings.image_max_side, policy=policy)

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
                sources = {s.id: s for s in self.catalog.list_sources()}
                source = sources.get(source_id)
                found = (ImageFetcher(self.settings, self._client_for(source)), _policy(source))
                self._fetchers[source_id] = found
            return found

    def _client_for(self, source: SourceInfo | None):  # noqa: ANN202 - HttpClient or its static stand-in
        if self._client is None:
            self._client = HttpClient(self.settings)
        if source is not None and source.kind == "static" and source.local_path:
            base = source.url.rsplit("/", 1)[0] if source.url.endswith(".json") else source.url
            return StaticFolderFetcher(base, source.local_path, self._client, self.settings.max_json_bytes)
        return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._fetchers.clear()


def _policy(source: SourceInfo | None) -> FetchPolicy:
    if source is None:
        return FetchPolicy()
    return FetchPolicy(allow_private=source.allow_private, polite=source.polite)
