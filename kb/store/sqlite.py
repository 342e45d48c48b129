"""The SQLite store: one database file in WAL mode, the embedded default for one machine.

Each thread reads through a connection of its own, so readers never wait for each other (WAL
lets them read while a writer writes); every write is one `BEGIN IMMEDIATE` transaction."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from kb.documents import Chunk, Practice, words
from kb.errors import Busy
from kb.store import fts
from kb.store.connections import ThreadConnections
from kb.store.base import (
    AskedText, Changes, City, Cursor, Digest, Event, IndexSnapshot, Meeting, NoteRecord, NoteVersion, Pairing, Passage, PlanComment,
    LoggedSearch, PlanRecord, SearchDay, ShortlistItem, Store, StoredDocument, Transaction, UserRecord, batched, plan_moved_on, storable,
)
from kb.store.rows import (
    ADD_MEETING, DOCUMENT_LANGUAGES, PASSAGE_COLUMNS, PLAN_COLUMNS, SEARCH_LOG_STATE, chunk_languages, languages_from,
    languages_sql, SHORTLIST_COLUMNS, TABLES, asked_texts_in,
    forget_searches_in, log_searches_in, mark_searches_in, plan_of, record_login_sql, save_search_vectors_sql,
    search_day_of, search_days_sql, search_vectors_sql, shortlist_item_of, changes_of, city_of, city_values, counts_of, document_means, document_values, index_snapshot_of, note_in, note_of,
    event_of, inbox_sql, meeting_of, meeting_values, meetings_sql, plan_in, practice_of, select_all, user_of, version_of,
)
from kb.store.sqlite_migrations import migrate

_NOW = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
# How long a write waits for another writer before it is refused as busy (readers never wait:
# WAL), and when the refused caller should try again.
BUSY_TIMEOUT_S, RETRY_AFTER_S = 3, 2


class _Storable:
    """A connection whose writes refuse text no store can hold (kb/store/base.py `storable`)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def execute(self, sql: str, params: Iterable = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, storable(params))

    def executemany(self, sql: str, rows: Iterable[Iterable]) -> sqlite3.Cursor:
        return self._db.executemany(sql, (storable(row) for row in rows))


class SqliteTransaction(Transaction):
    def __init__(self, db: sqlite3.Connection):
        self.db = _Storable(db)

    def put_document(self, practice: Practice, chunks: list[Chunk], vectors: np.ndarray, model_id: str,
                     fingerprint: str) -> None:
        self.remove_documents([practice.id])
        columns = TABLES["documents"][:-1]
        self.db.execute(f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        document_values(practice, fingerprint, model_id))
        self._count_words([practice.title, *(c.text for c in chunks)], +1)
        indexed = []
        for chunk, vector, language in zip(chunks, vectors, chunk_languages(practice, chunks)):
            cursor = self.db.execute(
                "INSERT INTO chunks (doc_id, ordinal, section, text, content_hash, model_id, vector, language) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (practice.id, chunk.ordinal, chunk.section, chunk.text, chunk.content_hash,
                 model_id, np.asarray(vector, dtype=np.float32).tobytes(), language),
            )
            indexed.append((cursor.lastrowid, practice.title, chunk.section, chunk.text, practice.language, language))
        self.db.executemany("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                            fts.fts_rows(indexed))

    def remove_documents(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            texts = self.db.execute("SELECT title FROM documents WHERE id = ? UNION ALL "
                                    "SELECT text FROM chunks WHERE doc_id = ?", (doc_id, doc_id)).fetchall()
            self._count_words([t[0] for t in texts], -1)
            self.db.execute(
                "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE doc_id = ?)", (doc_id,)
            )
            self.db.execute("INSERT INTO deleted_chunks (chunk_id) SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def _count_words(self, texts: list[str], sign: int) -> None:
        counts = Counter(word for text in texts for word in words(text))
        self.db.executemany("INSERT INTO words VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET count = count + excluded.count",
                            [(word, sign * n) for word, n in counts.items()])
        if sign < 0:
            self.db.execute("DELETE FROM words WHERE count <= 0")

    def replace_cities(self, cities: Iterable[City]) -> None:
        self.db.execute("DELETE FROM cities")
        self.db.executemany("INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", map(city_values, cities))

    def note(self, note_id: str) -> NoteRecord | None:
        return note_in(self.db, note_id, "?")

    def save_note(self, note: NoteRecord, author_id: int | None) -> None:
        self.db.execute(
            "INSERT INTO notes (id, city, country, fields, version, deleted, author_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET fields = excluded.fields, version = excluded.version, "
            f"deleted = excluded.deleted, updated_at = {_NOW}",
            (note.id, note.city, note.country, json.dumps(note.fields), note.version, int(note.deleted), author_id),
        )

    def record_note_version(self, note_id: str, version: int, action: str, fields: dict,
                            user_id: int | None) -> None:
        self.db.execute("INSERT INTO note_versions (note_id, version, action, fields, user_id) VALUES (?, ?, ?, ?, ?)",
                        (note_id, version, action, json.dumps(fields), user_id))

    def user(self, username: str) -> UserRecord | None:
        return user_of(self.db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone())

    def add_user(self, username: str, city: str | None, role: str) -> int:
        cursor = self.db.execute(
            "INSERT INTO users (username, city, role, password_hash, token_hash) VALUES (?, ?, ?, '', '')",
            (username, city, role),
        )
        return cursor.lastrowid

    def set_user_secrets(self, user_id: int, password_hash: str, token_hash: str) -> None:
        self.db.execute("UPDATE users SET password_hash = ?, token_hash = ? WHERE id = ?",
                        (password_hash, token_hash, user_id))

    def set_user_disabled(self, user_id: int, disabled: bool) -> None:
        self.db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))

    def set_user_token_hash(self, user_id: int, token_hash: str) -> None:
        self.db.execute("UPDATE users SET token_hash = ? WHERE id = ?", (token_hash, user_id))

    def set_user_language(self, user_id: int, language: str | None) -> None:
        self.db.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))

    def record_login_failure(self, username: str, client: str, at: float) -> None:
        self.db.execute("INSERT INTO login_failures (username, at, client) VALUES (?, ?, ?)", (username, at, client))

    def forget_before(self, at: float) -> None:
        self.db.execute("DELETE FROM login_failures WHERE at < ?", (at,))
        self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (at,))

    def clear_login_failures(self, username: str, client: str | None = None) -> None:
        if client is None:
            self.db.execute("DELETE FROM login_failures WHERE username = ?", (username,))
        else:
            self.db.execute("DELETE FROM login_failures WHERE username = ? AND client = ?", (username, client))

    def add_session(self, session_hash: str, user_id: int, expires_at: float) -> None:
        self.db.execute("INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, ?)",
                        (session_hash, user_id, expires_at))

    def end_session(self, session_hash: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE id = ?", (session_hash,))

    def end_sessions(self, user_id: int) -> None:
        self.db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def keep(self, twin: str, doc_id: str, user_id: int | None) -> bool:
        cursor = self.db.execute(f"INSERT OR IGNORE INTO shortlist (twin, doc_id, added_by, status_at) VALUES (?, ?, ?, {_NOW})",
                                 (twin, doc_id, user_id))
        return cursor.rowcount == 1

    def update_kept(self, twin: str, doc_id: str, status: str, note: str) -> bool:
        cursor = self.db.execute(f"UPDATE shortlist SET status_at = CASE WHEN status = ? THEN status_at ELSE {_NOW} END, "
                                 "status = ?, note = ? WHERE twin = ? AND doc_id = ?", (status, status, note, twin, doc_id))
        return cursor.rowcount == 1

    def unkeep(self, twin: str, doc_id: str) -> bool:
        return self.db.execute("DELETE FROM shortlist WHERE twin = ? AND doc_id = ?", (twin, doc_id)).rowcount == 1

    def plan(self, twin: str) -> PlanRecord | None:
        return plan_in(self.db, twin, "?")

    def save_plan(self, plan: PlanRecord, user_id: int | None) -> None:
        sections = json.dumps(plan.sections)
        values = (plan.twin, plan.version, sections, int(plan.shared), int(plan.final), json.dumps(plan.adopted), user_id)
        cursor = self.db.execute(
            "INSERT INTO plans (twin, version, sections, shared, final, adopted, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(twin) DO UPDATE SET version = excluded.version, sections = excluded.sections, "
            "shared = excluded.shared, final = excluded.final, adopted = excluded.adopted, "
            f"updated_by = excluded.updated_by, updated_at = {_NOW} WHERE plans.version = excluded.version - 1", values)
        if cursor.rowcount != 1:
            raise plan_moved_on(plan)
        self.db.execute("INSERT INTO plan_versions (twin, version, sections, user_id) VALUES (?, ?, ?, ?)",
                        (plan.twin, plan.version, sections, user_id))

    def add_comment(self, twin: str, section: str, text: str, user_id: int) -> int:
        return self.db.execute("INSERT INTO plan_comments (twin, section, text, author_id) VALUES (?, ?, ?, ?)",
                               (twin, section, text, user_id)).lastrowid

    def resolve_comment(self, twin: str, comment_id: int, user_id: int) -> bool:
        cursor = self.db.execute(f"UPDATE plan_comments SET resolved_by = ?, resolved_at = {_NOW} "
                                 "WHERE id = ? AND twin = ? AND resolved_at IS NULL", (user_id, comment_id, twin))
        return cursor.rowcount == 1

    def add_pairing(self, twin: str, pilot: str, user_id: int | None) -> bool:
        cursor = self.db.execute("INSERT OR IGNORE INTO pairings (twin, pilot, added_by) VALUES (?, ?, ?)",
                                 (twin, pilot, user_id))
        return cursor.rowcount == 1

    def remove_pairing(self, twin: str, pilot: str) -> bool:
        return self.db.execute("DELETE FROM pairings WHERE twin = ? AND pilot = ?", (twin, pilot)).rowcount == 1

    def add_city(self, city: City) -> bool:
        if self.db.execute("SELECT 1 FROM cities WHERE city = ? COLLATE NOCASE", (city.city,)).fetchone():
            return False
        self.db.execute("INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", city_values(city))
        return True

    def add_meeting(self, meeting: Meeting, user_id: int | None) -> int:
        return self.db.execute(ADD_MEETING + "(?, ?, ?, ?, ?, ?, ?, ?, ?)", meeting_values(meeting, user_id)).lastrowid

    def notify(self, user_ids: Iterable[int], kind: str, text: str, link: str, actor_id: int | None) -> None:
        self.db.executemany("INSERT INTO events (user_id, kind, text, link, actor_id) VALUES (?, ?, ?, ?, ?)",
                            [(user_id, kind, text, link, actor_id) for user_id in dict.fromkeys(user_ids)])

    def mark_read(self, user_id: int, ids: Iterable[int] | None = None) -> int:
        unread = f"UPDATE events SET read_at = {_NOW} WHERE user_id = ? AND read_at IS NULL"
        if ids is None:
            return self.db.execute(unread, (user_id,)).rowcount
        return sum(self.db.execute(f"{unread} AND id IN ({','.join('?' * len(part))})", (user_id, *part)).rowcount
                   for part in batched(ids))

    def set_digest(self, user_id: int, email: str, frequency: str) -> None:
        self.db.execute("INSERT INTO digests (user_id, email, frequency) VALUES (?, ?, ?) ON CONFLICT (user_id) "
                        "DO UPDATE SET email = excluded.email, frequency = excluded.frequency", (user_id, email, frequency))

    def digest_sent(self, user_id: int, at: str, last_event: int) -> None:
        self.db.execute("UPDATE digests SET sent_at = ?, last_event = ? WHERE user_id = ?", (at, last_event, user_id))

    def log_searches(self, searches: Iterable[LoggedSearch]) -> None:
        log_searches_in(self.db, searches, "?")

    def mark_searches(self, clicked: Iterable[str] = (), kept_visits: Iterable[str] = ()) -> None:
        mark_searches_in(self.db, clicked, kept_visits, "?")

    def forget_searches(self, before: str | None) -> int:
        return forget_searches_in(self.db, before, "?")

    def save_search_vectors(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [storable((h, model_id, np.asarray(v, dtype=np.float32).tobytes())) for h, v in vectors.items()]
        self.db.executemany(save_search_vectors_sql("?"), rows)

    def record_login(self, user_id: int) -> None:
        self.db.execute(record_login_sql("?", _NOW), (user_id,))

    def keep_file(self, ref: str, data: bytes) -> None:
        self.db.execute("INSERT OR IGNORE INTO files VALUES (?, ?)", (ref, data))

    def insert_rows(self, table: str, rows: Iterable[tuple]) -> None:
        columns = TABLES[table]
        verb = "INSERT OR REPLACE" if table == "meta" else "INSERT"
        rows = list(rows)
        self.db.executemany(f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            rows)
        if table == "chunks":
            fts.index_passages(self.db, "WHERE c.id IN (SELECT value FROM json_each(?))",
                               (json.dumps([r[0] for r in rows]),))


class SqliteStore(Store):
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connections = ThreadConnections(self._connect)
        migrate(self._db())

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    @contextmanager
    def write(self, documents: bool = True) -> Iterator[SqliteTransaction]:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise Busy(f"the store is busy with another write; try again in {RETRY_AFTER_S} seconds",
                       data={"retry_after": RETRY_AFTER_S}) from exc
        try:
            yield SqliteTransaction(db)
            if documents:
                db.execute("INSERT INTO meta(key, value) VALUES ('version', '1') ON CONFLICT(key) "
                           "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        db = self._db()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def _rows(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        return self._db().execute(sql, storable(params)).fetchall()

    def _one(self, sql: str, params: Iterable = ()):
        return self._db().execute(sql, storable(params)).fetchone()

    def _by_ids(self, sql: str, ids: Iterable, params: tuple = ()) -> Iterator[sqlite3.Row]:
        """Rows of `sql` for every id, in batches: `{ids}` in `sql` stands for a list of
        parameters, after `params`."""
        for part in batched(dict.fromkeys(ids)):
            yield from self._rows(sql.format(ids=",".join("?" * len(part))), [*params, *part])

    def version(self) -> int:
        return version_of(self._db())

    def secret(self, name: str) -> bytes:
        key = f"secret:{name}"
        if self._one("SELECT 1 FROM meta WHERE key = ?", (key,)) is None:
            with self.write(documents=False) as tx:
                tx.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, secrets.token_hex(32)))
        return bytes.fromhex(self._one("SELECT value FROM meta WHERE key = ?", (key,))[0])

    # -- documents ---------------------------------------------------------------------------

    def stored_documents(self) -> dict[str, StoredDocument]:
        rows = self._rows("SELECT id, content_hash, model_id, path FROM documents")
        return {r["id"]: StoredDocument(r["content_hash"], r["model_id"], r["path"]) for r in rows}

    def reusable_vectors(self, hashes: Iterable[str], model_id: str) -> dict[str, np.ndarray]:
        rows = self._by_ids("SELECT content_hash, vector FROM chunks WHERE model_id = ? AND content_hash IN ({ids})",
                            hashes, (model_id,))
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def documents(self, ids: Iterable[str]) -> dict[str, Practice]:
        return {r["id"]: practice_of(r) for r in self._by_ids("SELECT * FROM documents WHERE id IN ({ids})", ids)}

    def document_count(self) -> int:
        return self._one("SELECT count(*) FROM documents")[0]

    def document_languages(self) -> dict[str, int]:
        return dict(self._rows(DOCUMENT_LANGUAGES))

    def languages_of(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return languages_from(self._by_ids(languages_sql("{ids}"), ids))

    def holders_of_file(self, ref: str) -> tuple[list[str], list[str], list[int]]:
        quoted = json.dumps(ref)  # as it stands in the JSON of a document's files and a note's fields
        documents = self._rows("SELECT id FROM documents WHERE instr(files, ?) > 0", (quoted,))
        notes = self._rows("SELECT id FROM notes WHERE instr(fields, ?) > 0", (quoted,))
        meetings = self._rows("SELECT id FROM meetings WHERE instr(files, ?) > 0", (quoted,))
        return [r[0] for r in documents], [r[0] for r in notes], [r[0] for r in meetings]

    def documents_of_city(self, name: str) -> list[Practice]:
        rows = self._rows("SELECT * FROM documents WHERE city = ? COLLATE NOCASE ORDER BY kind, title", (name,))
        return [practice_of(r) for r in rows]

    def document_counts_by_city(self) -> dict[str, int]:
        return dict(self._rows("SELECT city, count(*) FROM documents WHERE city IS NOT NULL GROUP BY city"))

    def document_vectors(self, model_id: str, ids: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        if ids is None:
            rows = self._rows("SELECT doc_id, vector FROM chunks WHERE model_id = ? ORDER BY doc_id, id", (model_id,))
        else:
            rows = list(self._by_ids("SELECT doc_id, vector FROM chunks WHERE model_id = ? AND doc_id IN ({ids}) "
                                     "ORDER BY doc_id, id", ids, (model_id,)))
        return document_means(rows)

    def counts(self) -> dict[str, object]:
        with self._snapshot() as db:
            return counts_of(db, "SELECT j.value, count(*) FROM documents, json_each(documents.{}) j GROUP BY j.value")

    # -- passages ----------------------------------------------------------------------------

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        rows = self._by_ids(f"SELECT {PASSAGE_COLUMNS} FROM chunks WHERE id IN ({{ids}})", (int(i) for i in ids))
        return {r[0]: Passage(*r) for r in rows}

    def passages_of(self, doc_id: str) -> list[Passage]:
        rows = self._rows(f"SELECT {PASSAGE_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ordinal, id", (doc_id,))
        return [Passage(*r) for r in rows]

    def passage_owners(self, ids: Iterable[int]) -> dict[int, str]:
        return {r[0]: r[1] for r in self._by_ids("SELECT id, doc_id FROM chunks WHERE id IN ({ids})",
                                                 (int(i) for i in ids))}

    def passage_count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return self._one("SELECT count(*) FROM chunks")[0]
        return self._one("SELECT count(*) FROM chunks WHERE model_id = ?", (model_id,))[0]

    def passage_ids_matching(self, filters: dict[str, str]) -> np.ndarray:
        return fts.passage_ids_matching(self._db(), filters)

    def keyword_passages(self, terms: Iterable[str], limit: int, filters: dict[str, str] | None = None,
                         within: np.ndarray | None = None) -> list[tuple[int, float]]:
        return fts.keyword_passages(self._db(), terms, limit, filters, within)

    def passages_with_phrases(self, phrases: Iterable[Iterable[str]]) -> set[int]:
        return fts.passages_with_phrases(self._db(), phrases)

    def index_snapshot(self, model_id: str, with_vectors: bool) -> IndexSnapshot:
        with self._snapshot() as db:
            return index_snapshot_of(db, model_id, with_vectors, "?")

    def changes_since(self, cursor: Cursor, model_id: str) -> Changes:
        with self._snapshot() as db:
            return changes_of(db, cursor, model_id, "?")

    # -- cities ------------------------------------------------------------------------------

    def city(self, name: str) -> City | None:
        row = self._one("SELECT * FROM cities WHERE city = ? COLLATE NOCASE", (name,))
        return city_of(row) if row else None

    def cities(self) -> list[City]:
        return [city_of(r) for r in self._rows("SELECT * FROM cities ORDER BY city")]

    # -- notes -------------------------------------------------------------------------------

    def note(self, note_id: str) -> NoteRecord | None:
        return note_in(self._db(), note_id, "?")

    def note_versions(self, note_id: str) -> list[NoteVersion]:
        rows = self._rows("SELECT version, action, fields, user_id, at FROM note_versions WHERE note_id = ? "
                          "ORDER BY version", (note_id,))
        return [NoteVersion(r["version"], r["action"], json.loads(r["fields"]), r["user_id"], r["at"]) for r in rows]

    def live_note_ids(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT id FROM notes WHERE deleted = 0 ORDER BY id")]

    def deleted_notes(self, city: str) -> list[NoteRecord]:
        rows = self._rows("SELECT * FROM notes WHERE deleted = 1 AND city = ? ORDER BY updated_at DESC", (city,))
        return [note_of(r) for r in rows]

    # -- accounts ----------------------------------------------------------------------------

    def user(self, username: str) -> UserRecord | None:
        return user_of(self._one("SELECT * FROM users WHERE username = ?", (username,)))

    def user_by_id(self, user_id: int) -> UserRecord | None:
        return user_of(self._one("SELECT * FROM users WHERE id = ?", (user_id,)))

    def users(self) -> list[UserRecord]:
        return [user_of(r) for r in self._rows("SELECT * FROM users ORDER BY username")]

    def shortlist(self, twin: str) -> list[ShortlistItem]:
        rows = self._rows(f"SELECT {SHORTLIST_COLUMNS} FROM shortlist WHERE twin = ? "
                          "ORDER BY added_at, doc_id", (twin,))
        return [ShortlistItem(*r) for r in rows]

    def plan(self, twin: str) -> PlanRecord | None:
        return plan_in(self._db(), twin, "?")

    def plan_versions(self, twin: str) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self._rows("SELECT version, at FROM plan_versions WHERE twin = ? ORDER BY version",
                                                 (twin,))]

    def plan_comments(self, twin: str) -> list[PlanComment]:
        rows = self._rows("SELECT c.id, c.twin, c.section, c.text, u.username, c.at, c.resolved_at IS NOT NULL "
                          "FROM plan_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.twin = ? ORDER BY c.id",
                          (twin,))
        return [PlanComment(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def final_plans_adopting(self, doc_id: str) -> list[str]:
        rows = self._rows("SELECT twin FROM plans WHERE final = 1 AND EXISTS "
                          "(SELECT 1 FROM json_each(plans.adopted) WHERE value = ?) ORDER BY twin", (doc_id,))
        return [r[0] for r in rows]

    def pairings(self) -> list[Pairing]:
        return [Pairing(*r) for r in self._rows("SELECT twin, pilot, added_at FROM pairings ORDER BY twin, pilot")]

    def known_words(self, words: Iterable[str]) -> set[str]:
        return {r[0] for r in self._by_ids("SELECT word FROM words WHERE word IN ({ids})", words)}

    def vocabulary(self, least: int = 1) -> dict[str, int]:
        return dict(self._rows("SELECT word, count FROM words WHERE count >= ?", (least,)))

    def meetings(self, twin: str | None = None, pilot: str | None = None) -> list[Meeting]:
        sql, params = meetings_sql("?", twin, pilot)
        return [meeting_of(r) for r in self._rows(sql, params)]

    def inbox(self, user_id: int, limit: int = 200) -> list[Event]:
        return [event_of(r) for r in self._rows(inbox_sql("?"), (user_id, limit))]

    def unread_count(self, user_id: int) -> int:
        return self._one("SELECT count(*) FROM events WHERE user_id = ? AND read_at IS NULL", (user_id,))[0]

    def asked_texts(self, since: str, until: str, most: int) -> tuple[list[AskedText], int]:
        return asked_texts_in(self._rows, "?", since, until, most)

    def search_vectors(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found = {}
        for batch in batched(list(hashes)):
            for text_hash, vector in self._rows(search_vectors_sql("?", len(batch)), (model_id, *batch)):
                found[text_hash] = np.frombuffer(bytes(vector), dtype=np.float32)
        return found

    def search_days(self, since: str, until: str) -> list[SearchDay]:
        return [search_day_of(r) for r in self._rows(search_days_sql("?"), (since, until))]

    def search_log_state(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self._one(SEARCH_LOG_STATE))

    def logins(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self._rows("SELECT user_id, at FROM logins")}

    def shortlists(self) -> list[ShortlistItem]:
        return [shortlist_item_of(r) for r in self._rows(f"SELECT {SHORTLIST_COLUMNS} FROM shortlist ORDER BY twin, added_at")]

    def final_plans(self) -> list[PlanRecord]:
        return [plan_of(r) for r in self._rows(f"SELECT {PLAN_COLUMNS} FROM plans WHERE final = 1 ORDER BY twin")]

    def digests(self) -> dict[int, Digest]:
        rows = self._rows("SELECT user_id, email, frequency, sent_at, last_event FROM digests")
        return {r[0]: Digest(r[1], r[2], r[3], r[4]) for r in rows}

    def login_failures(self, username: str, client: str, since: float) -> tuple[int, float | None]:
        row = self._one("SELECT count(*), max(at) FROM login_failures WHERE username = ? AND client = ? AND at > ?",
                        (username, client, since))
        return row[0], row[1]

    def client_failures(self, client: str, since: float) -> tuple[int, float | None]:
        row = self._one("SELECT count(*), max(at) FROM login_failures WHERE client = ? AND at > ?", (client, since))
        return row[0], row[1]

    def session_user(self, session_hash: str, now: float) -> int | None:
        row = self._one("SELECT user_id FROM sessions WHERE id = ? AND expires_at > ?", (session_hash, now))
        return row[0] if row else None

    def file(self, ref: str) -> bytes | None:
        row = self._one("SELECT data FROM files WHERE ref = ?", (ref,))
        return row[0] if row else None

    # -- copying -----------------------------------------------------------------------------

    def table_rows(self, table: str) -> Iterator[tuple]:
        for row in self._db().execute(select_all(table)):
            yield tuple(row)

    @contextmanager
    def snapshot(self) -> Iterator[Callable[[str], Iterator[tuple]]]:
        # A connection of its own in one read transaction: in WAL mode it keeps reading the state
        # of its first read, and writers are not held up by it.
        with closing(self._connect()) as db:
            db.execute("BEGIN")
            try:
                yield lambda table: (tuple(row) for row in db.execute(select_all(table)))
            finally:
                db.execute("ROLLBACK")
