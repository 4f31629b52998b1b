"""Harvesting a source into the catalog.

Stages, left to right: list the source (collection walk, URL list, or Change Discovery
plan) -> fetch and read manifests and their annotation pages in a thread pool (conditional
GET: unchanged ones cost one 304) -> write each manifest in the calling thread (one writer,
batched commits) -> apply deletions -> close the run with counts and problems.

A harvest killed at any point leaves whole manifests in the catalog; the next run skips
what is already there and unchanged, and ends with the same catalog an uninterrupted run
would have produced.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from tqdm import tqdm

from connector.images import ImageFetcher
from iiif.model import AnnotationPage, Image, Manifest, Problem
from iiif.reader import read_bytes
from loupe_core.settings import Settings

from .catalog import Catalog, FetchState, HarvestedManifest, HarvestedPage, SourceInfo, combined_hash
from .catalog_images import Transport, source_policy, source_transport
from .change_discovery import plan_stream
from .host_dispatch import HostDispatcher
from .http import FetchError, FetchPolicy, HttpClient
from .loupe_links import is_loupe_annotation_page, is_loupe_document
from .sources import Listing, list_collection, list_manifest_file

log = logging.getLogger(__name__)

COMMIT_EVERY = 100  # manifests per transaction at most
COMMIT_SECONDS = 2.0  # and at least this often
MAX_PAGES_PER_MANIFEST = 200
MAX_PAGE_CHAIN = 50  # ``next`` links followed from one annotation page


@dataclass
class HarvestReport:
    source: SourceInfo
    run_id: int
    status: str = "running"
    counts: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "source": self.source.url, "source_id": self.source.id, "run": self.run_id, "status": self.status,
            "seconds": round(self.seconds, 3), "counts": dict(self.counts),
            "problems": [{"where": p.where, "what": p.what, "severity": p.severity} for p in self.problems],
        }


@dataclass
class _Unchanged:
    uri: str


@dataclass
class _Failed:
    uri: str
    problems: list[Problem]
    collection_uri: str | None


class Harvester:
    def __init__(self, settings: Settings, catalog: Catalog, *, client: HttpClient | None = None,
                 progress: bool = False):
        self.settings = settings
        self.catalog = catalog
        self._own_client = client is None
        self.client = client or HttpClient(settings)
        self.progress = progress
        # Catalog writes of parallel source harvests take turns: each write is its own short
        # transaction under this lock (SQLite has one writer; a transaction left open between
        # writes would stall every other source).
        self._write_lock = threading.Lock()
        self._commit_each = False

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> "Harvester":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- entry point ---------------------------------------------------------------------
    def harvest(self, source: SourceInfo, *, fetch_images: bool = True) -> HarvestReport:
        """Harvest one source; with ``fetch_images`` also fetch every new image at the
        bounded size into the image cache (what indexing and training read), so broken or
        oversized images are reported now, not later."""
        start = time.perf_counter()
        with self._write_lock:
            run_id = self.catalog.start_run(source.id)
        report = HarvestReport(source=source, run_id=run_id)
        policy = source_policy(source)
        fetcher = source_transport(source, self.client, self.settings)
        try:
            if source.kind == "change_discovery":
                self._harvest_stream(source, fetcher, policy, report)
            else:
                self._harvest_listing(source, fetcher, policy, report)
            if fetch_images:
                self._fetch_images(source, fetcher, policy, report)
            errors = report.counts.get("failed", 0) or any(p.severity == "error" for p in report.problems)
            report.status = "completed_with_problems" if errors else "completed"
        except KeyboardInterrupt:
            report.status = "interrupted"
            raise
        except Exception as e:  # noqa: BLE001 - the run is closed with the reason, then re-raised
            report.status = "failed"
            report.problems.append(Problem(source.url, f"harvest failed: {e}"))
            raise
        finally:
            report.seconds = time.perf_counter() - start
            with self._write_lock:
                self.catalog.finish_run(run_id, report.status, report.counts, report.problems)
        return report

    def harvest_many(self, sources: Iterable[SourceInfo], *,
                     fetch_images: bool = True) -> Iterator[tuple[SourceInfo, HarvestReport | Exception]]:
        """Harvest several sources, ``harvest_parallel_sources`` at a time, and yield each
        source with its report (or the exception that stopped it) as it finishes.

        An aggregator harvests many institutions: each is polite on its own hosts (the rate
        limiter is per host and shared), so running sources side by side multiplies the
        throughput without asking any host more often. Catalog writes take turns (one short
        transaction each)."""
        sources = list(sources)
        parallel = max(1, min(self.settings.harvest_parallel_sources, len(sources)))
        if parallel == 1:
            for source in sources:
                try:
                    yield source, self.harvest(source, fetch_images=fetch_images)
                except KeyboardInterrupt:
                    raise
                except Exception as e:  # noqa: BLE001 - reported per source; the others go on
                    yield source, e
            return
        shown, self.progress, self._commit_each = self.progress, False, True  # one bar over sources
        bar = _progress(shown, len(sources), "harvest", unit="source")
        try:
            with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="source") as pool:
                futures = {pool.submit(self.harvest, source, fetch_images=fetch_images): source
                           for source in sources}
                for fut in as_completed(futures):
                    bar.update(1)
                    error = fut.exception()
                    yield futures[fut], error if error is not None else fut.result()
        finally:
            self.progress, self._commit_each = shown, False
            bar.close()

    # --- listing kinds -------------------------------------------------------------------
    def _harvest_listing(self, source: SourceInfo, fetcher: Transport, policy: FetchPolicy, report: HarvestReport) -> None:
        def fetch_bytes(url: str) -> bytes:
            return fetcher.get_json(url, policy=policy).content

        if source.kind in ("collection", "static"):
            listing = list_collection(source.url, fetch_bytes)
        elif source.kind == "manifest_list":
            listing = list_manifest_file(source.url, fetch_bytes)
        else:  # a single manifest
            listing = Listing(manifests={source.url: None})
        report.problems.extend(listing.problems)
        report.counts["listed"] = len(listing.manifests)
        if listing.collections:
            with self._write_lock, self.catalog.session() as s:
                for uri, (label, parent) in listing.collections.items():
                    self.catalog.upsert_collection(s, source.id, uri, label, parent)
                s.commit()
        states = self.catalog.manifest_states(source.id)
        self._fetch_and_write(source, fetcher, policy, list(listing.manifests.items()), states, report)
        if listing.complete:
            gone = [u for u, st in states.items() if st.status != "deleted" and u not in listing.manifests]
            self._delete(gone, report)
        elif states:
            report.problems.append(Problem(source.url, "the listing was incomplete, so no manifest was "
                                                       "treated as deleted", "warning"))

    # --- Change Discovery ----------------------------------------------------------------
    def _harvest_stream(self, source: SourceInfo, fetcher: Transport, policy: FetchPolicy, report: HarvestReport) -> None:
        def fetch_json(url: str) -> Any:
            return fetcher.get_json(url, policy=policy).json()

        plan = plan_stream(source.url, fetch_json, source.last_activity_time)
        report.problems.extend(plan.problems)
        states = self.catalog.manifest_states(source.id)
        upserts = [(op.uri, None) for op in plan.operations if op.action == "upsert"]
        deletes = [op.uri for op in plan.operations if op.action == "delete"]
        report.counts["activities"] = len(plan.operations)
        report.counts["listed"] = len(upserts)
        self._fetch_and_write(source, fetcher, policy, upserts, states, report)
        if plan.refreshed and plan.complete:
            mentioned = {op.uri for op in plan.operations}
            deletes += [u for u, st in states.items() if st.status != "deleted" and u not in mentioned]
        self._delete(deletes, report)
        if plan.complete and plan.newest_time:
            with self._write_lock:
                self.catalog.set_source_state(source.id, last_activity_time=plan.newest_time)

    # --- fetching and writing ------------------------------------------------------------
    def _fetch_and_write(self, source: SourceInfo, fetcher: Transport, policy: FetchPolicy,
                         items: list[tuple[str, str | None]], states: dict[str, FetchState],
                         report: HarvestReport) -> None:
        if not items:
            return
        page_states = self.catalog.page_states(source.id) if states else {}
        bar = _progress(self.progress, len(items), f"harvest {source.name or source.url}")
        session = self.catalog.session()
        pending_writes = 0
        last_commit = time.monotonic()
        try:
            for result in self._fetch_all(fetcher, policy, items, states, page_states):
                with self._write_lock:
                    pending_writes += self._write_result(session, source, result, report)
                    if pending_writes and (self._commit_each or pending_writes >= COMMIT_EVERY
                                           or time.monotonic() - last_commit > COMMIT_SECONDS):
                        session.commit()
                        pending_writes, last_commit = 0, time.monotonic()
                bar.update(1)
            with self._write_lock:
                session.commit()
        finally:
            session.close()
            bar.close()

    def _write_result(self, session: Any, source: SourceInfo, result: Any, report: HarvestReport) -> int:
        """Record one fetch result in the session; 1 if it changed the catalog."""
        if isinstance(result, _Unchanged):
            report.counts["unchanged"] += 1
            return 0
        if isinstance(result, _Failed):
            report.problems.extend(result.problems)
            self.catalog.mark_manifest_error(session, source.id, result.uri, result.problems, result.collection_uri)
            report.counts["failed"] += 1
            return 1
        report.problems.extend(result.problems)
        report.problems.extend(p for pg in result.pages for p in pg.problems)
        outcome = self.catalog.write_manifest(session, source.id, result)
        report.counts[outcome] += 1
        if outcome == "unchanged":
            return 0
        report.counts["canvases"] += len(result.manifest.canvases)
        return 1

    def _fetch_all(self, fetcher: Transport, policy: FetchPolicy, items: list, states: dict,
                   page_states: dict) -> Iterator:
        """Fetch on ``harvest_workers`` threads, host-aware (``connector.host_dispatch``): a
        thread is handed a manifest only when its host may be asked now, so the hosts of a
        source run in parallel, each at its polite rate. Yields results as they complete."""
        def fetch(item: tuple[str, str | None]) -> Any:
            uri, coll = item
            return self._fetch_manifest(fetcher, policy, uri, coll, states.get(uri), page_states.get(uri, {}))

        yield from self._dispatcher(policy, "harvest").run(items, fetch)

    def _dispatcher(self, policy: FetchPolicy, name: str) -> HostDispatcher:
        """``harvest_workers`` threads, handed work host by host as hosts become ready."""
        workers = max(1, self.settings.harvest_workers)
        if policy.polite:
            return HostDispatcher(workers, host_of=_host_of, ready_in=self.client.ready_in,
                                  per_host=max(1, self.settings.concurrency_per_host), thread_name=name)
        # loopback benchmark: no limits, keep every thread busy
        return HostDispatcher(workers, host_of=_host_of, queue_ahead=workers * 3, thread_name=name)

    def _fetch_manifest(self, fetcher: Transport, policy: FetchPolicy, uri: str, coll: str | None,
                        state: FetchState | None, pages_known: dict[str, FetchState]) -> Any:
        usable = state is not None and state.status in ("ok", "problems") and state.content_hash
        try:
            r = fetcher.get_json(uri, policy=policy,
                                 etag=state.etag if usable else None,
                                 last_modified=state.last_modified if usable else None)
            if r.not_modified:
                if all(self._page_unchanged(fetcher, policy, p, st) for p, st in pages_known.items()):
                    return _Unchanged(uri)
                r = fetcher.get_json(uri, policy=policy)
        except FetchError as e:
            return _Failed(uri, [Problem(uri, str(e))], coll)
        result = read_bytes(r.content, url=uri)
        if result.type != "Manifest" or not isinstance(result.resource, Manifest):
            problems = list(result.problems) or [Problem(uri, f"expected a Manifest, found {result.type}")]
            if result.resource is not None and result.type != "Manifest":
                problems.append(Problem(uri, f"expected a Manifest, found a {result.type}"))
            return _Failed(uri, problems, coll)
        manifest = result.resource
        problems = list(result.problems)
        if manifest.id and manifest.id != uri:
            problems.append(Problem(uri, f"the manifest calls itself {manifest.id}; kept under the URL it was "
                                         "listed with", "warning"))
        pages = self._fetch_pages(fetcher, policy, manifest)
        return HarvestedManifest(
            uri=uri, manifest=manifest, etag=r.etag, last_modified=r.last_modified,
            content_hash=combined_hash([r.content] + [pg_bytes for _, pg_bytes in pages]),
            problems=problems, pages=[pg for pg, _ in pages], collection_uri=coll)

    def _page_unchanged(self, fetcher: Transport, policy: FetchPolicy, uri: str, st: FetchState) -> bool:
        try:
            r = fetcher.get_json(uri, policy=policy, etag=st.etag, last_modified=st.last_modified)
        except FetchError:
            return st.status == "error"
        return r.not_modified or combined_hash([r.content]) == st.content_hash

    def _fetch_pages(self, fetcher: Transport, policy: FetchPolicy, manifest: Manifest) -> list[tuple[HarvestedPage, bytes]]:
        refs: list[str] = []
        for ref in manifest.annotation_refs + [r for c in manifest.canvases for r in c.annotation_refs]:
            if ref not in refs and not is_loupe_annotation_page(ref):  # Loupe's own suggestions: not curators'
                refs.append(ref)
        if len(refs) > MAX_PAGES_PER_MANIFEST:
            refs = refs[:MAX_PAGES_PER_MANIFEST]
        out = []
        for ref in refs:
            fetched = self._fetch_page_chain(fetcher, policy, ref)
            if fetched is not None:
                out.append(fetched)
        return out

    def _fetch_page_chain(self, fetcher: Transport, policy: FetchPolicy,
                          ref: str) -> tuple[HarvestedPage, bytes] | None:
        """One referenced page, following ``next`` (AnnotationCollection paging); None for a
        page of Loupe's own machine annotations (not curators')."""
        page = HarvestedPage(uri=ref, page=None)
        raw = b""
        url: str | None = ref
        seen: set[str] = set()
        merged: AnnotationPage | None = None
        while url and url not in seen and len(seen) < MAX_PAGE_CHAIN:
            seen.add(url)
            try:
                r = fetcher.get_json(url, policy=policy)
            except FetchError as e:
                page.problems.append(Problem(url, f"annotation page: {e}"))
                break
            if url == ref:
                if is_loupe_document(r.content):
                    log.info("%s: Loupe's own machine annotations, not harvested", ref)
                    return None
                page.etag, page.last_modified = r.etag, r.last_modified
            raw += r.content
            result = read_bytes(r.content, url=url)
            page.problems.extend(result.problems)
            if not isinstance(result.resource, AnnotationPage):
                page.problems.append(Problem(url, f"expected an AnnotationPage or AnnotationList, found {result.type}"))
                break
            if merged is None:
                merged = result.resource
            else:
                merged.annotations.extend(result.resource.annotations)
            url = result.resource.next
        page.page = merged
        page.content_hash = combined_hash([raw])
        return page, raw

    def _fetch_images(self, source: SourceInfo, fetcher: Transport, policy: FetchPolicy, report: HarvestReport) -> None:
        todo = self.catalog.images_to_fetch(source.id)
        if not todo:
            return
        images = ImageFetcher(self.settings, fetcher)
        bar = _progress(self.progress, len(todo), "images", unit="image")

        def fetch(task):
            image_id, manifest_uri, image = task
            try:
                got = images.fetch(image, policy=policy)
            except (FetchError, ValueError) as e:
                return image_id, manifest_uri, image.id, str(e), None
            return image_id, manifest_uri, image.id, None, (got.width, got.height)

        with self.catalog.session() as s:
            last_commit = time.monotonic()
            for image_id, manifest_uri, uri, problem, size in self._dispatcher(policy, "images").run(todo, fetch):
                with self._write_lock:
                    if problem is None:
                        self.catalog.set_image_fetched(s, image_id, "ok", size=size)
                        report.counts["images_fetched"] += 1
                    else:
                        self.catalog.set_image_fetched(s, image_id, "error", problem)
                        report.counts["images_failed"] += 1
                        report.problems.append(Problem(f"{manifest_uri} image {uri}", problem))
                    if self._commit_each or time.monotonic() - last_commit > COMMIT_SECONDS:
                        s.commit()
                        last_commit = time.monotonic()
                bar.update(1)
            with self._write_lock:
                s.commit()
        bar.close()

    def _delete(self, uris: list[str], report: HarvestReport) -> None:
        if not uris:
            return
        with self._write_lock, self.catalog.session() as s:
            for uri in uris:
                if self.catalog.delete_manifest(s, uri):
                    report.counts["deleted"] += 1
            s.commit()


def _host_of(item: tuple) -> str:
    """The host a task fetches from (what the rate limiter counts by): a manifest's URL
    (``(uri, collection)``), or an image's service or file (``(row id, manifest, Image)``)."""
    if isinstance(item[-1], Image):
        image = item[-1]
        url = image.service.id if image.service is not None and image.service.id else image.id
    else:
        url = item[0]
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, total: int, desc: str, unit: str = "manifest") -> Any:
    if not enabled:
        return _NoBar()

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)
