"""The SQLite store: the single source of truth for documents, passages, vectors and cities."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.chunking import Chunk, fingerprint
from kb.documents import Practice
from kb.migrations import migrate

FILTER_COLUMNS = {"kind": "kind", "country": "country", "city": "city", "language": "language"}
LIST_FILTER_COLUMNS = {"domain": "domains", "lever": "levers"}


@dataclass(frozen=True)
class City:
    city: str
    country: str
    role: str
    cohort: int | None = None
    population: int | None = None
    lat: float | None = None
    lon: float | None = None
    pilot_project: str | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredDocument:
    """What the store remembers of a document to decide whether it changed."""

    content_hash: str
    model_id: str
    path: str | None


class Store:
    """One SQLite database in WAL mode; every write is one transaction that bumps `version`."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("PRAGMA foreign_keys = ON")
        self._lock = threading.RLock()  # one connection; its transactions must not interleave
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self, documents: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; it commits whole or not at all. One that changes documents
        bumps the store version, which tells every process that its index must catch up."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                if documents:
                    self.db.execute(
                        "INSERT INTO meta(key, value) VALUES ('version', '1') ON CONFLICT(key) "
                        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                    )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        with self._lock:
            self.db.execute("BEGIN")
            try:
                yield self.db
            finally:
                self.db.execute("COMMIT")

    def version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    # -- documents ---------------------------------------------------------------------------

    def stored_documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute("SELECT id, content_hash, model_id, path FROM documents")
        return {r["id"]: StoredDocument(r["content_hash"], r["model_id"], r["path"]) for r in rows}

    def reusable_vectors(self, hashes: Iterable[str], model_id: str) -> dict[str, bytes]:
        """Stored vectors of passages with these content hashes, so they need no new embedding."""
        found: dict[str, bytes] = {}
        hashes = list(set(hashes))
        for start in range(0, len(hashes), 500):
            part = hashes[start:start + 500]
            rows = self.db.execute(
                f"SELECT content_hash, vector FROM chunks WHERE model_id = ? "
                f"AND content_hash IN ({','.join('?' * len(part))})",
                [model_id, *part],
            )
            found.update((r[0], r[1]) for r in rows)
        return found

    def write_documents(self, items: list[tuple[Practice, list[Chunk], np.ndarray]], model_id: str) -> None:
        """Insert or replace documents with their passages and vectors, in one transaction."""
        with self.transaction() as db:
            for practice, chunks, vectors in items:
                self.put_document(db, practice, chunks, vectors, model_id)

    def put_document(self, db: sqlite3.Connection, practice: Practice, chunks: list[Chunk], vectors: np.ndarray,
                     model_id: str) -> None:
        """Insert or replace one document inside the caller's transaction."""
        self.remove_documents(db, [practice.id])
        db.execute(
            "INSERT INTO documents (id, title, kind, city, country, domains, levers, module, "
            "language, date, source, sample, body, path, content_hash, model_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                practice.id, practice.title, practice.kind, practice.city, practice.country,
                json.dumps(practice.domains), json.dumps(practice.levers), practice.module,
                practice.language, practice.date, practice.source, int(practice.sample),
                practice.body, practice.path, fingerprint(practice), model_id,
            ),
        )
        for chunk, vector in zip(chunks, vectors):
            cursor = db.execute(
                "INSERT INTO chunks (doc_id, ordinal, section, text, content_hash, model_id, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (practice.id, chunk.ordinal, chunk.section, chunk.text, chunk.content_hash,
                 model_id, np.asarray(vector, dtype=np.float32).tobytes()),
            )
            db.execute(
                "INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                (cursor.lastrowid, practice.title, chunk.section or "", chunk.text),
            )

    def delete_documents(self, ids: Iterable[str]) -> None:
        with self.transaction() as db:
            self.remove_documents(db, list(ids))

    @staticmethod
    def remove_documents(db: sqlite3.Connection, ids: list[str]) -> None:
        """Delete documents with their passages inside the caller's transaction (deletions are logged)."""
        for doc_id in ids:
            db.execute(
                "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE doc_id = ?)", (doc_id,)
            )
            db.execute("INSERT INTO deleted_chunks (chunk_id) SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def get_document(self, doc_id: str) -> Practice | None:
        row = self.db.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return _practice(row) if row else None

    def documents(self, ids: Iterable[str]) -> dict[str, Practice]:
        ids = list(dict.fromkeys(ids))
        found: dict[str, Practice] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT * FROM documents WHERE id IN ({','.join('?' * len(part))})", part)
            found.update((r["id"], _practice(r)) for r in rows)
        return found

    # -- passages and vectors ----------------------------------------------------------------

    def vectors(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """All passage ids and vectors of `model_id`, as (ids int64, matrix float32)."""
        rows = self.db.execute("SELECT id, vector FROM chunks WHERE model_id = ? ORDER BY id", (model_id,)).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, matrix

    def chunk_count(self, model_id: str) -> int:
        return self.db.execute("SELECT count(*) FROM chunks WHERE model_id = ?", (model_id,)).fetchone()[0]

    def chunks(self, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        """Passages by id: id, doc_id, ordinal, section and text."""
        return {row[0]: row for row in self._chunk_rows("id, doc_id, ordinal, section, text", ids)}

    def chunk_owners(self, ids: Iterable[int]) -> dict[int, str]:
        """The document id of each passage: what ranking needs, without reading any text."""
        return {row[0]: row[1] for row in self._chunk_rows("id, doc_id", ids)}

    def _chunk_rows(self, columns: str, ids: Iterable[int]) -> Iterator[sqlite3.Row]:
        ids = list(dict.fromkeys(int(i) for i in ids))
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT {columns} FROM chunks WHERE id IN ({','.join('?' * len(part))})", part)
            yield from rows

    def chunk_ids_matching(self, filters: dict[str, str]) -> np.ndarray:
        """Ids of the passages whose document matches every filter exactly."""
        where, params = filter_sql(filters)
        rows = self.db.execute(
            f"SELECT chunks.id FROM chunks JOIN documents d ON d.id = chunks.doc_id WHERE {where}", params
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    # -- cities ------------------------------------------------------------------------------

    def replace_cities(self, cities: Iterable[City]) -> None:
        with self.transaction(documents=False) as db:
            db.execute("DELETE FROM cities")
            db.executemany(
                "INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(c.city, c.country, c.role, c.cohort, c.population, c.lat, c.lon, c.pilot_project,
                  json.dumps(c.domains)) for c in cities],
            )

    def city(self, name: str) -> City | None:
        row = self.db.execute("SELECT * FROM cities WHERE city = ? COLLATE NOCASE", (name,)).fetchone()
        return _city(row) if row else None

    def documents_of_city(self, name: str) -> list[Practice]:
        rows = self.db.execute(
            "SELECT * FROM documents WHERE city = ? COLLATE NOCASE ORDER BY kind, title", (name,)
        )
        return [_practice(r) for r in rows]

    def city_document_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT city, count(*) FROM documents WHERE city IS NOT NULL GROUP BY city")
        return dict(rows.fetchall())

    def cities(self) -> list[City]:
        rows = self.db.execute("SELECT * FROM cities ORDER BY city")
        return [_city(r) for r in rows]

    # -- figures -----------------------------------------------------------------------------

    def counts(self) -> dict[str, object]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "chunks": one("SELECT count(*) FROM chunks"),
            "cities": one("SELECT count(*) FROM cities"),
            "models": [r[0] for r in self.db.execute("SELECT DISTINCT model_id FROM chunks")],
            "by_kind": dict(self.db.execute("SELECT kind, count(*) FROM documents GROUP BY kind").fetchall()),
            "by_language": dict(
                self.db.execute("SELECT language, count(*) FROM documents GROUP BY language").fetchall()
            ),
            "by_domain": _list_counts(self.db, "domains"),
            "by_lever": _list_counts(self.db, "levers"),
        }


def filter_sql(filters: dict[str, str], alias: str = "d") -> tuple[str, list[str]]:
    """A WHERE clause over `documents AS alias` for exact filters (already validated keys)."""
    clauses, params = ["1"], []
    for key, value in filters.items():
        if key in FILTER_COLUMNS:
            clauses.append(f"{alias}.{FILTER_COLUMNS[key]} = ? COLLATE NOCASE")
            params.append(value)
        elif key in LIST_FILTER_COLUMNS:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({alias}.{LIST_FILTER_COLUMNS[key]}) WHERE value = ?)")
            params.append(value)
        else:
            raise KeyError(key)
    return " AND ".join(clauses), params


def _list_counts(db: sqlite3.Connection, column: str) -> dict[str, int]:
    rows = db.execute(f"SELECT j.value, count(*) FROM documents, json_each(documents.{column}) j GROUP BY j.value")
    return dict(rows.fetchall())


def _city(row: sqlite3.Row) -> City:
    return City(**{**dict(row), "domains": tuple(json.loads(row["domains"]))})


def _practice(row: sqlite3.Row) -> Practice:
    return Practice(
        id=row["id"], title=row["title"], kind=row["kind"], body=row["body"], city=row["city"],
        country=row["country"], domains=tuple(json.loads(row["domains"])), levers=tuple(json.loads(row["levers"])),
        module=row["module"], language=row["language"], date=row["date"], source=row["source"],
        sample=bool(row["sample"]), path=row["path"],
    )
