"""The catalog's full-text index: the words of every region's texts and tags, and of every
manifest's label, summary, metadata and canvas labels, kept beside the catalog's tables.

SQLite FTS5 in the embedded default, PostgreSQL full-text search (``tsvector`` with a GIN
index) in scale-out. Words are cut and folded in Python (``text_words``), exactly as
Content Search matches them, and stored as they are: FTS5's ``ascii`` tokenizer (every
non-ASCII character is a word character, ``_`` too) and ``array_to_tsvector`` (no parser,
no dictionary) keep each word one token, so a prefix query finds the same regions as a scan.

Two columns per document: ``words`` (Content Search, autocomplete: word-prefix matches) and
``infix`` (hybrid search: every word's endings of three characters or more, so a prefix query
finds a word inside a word: "angel" in "Archangel").

In SQLite a region's document also says where it is, so that Content Search is answered by
FTS5 alone, without reading the matched rows: its rowid is its place in Content Search's
order (manifest id, canvas position, then annotation order within the canvas: ``region_key``),
and a ``scope`` column holds its manifest, its collection, whether it may be shown (not a
rejected machine annotation) and its motivation as tokens. ``text_region_keys`` maps region
ids to those rowids. PostgreSQL joins the catalog's tables instead (its GIN index and
planner do that well).

Kept in sync within the transaction that changes the catalog: the catalog's sessions note
the regions and manifests written or changed (harvest, machine tags, reviews) as they flush
and write their documents when they commit;
deleting rows removes their documents in the database itself (an SQLite trigger, a
PostgreSQL foreign key with ON DELETE CASCADE), so bulk and cascading deletes are covered.
``rebuild`` rewrites everything (``loupe catalog fulltext --rebuild``); a catalog without
the index, or with an older one, is built when it is opened (``ensure``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from .schema import CanvasRow, ManifestRow, RegionRow
from .text_words import words_of

log = logging.getLogger(__name__)

VERSION = "2"  # of what the documents hold; a catalog with another is rebuilt when opened
META_KEY = "fulltext_version"
REGIONS = "text_regions"
MANIFESTS = "text_manifests"
KEYS = "text_region_keys"
TABLES = (REGIONS, MANIFESTS, KEYS)
MACHINE_MOTIVATION = "tagging"  # of machine regions that name none (search_service.region_annotations)
SEQ_BITS, POSITION_BITS, MANIFEST_BITS = 20, 19, 24
MIN_INFIX = 3  # shortest word ending indexed for hybrid search
MAX_WORD = 500  # characters of a word the index keeps (PostgreSQL lexemes are limited to 2 KB)
BATCH = 2000


class FullTextError(RuntimeError):
    """The full-text index cannot answer; the message says why and what to run."""


# --- documents -----------------------------------------------------------------------------


def region_texts(texts: dict | None, tags: Iterable[Any] | None) -> list[str]:
    """A region's texts (every language) and tags: what Content Search searches."""
    return [t for values in (texts or {}).values() for t in values] + [str(t) for t in tags or ()]


def manifest_texts(label: dict | None, summary: dict | None, metadata: list | None,
                   canvas_labels: Iterable[dict | None] = ()) -> list[str]:
    """A manifest's label, summary, metadata values and canvas labels (every language)."""
    out = _strings(label) + _strings(summary)
    for entry in metadata or ():
        if isinstance(entry, dict):
            out += _strings(entry.get("value"))
    for c in canvas_labels:
        out += _strings(c)
    return out


def infix_words(words: Iterable[str]) -> list[str]:
    """Each word and its endings of ``MIN_INFIX`` characters or more."""
    out: dict[str, None] = {}
    for w in words:
        out.setdefault(w, None)
        for i in range(1, len(w) - MIN_INFIX + 1):
            out.setdefault(w[i:], None)
    return list(out)


def _kept(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(w[:MAX_WORD] for w in words))


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return [str(value)]


@dataclass(frozen=True)
class Doc:
    id: int
    words: list[str]

    @classmethod
    def of(cls, doc_id: int, texts: Iterable[str]) -> "Doc":
        return cls(doc_id, _kept(words_of(texts)))


def is_index_table(name: str) -> bool:
    """Whether a table is the index's own (FTS5 keeps shadow tables ``<name>_data`` and so on)."""
    return any(name == t or name.startswith(f"{t}_") for t in TABLES)


# --- schema ----------------------------------------------------------------------------------


def _sqlite_ddl() -> list[str]:
    options = "tokenize = \"ascii tokenchars '_'\", prefix = '1 2 3', detail = column"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {REGIONS} USING fts5(words, infix, scope, region UNINDEXED, {options})",
        f"CREATE TABLE IF NOT EXISTS {KEYS} (region_id INTEGER PRIMARY KEY, key INTEGER NOT NULL)",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {MANIFESTS} USING fts5(words, infix, {options})",
        f"CREATE TRIGGER IF NOT EXISTS {REGIONS}_gone AFTER DELETE ON regions BEGIN "
        f"DELETE FROM {REGIONS} WHERE rowid = (SELECT key FROM {KEYS} WHERE region_id = old.id); "
        f"DELETE FROM {KEYS} WHERE region_id = old.id; END",
        f"CREATE TRIGGER IF NOT EXISTS {MANIFESTS}_gone AFTER DELETE ON manifests "
        f"BEGIN DELETE FROM {MANIFESTS} WHERE rowid = old.id; END",
    ]


def _postgres_ddl() -> list[str]:
    out = []
    for table, key, parent in ((REGIONS, "region_id", "regions"), (MANIFESTS, "manifest_id", "manifests")):
        out += [
            f"CREATE TABLE IF NOT EXISTS {table} ({key} INTEGER PRIMARY KEY REFERENCES {parent}(id) "
            f"ON DELETE CASCADE, words tsvector NOT NULL, infix tsvector NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS ix_{table}_words ON {table} USING gin (words)",
            f"CREATE INDEX IF NOT EXISTS ix_{table}_infix ON {table} USING gin (infix)",
        ]
    return out


def _dialect(conn: Connection) -> str:
    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise FullTextError(f"the full-text index supports SQLite and PostgreSQL catalogs, not {name}")
    return name


def create(conn: Connection) -> None:
    """Create the index's tables where missing (empty)."""
    for ddl in _sqlite_ddl() if _dialect(conn) == "sqlite" else _postgres_ddl():
        conn.execute(text(ddl))


def drop(conn: Connection) -> None:
    """Remove the index's tables (and SQLite's triggers)."""
    if _dialect(conn) == "sqlite":
        for table in TABLES:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_gone"))
    for table in TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


def exists(conn: Connection) -> bool:
    if _dialect(conn) == "sqlite":
        found = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name IN (:a, :b)"),
                             {"a": REGIONS, "b": MANIFESTS}).scalar()
    else:
        found = conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_name IN (:a, :b) "
                                  "AND table_schema = current_schema()"), {"a": REGIONS, "b": MANIFESTS}).scalar()
    return found == 2


def ensure(conn: Connection) -> bool:
    """Create the index where missing and build it where it is not this version's; True when built."""
    create(conn)
    version = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": META_KEY}).scalar()
    if version == VERSION:
        return False
    rebuild(conn)
    return True


# --- writing ---------------------------------------------------------------------------------


_REGION_ROWS = ("SELECT r.id, r.canvas_id, c.position, c.manifest_id, m.collection_uri, r.texts, r.tags, r.made_by, "
                "r.review, r.motivation FROM regions r JOIN canvases c ON c.id = r.canvas_id "
                "JOIN manifests m ON m.id = c.manifest_id")


def write_regions(conn: Connection, ids: Iterable[int]) -> None:
    """(Re)write the documents of these regions from their rows (and where they are)."""
    ids = sorted(set(ids))
    rows: list[tuple] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        names = ", ".join(f":r{j}" for j in range(len(chunk)))
        rows += [tuple(r) for r in conn.execute(text(f"{_REGION_ROWS} WHERE r.id IN ({names})"),
                                                 {f"r{j}": v for j, v in enumerate(chunk)})]
    if _dialect(conn) != "sqlite":
        _write(conn, REGIONS, "region_id", [Doc.of(r[0], region_texts(_json(r[5]), _json(r[6]))) for r in rows])
        return
    old = _keys_of(conn, [r[0] for r in rows])
    if old:
        conn.execute(text(f"DELETE FROM {REGIONS} WHERE rowid = :k"), [{"k": k} for k in old.values()])
    seqs: dict[tuple[int, int], int] = {}
    out = []
    for row in sorted(rows, key=lambda r: r[0]):  # new regions follow the canvas's others in id order
        region_id, _, position, manifest_id = row[:4]
        prefix = _prefix(manifest_id, position)
        kept = old.get(region_id)
        if kept is not None and kept >> SEQ_BITS == prefix >> SEQ_BITS:
            seq = kept & ((1 << SEQ_BITS) - 1)
        else:
            if (manifest_id, position) not in seqs:
                seqs[(manifest_id, position)] = _last_seq(conn, prefix, old.values())
            seqs[(manifest_id, position)] += 1
            seq = seqs[(manifest_id, position)]
            if seq >= 1 << SEQ_BITS:
                raise FullTextError(f"canvas {row[1]} had more than {1 << SEQ_BITS:,} annotations written over time; "
                                    "run `loupe catalog fulltext --rebuild`")
        out.append(_sqlite_region(row, prefix | seq))
    _insert_sqlite_regions(conn, out)


def _prefix(manifest_id: int, position: int) -> int:
    if manifest_id >= 1 << MANIFEST_BITS or not 0 <= position < 1 << POSITION_BITS:
        raise FullTextError(f"manifest {manifest_id} (canvas at position {position}) is beyond what the SQLite "
                            f"full-text index orders ({1 << MANIFEST_BITS:,} manifests, {1 << POSITION_BITS:,} canvases "
                            "each): use PostgreSQL (catalog_url)")
    return (manifest_id << (POSITION_BITS + SEQ_BITS)) | (position << SEQ_BITS)


def _last_seq(conn: Connection, prefix: int, removed: Iterable[int]) -> int:
    """The highest annotation number in use on the canvas of ``prefix`` (-1: none)."""
    top = conn.execute(text(f"SELECT max(rowid) FROM {REGIONS} WHERE rowid BETWEEN :lo AND :hi"),
                       {"lo": prefix, "hi": prefix + (1 << SEQ_BITS) - 1}).scalar()
    mine = [k for k in removed if k >> SEQ_BITS == prefix >> SEQ_BITS]  # removed just now: not reused
    best = max([top] + mine if top is not None else mine, default=None)
    return -1 if best is None else best & ((1 << SEQ_BITS) - 1)


def _keys_of(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        names = ", ".join(f":r{j}" for j in range(len(chunk)))
        out.update(conn.execute(text(f"SELECT region_id, key FROM {KEYS} WHERE region_id IN ({names})"),
                                {f"r{j}": v for j, v in enumerate(chunk)}).all())
    return out


def _sqlite_region(row: Sequence[Any], key: int) -> dict[str, Any]:
    region_id, _, _, manifest_id, collection, texts, tags, made_by, review, motivation = row
    words = _kept(words_of(region_texts(_json(texts), _json(tags))))
    return {"key": key, "region": region_id, "words": " ".join(words), "infix": " ".join(_kept(infix_words(words))),
            "scope": " ".join(scope_tokens(manifest_id, collection, made_by, review, motivation))}


def _insert_sqlite_regions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    conn.execute(text(f"INSERT INTO {REGIONS} (rowid, words, infix, scope, region) "
                      f"VALUES (:key, :words, :infix, :scope, :region)"), rows)
    conn.execute(text(f"INSERT OR REPLACE INTO {KEYS} (region_id, key) VALUES (:region, :key)"), rows)


def scope_tokens(manifest_id: int, collection: str | None, made_by: str | None, review: str | None,
                 motivation: str | None) -> list[str]:
    """Where a region is and what it is, as words of the ``scope`` column: ``m<id>`` its
    manifest, ``c<key>`` its manifest's collection, ``v`` shown (not a rejected machine
    annotation), ``t<key>`` its motivation as Content Search reads it."""
    out = [f"m{manifest_id}"]
    if collection:
        out.append(collection_token(collection))
    if made_by != "machine" or review is None or review != "rejected":
        out.append("v")
    stated = motivation.split(":", 1)[-1] if motivation else (MACHINE_MOTIVATION if made_by == "machine" else None)
    if stated is not None:
        out.append(motivation_token(stated))
    return out


def collection_token(uri: str) -> str:
    return "c" + _key(uri)


def motivation_token(motivation: str) -> str:
    return "t" + _key(motivation)


def _key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def write_manifests(conn: Connection, docs: Sequence[Doc]) -> None:
    _write(conn, MANIFESTS, "manifest_id", docs)


def _write(conn: Connection, table: str, key: str, docs: Sequence[Doc]) -> None:
    if not docs:
        return
    rows = [{"id": d.id, "words": d.words, "infix": _kept(infix_words(d.words))} for d in docs]
    if _dialect(conn) == "sqlite":
        conn.execute(text(f"DELETE FROM {table} WHERE rowid = :id"), [{"id": r["id"]} for r in rows])
        conn.execute(text(f"INSERT INTO {table} (rowid, words, infix) VALUES (:id, :words, :infix)"),
                     [{**r, "words": " ".join(r["words"]), "infix": " ".join(r["infix"])} for r in rows])
    else:
        conn.execute(text(f"INSERT INTO {table} ({key}, words, infix) VALUES "
                          f"(:id, array_to_tsvector(CAST(:words AS text[])), array_to_tsvector(CAST(:infix AS text[]))) "
                          f"ON CONFLICT ({key}) DO UPDATE SET words = excluded.words, infix = excluded.infix"), rows)


def rebuild(conn: Connection) -> dict[str, Any]:
    """Rewrite every document from the catalog's rows; records this version in ``meta``."""
    start = time.perf_counter()
    drop(conn)
    create(conn)
    regions = 0
    if _dialect(conn) == "sqlite":
        canvas, seq = None, -1
        for chunk in _chunks(conn.execute(text(f"{_REGION_ROWS} ORDER BY c.manifest_id, c.position, r.id")), BATCH):
            rows = []
            for row in chunk:
                seq = seq + 1 if row[1] == canvas else 0
                canvas = row[1]
                rows.append(_sqlite_region(row, _prefix(row[3], row[2]) | seq))
            _insert_sqlite_regions(conn, rows)
            regions += len(chunk)
    else:
        for chunk in _chunks(conn.execute(text("SELECT id, texts, tags FROM regions ORDER BY id")), BATCH):
            _write(conn, REGIONS, "region_id", [Doc.of(i, region_texts(_json(t), _json(g))) for i, t, g in chunk])
            regions += len(chunk)
    manifests = 0
    for chunk in _chunks(conn.execute(text("SELECT id, label, summary, metadata FROM manifests "
                                           "WHERE status != 'deleted' ORDER BY id")), BATCH):
        write_manifests(conn, _manifest_docs(conn, chunk))
        manifests += len(chunk)
    _set_version(conn)
    seconds = round(time.perf_counter() - start, 2)
    log.info("full-text index rebuilt: %d regions, %d manifests in %.1f s", regions, manifests, seconds)
    return {"regions": regions, "manifests": manifests, "seconds": seconds}


def refresh_manifests(conn: Connection, ids: Iterable[int]) -> None:
    """Rewrite the documents of these manifests from their rows (deleted ones: removed)."""
    ids = sorted(set(ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        params = {f"m{j}": v for j, v in enumerate(chunk)}
        names = ", ".join(f":m{j}" for j in range(len(chunk)))
        rows = conn.execute(text(f"SELECT id, label, summary, metadata, status FROM manifests WHERE id IN ({names})"),
                            params).all()
        live = [r[:4] for r in rows if r[4] != "deleted"]
        gone = [{"id": r[0]} for r in rows if r[4] == "deleted"]
        if gone:
            key = "rowid" if _dialect(conn) == "sqlite" else "manifest_id"
            conn.execute(text(f"DELETE FROM {MANIFESTS} WHERE {key} = :id"), gone)
        write_manifests(conn, _manifest_docs(conn, live))


def _manifest_docs(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[Doc]:
    if not rows:
        return []
    params = {f"m{j}": r[0] for j, r in enumerate(rows)}
    names = ", ".join(f":m{j}" for j in range(len(rows)))
    canvas_labels: dict[int, list] = {}
    for manifest_id, label in conn.execute(text(f"SELECT manifest_id, label FROM canvases WHERE manifest_id IN "
                                                f"({names}) ORDER BY manifest_id, position"), params):
        canvas_labels.setdefault(manifest_id, []).append(_json(label))
    return [Doc.of(i, manifest_texts(_json(label), _json(summary), _json(metadata), canvas_labels.get(i, ())))
            for i, label, summary, metadata in rows]


def _set_version(conn: Connection) -> None:
    if conn.execute(text("SELECT 1 FROM meta WHERE key = :k"), {"k": META_KEY}).scalar() is None:
        conn.execute(text("INSERT INTO meta (key, value) VALUES (:k, :v)"), {"k": META_KEY, "v": VERSION})
    else:
        conn.execute(text("UPDATE meta SET value = :v WHERE key = :k"), {"k": META_KEY, "v": VERSION})


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for r in rows:
        chunk.append(tuple(r))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- keeping in sync -------------------------------------------------------------------------


def keep_in_sync(factory: sessionmaker) -> None:
    """Write the documents of regions and manifests a session adds or changes, once per
    commit, in the committing transaction (flushes note what changed)."""
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _forget)


@dataclass
class _Pending:
    regions: set[int]
    canvases: set[int]  # moved to another position
    manifests: set[int]
    moved: set[int]  # manifests moved to another collection


def _pending(session: Session) -> _Pending:
    found = session.info.get("fulltext")
    if found is None:
        found = session.info["fulltext"] = _Pending(set(), set(), set(), set())
    return found


def _forget(session: Session) -> None:
    session.info.pop("fulltext", None)


def _after_flush(session: Session, _context: Any) -> None:
    p = _pending(session)
    for obj in (*session.new, *session.dirty):
        if obj in session.deleted:
            continue
        if isinstance(obj, RegionRow) and obj.id is not None:
            if obj in session.new or _changed(obj, ("texts", "tags", "review", "motivation", "made_by", "canvas_id")):
                p.regions.add(obj.id)
        elif isinstance(obj, ManifestRow) and obj.id is not None:
            p.manifests.add(obj.id)
            if obj not in session.new and _changed(obj, ("collection_uri",)):
                p.moved.add(obj.id)
        elif isinstance(obj, CanvasRow) and obj.manifest_id is not None and (
                obj in session.new or _changed(obj, ("label", "position"))):
            p.manifests.add(obj.manifest_id)
            if obj not in session.new and _changed(obj, ("position",)):
                p.canvases.add(obj.id)


def _before_commit(session: Session) -> None:
    session.flush()
    p = session.info.pop("fulltext", None)
    if p is None or not (p.regions or p.manifests):
        return
    conn = session.connection()
    regions = set(p.regions)
    if p.canvases or p.moved:  # where their regions are changed: their documents say where
        regions |= set(_ids(conn, "SELECT id FROM regions WHERE canvas_id IN ({})", p.canvases))
        regions |= set(_ids(conn, "SELECT r.id FROM regions r JOIN canvases c ON c.id = r.canvas_id "
                                  "WHERE c.manifest_id IN ({})", p.moved))
    write_regions(conn, regions)  # regions deleted since are skipped (no row)
    refresh_manifests(conn, p.manifests)


def _ids(conn: Connection, sql: str, values: Iterable[int]) -> list[int]:
    values = sorted(values)
    out: list[int] = []
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        names = ", ".join(f":v{j}" for j in range(len(chunk)))
        out += [r[0] for r in conn.execute(text(sql.format(names)), {f"v{j}": v for j, v in enumerate(chunk)})]
    return out


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


# --- reading ---------------------------------------------------------------------------------


def prefix_match(dialect: str, words: Sequence[str], *, column: str = "words", any_word: bool = False) -> str:
    """The MATCH (FTS5) or tsquery (PostgreSQL) text: every word (or any, ``any_word``) as a prefix."""
    words = [w[:MAX_WORD] for w in words]
    if dialect == "sqlite":
        joiner = " OR " if any_word else " AND "
        return f"{column} : (" + joiner.join(f'"{w}"*' for w in words) + ")"
    joiner = " | " if any_word else " & "
    return joiner.join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)


def matching_ids_sql(table: str = REGIONS, column: str = "words") -> str:
    """PostgreSQL: SQL selecting the ids of documents matching ``:q`` (made by ``prefix_match``)."""
    key = "region_id" if table == REGIONS else "manifest_id"
    return f"SELECT {key} FROM {table} WHERE {column} @@ CAST(:q AS tsquery)"


def scoped_match(words: Sequence[str], *, manifest_id: int | None = None, collections: Iterable[str] = (),
                 motivations: Iterable[str] = ()) -> str:
    """SQLite: the MATCH text for shown regions with every word as a word prefix, in one
    manifest or in any of ``collections``, with one of ``motivations`` (none: any)."""
    parts = [prefix_match("sqlite", words)] if words else []
    parts.append("scope : (v)")
    if manifest_id is not None:
        parts.append(f"scope : (m{int(manifest_id)})")
    else:
        parts.append("scope : (" + " OR ".join(collection_token(c) for c in sorted(collections)) + ")")
    wanted = sorted(motivation_token(m) for m in motivations)
    if wanted:
        parts.append("scope : (" + " OR ".join(wanted) + ")")
    return " AND ".join(parts)


def count_matching(conn: Connection, match: str) -> int:
    """SQLite: how many regions ``match`` (``scoped_match``) finds."""
    return conn.execute(text(f"SELECT count(*) FROM {REGIONS} WHERE {REGIONS} MATCH :q"), {"q": match}).scalar() or 0


def matching_regions(conn: Connection, match: str, offset: int = 0, limit: int | None = None) -> list[int]:
    """SQLite: the ids of the regions ``match`` finds, in Content Search's order, from ``offset``."""
    rows = conn.execute(text(f"SELECT region FROM {REGIONS} WHERE {REGIONS} MATCH :q ORDER BY rowid "
                             "LIMIT :n OFFSET :o"), {"q": match, "n": -1 if limit is None else limit, "o": offset})
    return [r[0] for r in rows]


def needs_check(words: Sequence[str]) -> bool:
    """Whether a query has a word longer than the index keeps (its matches must be checked)."""
    return any(len(w) > MAX_WORD for w in words)


def candidates(conn: Connection, words: Sequence[str], table: str, limit: int) -> list[tuple[int, list[str]]]:
    """(id, words) of documents that may answer ``words``, for hybrid search to score: up to
    ``limit`` with every word as a word beginning, then for each word up to ``limit`` with
    it whole, then (words of three characters or more) inside a word. Each step stops at
    ``limit`` without ranking what it finds (ranking every match of a common word would
    cost more than all the rest), so the text ranker's time does not grow with the catalog."""
    if not words:
        return []
    dialect = _dialect(conn)
    steps = [(prefix_match(dialect, words), False)] if len(words) > 1 else []
    for w in words:
        steps.append((_whole(dialect, w), False))
        if len(w) >= MIN_INFIX:
            steps.append((prefix_match(dialect, [w], column="infix"), True))
    found: dict[int, list[str]] = {}
    for q, infix in steps:
        for doc_id, doc_words in _first(conn, dialect, table, q, limit, infix=infix):
            found.setdefault(doc_id, doc_words)
    return list(found.items())


def _whole(dialect: str, word: str) -> str:
    word = word[:MAX_WORD]
    if dialect == "sqlite":
        return f'words : ("{word}")'
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _first(conn: Connection, dialect: str, table: str, q: str, limit: int, *, infix: bool
           ) -> list[tuple[int, list[str]]]:
    if dialect == "sqlite":
        doc_id = "region" if table == REGIONS else "rowid"
        rows = conn.execute(text(f"SELECT {doc_id}, words FROM {table} WHERE {table} MATCH :q LIMIT :n"),
                            {"q": q, "n": limit})
        return [(i, w.split()) for i, w in rows]
    key = "region_id" if table == REGIONS else "manifest_id"
    column = "infix" if infix else "words"
    rows = conn.execute(text(f"SELECT {key}, tsvector_to_array(words) FROM {table} "
                             f"WHERE {column} @@ CAST(:q AS tsquery) LIMIT :n"), {"q": q, "n": limit})
    return [(i, list(w)) for i, w in rows]


def status(conn: Connection) -> dict[str, Any]:
    """Documents held against rows to index, and whether a rebuild is due."""
    if not exists(conn):
        return {"version": None, "regions": 0, "manifests": 0, "catalog_regions": None, "catalog_manifests": None,
                "stale": True}
    dialect = _dialect(conn)
    rk, mk = ("region", "rowid") if dialect == "sqlite" else ("region_id", "manifest_id")
    version = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": META_KEY}).scalar()
    held_regions = conn.execute(text(f"SELECT count(*) FROM {REGIONS} t JOIN regions r ON r.id = t.{rk}")).scalar()
    all_regions = conn.execute(text(f"SELECT count(*) FROM {REGIONS}")).scalar()
    catalog_regions = conn.execute(text("SELECT count(*) FROM regions")).scalar()
    held_manifests = conn.execute(text(f"SELECT count(*) FROM {MANIFESTS} t JOIN manifests m ON m.id = t.{mk} "
                                       "WHERE m.status != 'deleted'")).scalar()
    catalog_manifests = conn.execute(text("SELECT count(*) FROM manifests WHERE status != 'deleted'")).scalar()
    return {"version": version, "regions": held_regions, "manifests": held_manifests,
            "orphans": all_regions - held_regions, "catalog_regions": catalog_regions,
            "catalog_manifests": catalog_manifests,
            "stale": version != VERSION or held_regions != catalog_regions or held_manifests != catalog_manifests}
