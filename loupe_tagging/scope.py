"""Which manifests a COLLECTION argument means, and which vocabulary tags each of them.

A COLLECTION is ``all``, a source (id, name or URL: every manifest it brought), or a IIIF
Collection URI from the catalog (its manifests and those of the collections below it).
Each has a vocabulary key: ``all``, the source's name (``source-<id>`` when unnamed), or for
a collection below a source's own, its URL key (``search_service.urls.uri_key``: 16 hex
digits, the key that names collections in the service's other URLs too). The most specific curator list wins: the
manifest's collection (walking up to its parents), then its source, then ``all``, then the
built-in default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select

from connector.catalog import Catalog, CatalogError
from connector.catalog.keys import uri_key
from connector.catalog.schema import CollectionRow, ManifestRow, Source
from loupe_index.catalog_targets import ImageToIndex, images_to_index

from .default_vocabulary import DEFAULT_NAME
from .vocabulary import Vocabulary, default_vocabulary
from .vocabulary_store import ALL, StoredVocabulary, VocabularyStore

_SOURCE_KEY = re.compile(r"^source-(\d+)$")


class ScopeError(LookupError):
    """A COLLECTION argument that names nothing in the catalog."""


@dataclass(frozen=True)
class CollectionScope:
    key: str  # the vocabulary key of this scope
    description: str
    source_id: int | None = None  # None: every source
    collection_uris: frozenset[str] | None = None  # None: every collection of the source(s)
    collection_uri: str | None = None  # the IIIF Collection named, if one was

    def contains(self, source_id: int, collection_uri: str | None) -> bool:
        if self.source_id is not None and source_id != self.source_id:
            return False
        return self.collection_uris is None or collection_uri in self.collection_uris


def source_key(source_id: int, name: str | None) -> str:
    return name if name and re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", name) else f"source-{source_id}"


def collection_key(uri: str) -> str:
    return uri_key(uri)


def resolve_scope(catalog: Catalog, ref: str) -> CollectionScope:
    """``ref``: all, a source id/name/URL, ``source-<id>``, or a collection's URI or URL key.
    Raises ScopeError."""
    ref = (ref or "").strip()
    if ref == ALL:
        return CollectionScope(ALL, "every collection")
    with catalog.session() as s:
        collections = {c.uri: c for c in s.scalars(select(CollectionRow))}
        sources = {src.id: src for src in s.scalars(select(Source))}
    by_key = {collection_key(uri): uri for uri in collections}
    uri = by_key.get(ref, ref)
    if uri in collections:
        row = collections[uri]
        source = sources.get(row.source_id)
        if source is not None and source.url == uri:  # the source's own top collection
            return _source_scope(source.id, source.name)
        return CollectionScope(collection_key(uri), f"collection {uri}", row.source_id,
                               frozenset(_descendants(uri, collections)), uri)
    match = _SOURCE_KEY.match(ref)
    if match and int(match.group(1)) in sources:
        src = sources[int(match.group(1))]
        return _source_scope(src.id, src.name)
    try:
        info = catalog.get_source(ref)
    except CatalogError:
        raise ScopeError(f"{ref!r} is neither 'all', a source (id, name or URL; `loupe source list`) "
                         "nor a IIIF Collection in the catalog") from None
    return _source_scope(info.id, info.name)


def _source_scope(source_id: int, name: str | None) -> CollectionScope:
    return CollectionScope(source_key(source_id, name), f"source {name or source_id}", source_id)


def _descendants(uri: str, collections: dict[str, CollectionRow]) -> set[str]:
    children: dict[str, list[str]] = {}
    for c in collections.values():
        if c.parent_uri:
            children.setdefault(c.parent_uri, []).append(c.uri)
    found, todo = set(), [uri]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


class VocabularyChooser:
    """Picks the vocabulary for each manifest (most specific curator list first); built once
    per tagging run from the stored lists, so the run is consistent even if a list changes."""

    def __init__(self, catalog: Catalog, store: VocabularyStore, override: Vocabulary | None = None) -> None:
        self.override = override
        self._stored = store.list()
        with catalog.session() as s:
            self._parents = {c.uri: c.parent_uri for c in s.scalars(select(CollectionRow))}

    def choose(self, source_id: int, collection_uri: str | None) -> Vocabulary:
        if self.override is not None:
            return self.override
        return pick_vocabulary(self._stored, _chain(collection_uri, self._parents.get), source_id)


def pick_vocabulary(stored: list[StoredVocabulary], chain: list[str], source_id: int | None) -> Vocabulary:
    """The list of the nearest collection in ``chain`` (a manifest's collection, then its
    parents) that has one, else the source's, else ``all``, else the built-in default."""
    by_collection = {v.collection_uri: v.vocabulary for v in stored if v.collection_uri}
    for uri in chain:
        if uri in by_collection:
            return by_collection[uri]
    by_source = {v.source_id: v.vocabulary for v in stored if v.source_id is not None and not v.collection_uri}
    if source_id in by_source:
        return by_source[source_id]
    return next((v.vocabulary for v in stored if v.key == ALL), None) or default_vocabulary()


def _chain(collection_uri: str | None, parent_of) -> list[str]:  # noqa: ANN001 - uri -> parent uri or None
    chain: list[str] = []
    uri = collection_uri
    while uri and uri not in chain:
        chain.append(uri)
        uri = parent_of(uri)
    return chain


def scope_images(catalog: Catalog, scope: CollectionScope) -> Iterator[ImageToIndex]:
    """The catalog's images inside ``scope``, manifest by manifest (what tagging, detection and
    the training samples walk)."""
    return (i for i in images_to_index(catalog, source_id=scope.source_id) if scope.contains(i.source_id, i.collection))


def named_vocabulary(store: VocabularyStore, name: str) -> Vocabulary:
    """``default`` (built in) or a stored key; raises ScopeError."""
    if name == DEFAULT_NAME:
        return default_vocabulary()
    found: StoredVocabulary | None = store.get(name)
    if found is None:
        keys = ", ".join([DEFAULT_NAME, *(v.key for v in store.list())])
        raise ScopeError(f"no vocabulary {name!r}; known: {keys}")
    return found.vocabulary


def vocabulary_key(catalog: Catalog, store: VocabularyStore, name: str) -> str:
    """The key of the list ``name`` means: ``default``, a stored key as given, else the key of
    the collection or source it names. Raises ScopeError when it names nothing."""
    if name == DEFAULT_NAME or store.get(name) is not None:
        return name
    return resolve_scope(catalog, name).key


def vocabulary_for_manifest(catalog: Catalog, store: VocabularyStore, manifest: str) -> Vocabulary:
    """The list a manifest's images are tagged with (its collection's, its source's, 'all',
    else the default), as a tagging run would choose it; reads only the manifest's collections
    and the lists that may apply (one request's worth, not the whole catalog)."""
    with catalog.session() as s:
        row = s.execute(select(ManifestRow.source_id, ManifestRow.collection_uri)
                        .where(ManifestRow.uri == manifest)).first()
        if row is None:
            return default_vocabulary()
        chain = _chain(row.collection_uri,
                       lambda uri: s.scalar(select(CollectionRow.parent_uri).where(CollectionRow.uri == uri)))
    return pick_vocabulary(store.applying_to(chain, row.source_id), chain, row.source_id)
