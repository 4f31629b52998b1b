"""Listing what a source holds: the manifests of a IIIF Collection (nested, paged), of a
file of manifest URLs, or a single manifest. Change Discovery streams are planned by
``connector.change_discovery`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from iiif.model import Collection, LanguageMap, Problem
from iiif.reader import read_bytes

# (url) -> raw bytes of the document; raises on failure.
FetchBytes = Callable[[str], bytes]

MAX_COLLECTION_DEPTH = 12
MAX_COLLECTION_DOCUMENTS = 20_000


@dataclass
class Listing:
    # manifest URI -> the collection that listed it first (None for lists and single manifests)
    manifests: dict[str, str | None] = field(default_factory=dict)
    # collection URI -> (label, parent URI)
    collections: dict[str, tuple[LanguageMap, str | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # False when part of the listing could not be read: deletions are then not inferred.
    complete: bool = True


def list_collection(url: str, fetch: FetchBytes) -> Listing:
    """Walk a collection breadth-first: nested collections, v2 ``first``/``next`` paging."""
    out = Listing()
    queue: list[tuple[str, str | None, int]] = [(url, None, 0)]
    visited: set[str] = set()
    pages_of: dict[str, set[str]] = {}  # owning collection -> URLs of its pages
    while queue:
        doc_url, parent, depth = queue.pop(0)
        if doc_url in visited:
            continue
        visited.add(doc_url)
        if len(visited) > MAX_COLLECTION_DOCUMENTS:
            out.problems.append(Problem(doc_url, f"more than {MAX_COLLECTION_DOCUMENTS} collection documents; stopped"))
            out.complete = False
            break
        try:
            data = fetch(doc_url)
        except Exception as e:  # noqa: BLE001 - reported, the walk goes on
            out.problems.append(Problem(doc_url, f"cannot read the collection: {e}"))
            out.complete = False
            continue
        result = read_bytes(data, url=doc_url)
        out.problems.extend(p for p in result.problems)
        coll = result.resource
        if result.type == "Manifest" and depth == 0:
            out.manifests.setdefault(doc_url, None)
            continue
        if not isinstance(coll, Collection):
            out.problems.append(Problem(doc_url, f"expected a Collection, found {result.type}"))
            out.complete = False
            continue
        coll_id = coll.id or doc_url
        # A page of a paged collection belongs to the collection that points to it.
        is_page = parent is not None and depth > 0 and doc_url in pages_of.get(parent, ())
        owner = parent if is_page else coll_id
        if not is_page:
            out.collections.setdefault(coll_id, (coll.label, parent))
        for m in coll.members:
            if m.type == "Manifest":
                out.manifests.setdefault(m.id, owner)
            elif m.type == "Collection":
                if depth + 1 > MAX_COLLECTION_DEPTH:
                    out.problems.append(Problem(m.id, f"collections nested deeper than {MAX_COLLECTION_DEPTH}; not followed"))
                    continue
                queue.append((m.id, owner, depth + 1))
        for page_url in (coll.first, coll.next):
            if page_url and page_url not in visited:
                pages_of.setdefault(owner, set()).add(page_url)
                queue.append((page_url, owner, depth + 1))
    return out


def list_manifest_file(url: str, fetch: FetchBytes) -> Listing:
    """A text file with one manifest URL per line (blank lines and # comments ignored)."""
    out = Listing()
    try:
        if url.startswith("file://"):
            text = Path(urlsplit(url).path).read_text(encoding="utf-8")
        else:
            text = fetch(url).decode("utf-8")
    except Exception as e:  # noqa: BLE001
        out.problems.append(Problem(url, f"cannot read the list of manifests: {e}"))
        out.complete = False
        return out
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith(("http://", "https://")):
            out.problems.append(Problem(f"{url} line {n}", f"not an http(s) URL: {line[:200]!r}"))
            continue
        out.manifests.setdefault(line, None)
    return out
