"""Reading a published static collection straight from disk.

``loupe publish`` writes a static IIIF tree under the data directory whose URLs start with a
base URL (normally Loupe's own server). Harvesting it must not need that server to be up,
so URLs under the base are answered from the folder, with the same conditional-GET
semantics as HTTP (the ETag is derived from size and modification time). Any other URL is
handed to the HTTP client.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from urllib.parse import unquote

from .http import FetchError, FetchPolicy, FetchResult, HttpClient


class StaticFolderFetcher:
    def __init__(self, base_url: str, folder: str | Path, fallback: HttpClient | None, max_bytes: int):
        """``max_bytes`` caps JSON documents; image reads pass their own cap."""
        self.base_url = base_url.rstrip("/") + "/"
        self.folder = Path(folder).resolve()
        self.fallback = fallback
        self.max_bytes = max_bytes

    def _path_for(self, url: str) -> Path | None:
        """The file behind ``url``, or None when the URL is not under the base."""
        if url.startswith(self.base_url):
            rel = unquote(url[len(self.base_url):].split("#", 1)[0].split("?", 1)[0])
        elif url.rstrip("/") + "/" == self.base_url:
            rel = ""
        else:
            return None
        path = (self.folder / rel).resolve()
        if path != self.folder and self.folder not in path.parents:
            raise FetchError(url=url, kind="blocked", status=None, detail="path escapes the published folder")
        if path.is_dir():
            for name in ("collection.json", "manifest.json", "index.json", "info.json"):
                if (path / name).is_file():
                    return path / name
        if not path.exists() and path.with_suffix(".json").is_file():
            return path.with_suffix(".json")
        return path

    def get_json(self, url: str, *, policy: FetchPolicy = FetchPolicy(), etag: str | None = None,
                 last_modified: str | None = None) -> FetchResult:
        return self.get(url, policy=policy, etag=etag, last_modified=last_modified, json=True)

    def get(self, url: str, *, policy: FetchPolicy = FetchPolicy(), etag: str | None = None,
            last_modified: str | None = None, accept: str = "*/*", max_bytes: int | None = None,
            json: bool = False) -> FetchResult:
        """Same contract as ``HttpClient.get``: files under the base, HTTP for the rest."""
        path = self._path_for(url)
        if path is None:
            if self.fallback is None:
                raise FetchError(url=url, kind="network", status=None,
                                 detail="outside the published folder and no HTTP client")
            if json:
                return self.fallback.get_json(url, policy=policy, etag=etag, last_modified=last_modified)
            return self.fallback.get(url, policy=policy, etag=etag, last_modified=last_modified, accept=accept,
                                     max_bytes=max_bytes)
        start = time.perf_counter()
        try:
            st = path.stat()
        except FileNotFoundError:
            raise FetchError(url=url, kind="http", status=404,
                             detail=f"not found in the published folder ({path})") from None
        limit = self.max_bytes if max_bytes is None else max_bytes
        if st.st_size > limit:
            raise FetchError(url=url, kind="too_large", status=None,
                             detail=f"{st.st_size} bytes is more than the limit of {limit}")
        tag = '"' + hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:20] + '"'
        ctype = "application/json" if path.suffix == ".json" else None
        if etag is not None and etag == tag:
            return FetchResult(url=url, final_url=url, status=304, content=b"", etag=tag, last_modified=None,
                               content_type=ctype, elapsed_s=time.perf_counter() - start)
        return FetchResult(url=url, final_url=url, status=200, content=path.read_bytes(), etag=tag,
                           last_modified=None, content_type=ctype, elapsed_s=time.perf_counter() - start)
