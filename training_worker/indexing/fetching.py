"""Fetching catalog images for indexing the way the harvester fetched them: through the same
client, with each source's FetchPolicy (allow_private, polite), and a static source's files
read from its folder. At the same ``image_max_side`` a harvested image is a cache hit."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from connector.catalog import Catalog, SourceInfo
from connector.http import FetchPolicy, HttpClient
from connector.images import FetchedImage, ImageFetcher
from connector.static_fetch import StaticFolderFetcher
from loupe_core.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from search_service.index.catalog_targets import ImageToIndex


class SourceImages:
    """One ``ImageFetcher`` and policy per catalog source; thread-safe; close when done."""

    def __init__(self, settings: Settings, catalog: Catalog, client: HttpClient | None = None) -> None:
        self.settings = settings
        self.client = client or HttpClient(settings)
        self._own_client = client is None
        self._sources = {s.id: s for s in catalog.list_sources()}
        self._fetchers: dict[int, tuple[ImageFetcher, FetchPolicy]] = {}
        self._lock = threading.Lock()

    def fetch(self, item: "ImageToIndex", max_side: int | None = None) -> FetchedImage:
        """The whole image with its longest side at most ``max_side`` (default image_max_side).
        Raises connector.errors.FetchError (network, HTTP, refused; ImageError: the bytes)."""
        fetcher, policy = self._for(item.source_id)
        return fetcher.fetch(item.image, max_side=max_side or self.settings.image_max_side, policy=policy)

    def _for(self, source_id: int) -> tuple[ImageFetcher, FetchPolicy]:
        with self._lock:
            found = self._fetchers.get(source_id)
            if found is None:
                source = self._sources.get(source_id)
                found = self._fetchers[source_id] = (ImageFetcher(self.settings, self._client_for(source)),
                                                     _policy(source))
            return found

    def _client_for(self, source: SourceInfo | None):  # noqa: ANN202 - HttpClient or its static stand-in
        """As ``connector.harvest.Harvester`` does: a published static collection is read from
        its folder (no server needed), anything else over HTTP."""
        if source is not None and source.kind == "static" and source.local_path:
            base = source.url.rsplit("/", 1)[0] if source.url.endswith(".json") else source.url
            return StaticFolderFetcher(base, source.local_path, self.client, self.settings.max_json_bytes)
        return self.client

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> "SourceImages":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _policy(source: SourceInfo | None) -> FetchPolicy:
    if source is None:  # an image whose source was removed meanwhile: the safe defaults
        return FetchPolicy()
    return FetchPolicy(allow_private=source.allow_private, polite=source.polite)
