"""Keyword ranking with SQLite FTS5 (BM25), over the tables `documents`, `chunks` and
`chunks_fts`: the SQLite store's own, or the local mirror a PostgreSQL store keeps of its
passages (`KeywordMirror`), so that both rank exactly alike. The index holds each passage as
kb/documents/analysis.py reads it in the passage's stored language (stems, folded), and is asked
for terms analysed the same way, in the query's language (kb/search/query.py). The language
filter finds a document in any of its languages: its own, or one of its passages'."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from kb.documents import analysed_passage
from kb.store.connections import ThreadConnections

FTS_TABLE = """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            title, section, text, tokenize = 'unicode61 remove_diacritics 2'
        );"""
# BM25 column weights (title, section, text) kept as FTS5's own rank, so that
# "ORDER BY rank LIMIT n" takes FTS5's fast path: a title match says more than a passage match.
FTS_RANK = "INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 1.0)');"
FILTER_COLUMNS = {"kind": "kind", "module": "module", "country": "country", "city": "city"}
LIST_FILTER_COLUMNS = {"domain": "domains", "lever": "levers", "twin": "twins"}


def fts_rows(passages: Iterable[tuple]) -> list[tuple]:
    """Rows of `chunks_fts` for passages (id, title, section, text, their document's language,
    their own language)."""
    return [(i, *analysed_passage(title, section, text, document_language, language))
            for i, title, section, text, document_language, language in passages]


def index_passages(db, where: str = "", params: tuple = ()) -> None:
    """Index the SQLite store's passages that `where` (over `chunks c`) chooses."""
    passages = db.execute("SELECT c.id, d.title, c.section, c.text, d.language, c.language FROM chunks c "
                          f"JOIN documents d ON d.id = c.doc_id {where}", params).fetchall()
    db.executemany("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)", fts_rows(passages))


def keyword_passages(db: sqlite3.Connection, terms: Iterable[str], limit: int, filters: dict[str, str] | None = None,
                     within: np.ndarray | None = None) -> list[tuple[int, float]]:
    expression = " OR ".join(fts_quote(t) for t in terms)  # any of the words, ranked by BM25
    if not expression:
        return []
    if not filters and within is None:
        # FTS5's own rank (bm25 with the column weights of FTS_RANK): its fast path
        rows = db.execute("SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                          [expression, limit]).fetchall()
        return [(r[0], r[1]) for r in rows]
    where, params = filter_sql(filters or {})
    if within is not None:
        where += " AND c.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(within.tolist()))
    rows = db.execute(
        f"SELECT chunks_fts.rowid, -chunks_fts.rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
        f"JOIN documents d ON d.id = c.doc_id WHERE chunks_fts MATCH ? AND {where} ORDER BY chunks_fts.rank LIMIT ?",
        [expression, *params, limit],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def passages_with_phrases(db: sqlite3.Connection, phrases: Iterable[Iterable[str]]) -> set[int]:
    """The passages that hold every phrase, in one of its ways (analysed phrases)."""
    expression = " AND ".join("(" + " OR ".join(fts_quote(way) for way in ways) + ")" for ways in phrases)
    if not expression:
        return set()
    return {r[0] for r in db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", [expression])}


def passage_ids_matching(db: sqlite3.Connection, filters: dict[str, str]) -> np.ndarray:
    where, params = filter_sql(filters)
    rows = db.execute(f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", params)
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def fts_quote(term: str) -> str:
    """A term or phrase as an FTS5 string: user text is never read as FTS5 syntax."""
    return '"' + term.replace('"', '""') + '"'


def filter_sql(filters: dict[str, str], alias: str = "d") -> tuple[str, list[str]]:
    """A WHERE clause over `documents AS alias` for exact filters (already validated keys)."""
    clauses, params = ["1"], []
    for key, value in filters.items():
        if key == "language":  # the document's own, or one of its passages'
            clauses.append(f"({alias}.language = ? COLLATE NOCASE OR {alias}.id IN "
                           "(SELECT doc_id FROM chunks WHERE language = ? COLLATE NOCASE))")
            params.append(value)
        elif key in FILTER_COLUMNS:
            clauses.append(f"{alias}.{FILTER_COLUMNS[key]} = ? COLLATE NOCASE")
        elif key in LIST_FILTER_COLUMNS:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({alias}.{LIST_FILTER_COLUMNS[key]}) WHERE value = ?)")
        else:
            raise KeyError(key)
        params.append(value)
    return " AND ".join(clauses), params


MIRROR_SCHEMA = f"""
    CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, kind TEXT, module TEXT, country TEXT, city TEXT,
        language TEXT, domains TEXT, levers TEXT, twins TEXT);
    CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, language TEXT);
    CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
    CREATE INDEX IF NOT EXISTS chunks_language ON chunks(language, doc_id);
    {FTS_TABLE.replace("CREATE VIRTUAL TABLE", "CREATE VIRTUAL TABLE IF NOT EXISTS")}
"""
MIRROR_DOCUMENT_COLUMNS = ("id", "kind", "module", "country", "city", "language", "domains", "levers", "twins")


class KeywordMirror:
    """A local, derived FTS5 index of a remote store's passages (a file in the app server's data
    folder). `state()` says which store, version and log cursor it mirrors; `apply` adds what the
    store logged after that, or starts over for another store. Processes sharing the file take
    turns (one write transaction each)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connections = ThreadConnections(self._connect)
        db = self.db()
        if "language" not in {r[1] for r in db.execute("PRAGMA table_info(chunks)")} and \
                db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks'").fetchone():
            # a mirror made before passages had a language: made again (it is derived), from nothing
            db.executescript("DROP TABLE chunks; DROP TABLE IF EXISTS documents; DROP TABLE IF EXISTS state; "
                             "DROP TABLE IF EXISTS chunks_fts;")
        db.executescript(MIRROR_SCHEMA)
        db.execute(FTS_RANK)  # idempotent: a setting

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode = WAL")
        return db

    def db(self) -> sqlite3.Connection:
        """This thread's connection to the mirror."""
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def state(self) -> dict[str, str]:
        return dict(self.db().execute("SELECT key, value FROM state").fetchall())

    def apply(self, since: dict[str, str] | None, state: dict[str, str], added: list[tuple], documents: list[tuple],
              deleted: list[int]) -> None:
        """Apply what the store logged after the mirror's cursor: `added` passages (id, doc_id,
        title, section, text, language), the `documents` they belong to (MIRROR_DOCUMENT_COLUMNS) and the
        passage ids `deleted`; `since` is the mirror's state they follow, `state` the store's
        identity, version and cursor after them. `since=None` empties the mirror first (it
        mirrored another store, or a later state of this one). Skipped if another process moved
        the mirror meanwhile."""
        db = self.db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if since is None:  # the table made again: an older mirror's may analyse words otherwise
                db.execute("DROP TABLE chunks_fts")
                db.execute(FTS_TABLE)
                db.execute(FTS_RANK)
                for table in ("chunks", "documents", "state"):
                    db.execute(f"DELETE FROM {table}")
            elif dict(db.execute("SELECT key, value FROM state").fetchall()) != since:
                db.execute("ROLLBACK")
                return
            db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in deleted])
            db.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in deleted])
            db.executemany(f"INSERT OR REPLACE INTO documents VALUES ({','.join('?' * len(MIRROR_DOCUMENT_COLUMNS))})",
                           documents)
            db.executemany("INSERT INTO chunks (id, doc_id, language) VALUES (?, ?, ?)",
                           [(r[0], r[1], r[5]) for r in added])
            language = {d[0]: d[MIRROR_DOCUMENT_COLUMNS.index("language")] for d in documents}
            db.executemany("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                           fts_rows((r[0], r[2], r[3], r[4], language.get(r[1]), r[5]) for r in added))
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", [(k, str(v)) for k, v in state.items()])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
