"""The PostgreSQL store: one database shared by several app servers (`KB_STORE=postgresql://…`).

Connections come from a pool; every write is one transaction that first takes the store's write
lock (an advisory lock), so writes are serial as in SQLite: a note's version check and its save
cannot interleave with another server's, and passage ids grow in commit order, which is what
lets every server catch up from `id > cursor`. Keyword search runs on a local FTS5 mirror of the
passages (kb/store/fts.py), caught up from the same log, so it ranks exactly as SQLite does.
While the database cannot be reached, calls raise `Unavailable` (503 with Retry-After)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from kb.documents import ANALYSIS, Chunk, Practice, words
from kb.errors import Busy, Unavailable
from kb.store import describe, fts
from kb.store.base import (
    AskedText, Changes, City, Cursor, Digest, Event, IndexSnapshot, Meeting, NoteRecord, NoteVersion, Pairing, Passage, PlanComment,
    LoggedSearch, PlanRecord, SearchDay, ShortlistItem, Store, StoredDocument, Transaction, UserRecord, batched, plan_moved_on, storable,
)
from kb.store.postgres_migrations import MIGRATIONS, NOW
from kb.store.rows import (
    ADD_MEETING, DOCUMENT_LANGUAGES, PASSAGE_COLUMNS, PLAN_COLUMNS, SEARCH_LOG_STATE, chunk_languages, languages_from,
    languages_sql, SHORTLIST_COLUMNS, TABLES, asked_texts_in,
    forget_searches_in, log_searches_in, mark_searches_in, plan_of, record_login_sql, save_search_vectors_sql,
    search_day_of, search_days_sql, search_vectors_sql, shortlist_item_of, changes_of, city_of, city_values, counts_of, cursor_of, document_means, document_values,
    event_of, inbox_sql, index_snapshot_of, meeting_of, meeting_values, meetings_sql, note_in, note_of, plan_in, practice_of,
    select_all, user_of, version_of,
)

MIRROR_FILE = "keywords.sqlite3"  # the local keyword mirror, in the app server's data folder
POOL_SIZE = 8
# How long a write waits for another writer, how long a call waits for a connection while the
# database is away, and when a refused caller should try again.
LOCK_TIMEOUT_S, CONNECT_TIMEOUT_S, RETRY_AFTER_S = 3, 2, 2
WRITE_LOCK, MIGRATION_LOCK = 4_210_001, 4_210_002  # advisory lock keys
_SERIAL_TABLES = {"chunks": "id", "users": "id", "plan_comments": "id", "events": "id", "meetings": "id",
                  "searches": "id"}


class _Row(tuple):
    """A row read by position or by column name, as sqlite3.Row is."""

    names: dict[str, int]

    def __getitem__(self, key):
        return tuple.__getitem__(self, self.names[key] if isinstance(key, str) else key)


def _row_factory(cursor):
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values):
        row = _Row(values)
        row.names = names
        return row

    return make


class PostgresTransaction(Transaction):
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def _run(self, sql: str, params: Iterable = ()) -> psycopg.Cursor:
        return self.conn.execute(sql, storable(params))

    def put_document(self, practice: Practice, chunks: list[Chunk], vectors: np.ndarray, model_id: str,
                     fingerprint: str) -> None:
        self.remove_documents([practice.id])
        columns = TABLES["documents"][:-1]
        self._run(f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                  document_values(practice, fingerprint, model_id))
        self._count_words([practice.title, *(c.text for c in chunks)], +1)
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO chunks (doc_id, ordinal, section, text, content_hash, model_id, vector, language) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [storable((practice.id, c.ordinal, c.section, c.text, c.content_hash, model_id,
                           np.asarray(v, dtype=np.float32).tobytes(), language))
                 for c, v, language in zip(chunks, vectors, chunk_languages(practice, chunks))])

    def remove_documents(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            texts = self._run("SELECT title FROM documents WHERE id = %s UNION ALL "
                              "SELECT text FROM chunks WHERE doc_id = %s", (doc_id, doc_id)).fetchall()
            self._count_words([t[0] for t in texts], -1)
            self._run("INSERT INTO deleted_chunks (chunk_id) SELECT id FROM chunks WHERE doc_id = %s ORDER BY id",
                      (doc_id,))
            self._run("DELETE FROM chunks WHERE doc_id = %s", (doc_id,))
            self._run("DELETE FROM documents WHERE id = %s", (doc_id,))

    def _count_words(self, texts: list[str], sign: int) -> None:
        counts = Counter(word for text in texts for word in words(text))
        with self.conn.cursor() as cursor:
            cursor.executemany("INSERT INTO words VALUES (%s, %s) ON CONFLICT (word) "
                               "DO UPDATE SET count = words.count + excluded.count",
                               [(word, sign * n) for word, n in sorted(counts.items())])
        if sign < 0:
            self._run("DELETE FROM words WHERE count <= 0")

    def replace_cities(self, cities: Iterable[City]) -> None:
        self._run("DELETE FROM cities")
        with self.conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO cities VALUES ({', '.join(['%s'] * len(TABLES['cities']))})",
                               [storable(city_values(c)) for c in cities])

    def note(self, note_id: str) -> NoteRecord | None:
        return note_in(self.conn, note_id, "%s")

    def save_note(self, note: NoteRecord, author_id: int | None) -> None:
        self._run(
            "INSERT INTO notes (id, city, country, fields, version, deleted, author_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, "
            f"version = excluded.version, deleted = excluded.deleted, updated_at = {NOW}",
            (note.id, note.city, note.country, json.dumps(note.fields), note.version, int(note.deleted), author_id))

    def record_note_version(self, note_id: str, version: int, action: str, fields: dict,
                            user_id: int | None) -> None:
        self._run("INSERT INTO note_versions (note_id, version, action, fields, user_id) VALUES (%s, %s, %s, %s, %s)",
                  (note_id, version, action, json.dumps(fields), user_id))

    def user(self, username: str) -> UserRecord | None:
        return user_of(self._run("SELECT * FROM users WHERE lower(username) = lower(%s)", (username,)).fetchone())

    def add_user(self, username: str, city: str | None, role: str) -> int:
        return self._run("INSERT INTO users (username, city, role, password_hash, token_hash) "
                         "VALUES (%s, %s, %s, '', '') RETURNING id", (username, city, role)).fetchone()[0]

    def set_user_secrets(self, user_id: int, password_hash: str, token_hash: str) -> None:
        self._run("UPDATE users SET password_hash = %s, token_hash = %s WHERE id = %s",
                  (password_hash, token_hash, user_id))

    def set_user_disabled(self, user_id: int, disabled: bool) -> None:
        self._run("UPDATE users SET disabled = %s WHERE id = %s", (int(disabled), user_id))

    def set_user_token_hash(self, user_id: int, token_hash: str) -> None:
        self._run("UPDATE users SET token_hash = %s WHERE id = %s", (token_hash, user_id))

    def set_user_language(self, user_id: int, language: str | None) -> None:
        self._run("UPDATE users SET language = %s WHERE id = %s", (language, user_id))

    def record_login_failure(self, username: str, client: str, at: float) -> None:
        self._run("INSERT INTO login_failures (username, at, client) VALUES (%s, %s, %s)", (username, at, client))

    def forget_before(self, at: float) -> None:
        self._run("DELETE FROM login_failures WHERE at < %s", (at,))
        self._run("DELETE FROM sessions WHERE expires_at < %s", (at,))

    def clear_login_failures(self, username: str, client: str | None = None) -> None:
        if client is None:
            self._run("DELETE FROM login_failures WHERE lower(username) = lower(%s)", (username,))
        else:
            self._run("DELETE FROM login_failures WHERE lower(username) = lower(%s) AND client = %s",
                      (username, client))

    def add_session(self, session_hash: str, user_id: int, expires_at: float) -> None:
        self._run("INSERT INTO sessions (id, user_id, expires_at) VALUES (%s, %s, %s)",
                  (session_hash, user_id, expires_at))

    def end_session(self, session_hash: str) -> None:
        self._run("DELETE FROM sessions WHERE id = %s", (session_hash,))

    def end_sessions(self, user_id: int) -> None:
        self._run("DELETE FROM sessions WHERE user_id = %s", (user_id,))

    def keep(self, twin: str, doc_id: str, user_id: int | None) -> bool:
        return self._run(f"INSERT INTO shortlist (twin, doc_id, added_by, status_at) VALUES (%s, %s, %s, {NOW}) "
                         "ON CONFLICT DO NOTHING",
                         (twin, doc_id, user_id)).rowcount == 1

    def update_kept(self, twin: str, doc_id: str, status: str, note: str) -> bool:
        return self._run(f"UPDATE shortlist SET status_at = CASE WHEN status = %s THEN status_at ELSE {NOW} END, "
                         "status = %s, note = %s WHERE twin = %s AND doc_id = %s",
                         (status, status, note, twin, doc_id)).rowcount == 1

    def unkeep(self, twin: str, doc_id: str) -> bool:
        return self._run("DELETE FROM shortlist WHERE twin = %s AND doc_id = %s", (twin, doc_id)).rowcount == 1

    def plan(self, twin: str) -> PlanRecord | None:
        return plan_in(self.conn, twin, "%s")

    def save_plan(self, plan: PlanRecord, user_id: int | None) -> None:
        sections = json.dumps(plan.sections)
        cursor = self._run(
            "INSERT INTO plans (twin, version, sections, shared, final, adopted, updated_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (twin) DO UPDATE SET version = excluded.version, "
            "sections = excluded.sections, shared = excluded.shared, final = excluded.final, "
            f"adopted = excluded.adopted, updated_by = excluded.updated_by, updated_at = {NOW} "
            "WHERE plans.version = excluded.version - 1",
            (plan.twin, plan.version, sections, int(plan.shared), int(plan.final), json.dumps(plan.adopted), user_id))
        if cursor.rowcount != 1:
            raise plan_moved_on(plan)
        self._run("INSERT INTO plan_versions (twin, version, sections, user_id) VALUES (%s, %s, %s, %s)",
                  (plan.twin, plan.version, sections, user_id))

    def add_comment(self, twin: str, section: str, text: str, user_id: int) -> int:
        return self._run("INSERT INTO plan_comments (twin, section, text, author_id) VALUES (%s, %s, %s, %s) "
                         "RETURNING id", (twin, section, text, user_id)).fetchone()[0]

    def resolve_comment(self, twin: str, comment_id: int, user_id: int) -> bool:
        return self._run(f"UPDATE plan_comments SET resolved_by = %s, resolved_at = {NOW} "
                         "WHERE id = %s AND twin = %s AND resolved_at IS NULL",
                         (user_id, comment_id, twin)).rowcount == 1

    def add_pairing(self, twin: str, pilot: str, user_id: int | None) -> bool:
        return self._run("INSERT INTO pairings (twin, pilot, added_by) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                         (twin, pilot, user_id)).rowcount == 1

    def remove_pairing(self, twin: str, pilot: str) -> bool:
        return self._run("DELETE FROM pairings WHERE twin = %s AND pilot = %s", (twin, pilot)).rowcount == 1

    def add_city(self, city: City) -> bool:
        if self._run("SELECT 1 FROM cities WHERE lower(city) = lower(%s)", (city.city,)).fetchone():
            return False
        self._run(f"INSERT INTO cities VALUES ({', '.join(['%s'] * len(TABLES['cities']))})", city_values(city))
        return True

    def add_meeting(self, meeting: Meeting, user_id: int | None) -> int:
        return self._run(ADD_MEETING + "(%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                         meeting_values(meeting, user_id)).fetchone()[0]

    def notify(self, user_ids: Iterable[int], kind: str, text: str, link: str, actor_id: int | None) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany("INSERT INTO events (user_id, kind, text, link, actor_id) VALUES (%s, %s, %s, %s, %s)",
                               [storable((u, kind, text, link, actor_id)) for u in dict.fromkeys(user_ids)])

    def mark_read(self, user_id: int, ids: Iterable[int] | None = None) -> int:
        unread = f"UPDATE events SET read_at = {NOW} WHERE user_id = %s AND read_at IS NULL"
        if ids is None:
            return self._run(unread, (user_id,)).rowcount
        return self._run(f"{unread} AND id = ANY(%s)", (user_id, [int(i) for i in ids])).rowcount

    def set_digest(self, user_id: int, email: str, frequency: str) -> None:
        self._run("INSERT INTO digests (user_id, email, frequency) VALUES (%s, %s, %s) ON CONFLICT (user_id) "
                  "DO UPDATE SET email = excluded.email, frequency = excluded.frequency", (user_id, email, frequency))

    def digest_sent(self, user_id: int, at: str, last_event: int) -> None:
        self._run("UPDATE digests SET sent_at = %s, last_event = %s WHERE user_id = %s", (at, last_event, user_id))

    def log_searches(self, searches: Iterable[LoggedSearch]) -> None:
        log_searches_in(self.conn, searches, "%s")

    def mark_searches(self, clicked: Iterable[str] = (), kept_visits: Iterable[str] = ()) -> None:
        mark_searches_in(self.conn, clicked, kept_visits, "%s")

    def forget_searches(self, before: str | None) -> int:
        return forget_searches_in(self.conn, before, "%s")

    def save_search_vectors(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [storable((h, model_id, np.asarray(v, dtype=np.float32).tobytes())) for h, v in vectors.items()]
        self.conn.cursor().executemany(save_search_vectors_sql("%s"), rows)

    def record_login(self, user_id: int) -> None:
        self.conn.execute(record_login_sql("%s", NOW), (user_id,))

    def keep_file(self, ref: str, data: bytes) -> None:
        self._run("INSERT INTO files VALUES (%s, %s) ON CONFLICT DO NOTHING", (ref, data))

    def insert_rows(self, table: str, rows: Iterable[tuple]) -> None:
        columns = TABLES[table]
        upsert = " ON CONFLICT (key) DO UPDATE SET value = excluded.value" if table == "meta" else ""
        with self.conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                               f"VALUES ({', '.join(['%s'] * len(columns))}){upsert}", [storable(r) for r in rows])
        if table in _SERIAL_TABLES:  # new rows continue after the copied ids
            column = _SERIAL_TABLES[table]
            self._run(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                      f"coalesce(max({column}), 0) + 1, false) FROM {table}")


class PostgresStore(Store):
    shared = True

    def __init__(self, url: str, local: Path):
        """The store in the database at `url`; `local` is this app server's data folder, where
        the keyword mirror lives. Opening brings the schema up to date (kb migrate)."""
        self.where = describe(url)  # for messages: the address without a password
        self.pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT_S,
                                   kwargs={"autocommit": True, "row_factory": _row_factory,
                                           "connect_timeout": CONNECT_TIMEOUT_S},
                                   check=ConnectionPool.check_connection, open=False, name="kb")
        self.pool.open(wait=False)
        try:
            self._migrate()
            self.store_identity = self.identity()
        except BaseException:
            self.pool.close()
            raise
        self.mirror = fts.KeywordMirror(Path(local) / MIRROR_FILE)
        self._mirrored = -1  # the store version the mirror was last seen at

    def close(self) -> None:
        self.mirror.close()
        self.pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(f"the store ({self.where}) cannot be reached: try again in {RETRY_AFTER_S} seconds",
                              data={"retry_after": RETRY_AFTER_S}) from exc

    def _migrate(self) -> None:
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > len(MIGRATIONS):
                raise RuntimeError(f"the store's schema version {current} is newer than this program knows "
                                   f"({len(MIGRATIONS)}): upgrade twin-cities-kb")
            for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
                conn.execute(migration)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))

    @contextmanager
    def write(self, documents: bool = True) -> Iterator[PostgresTransaction]:
        with self._connection() as conn, conn.transaction():
            try:
                conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            except psycopg.errors.LockNotAvailable as exc:
                raise Busy(f"the store is busy with another write; try again in {RETRY_AFTER_S} seconds",
                           data={"retry_after": RETRY_AFTER_S}) from exc
            conn.execute("SET LOCAL lock_timeout = 0")
            yield PostgresTransaction(conn)
            if documents:
                conn.execute("INSERT INTO meta VALUES ('version', '1') ON CONFLICT (key) "
                             "DO UPDATE SET value = (meta.value::bigint + 1)::text")

    @contextmanager
    def _snapshot(self) -> Iterator[psycopg.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def _rows(self, sql: str, params: Iterable = ()) -> list[_Row]:
        with self._connection() as conn:
            return conn.execute(sql, storable(params)).fetchall()

    def _one(self, sql: str, params: Iterable = ()):
        with self._connection() as conn:
            return conn.execute(sql, storable(params)).fetchone()

    def _value(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return row[0] if row else None

    def version(self) -> int:
        return int(self._value("version") or 0)

    def secret(self, name: str) -> bytes:
        key = f"secret:{name}"
        if self._value(key) is None:
            with self.write(documents=False) as tx:
                tx.conn.execute("INSERT INTO meta VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, secrets.token_hex(32)))
        return bytes.fromhex(self._value(key))

    # -- documents ---------------------------------------------------------------------------

    def stored_documents(self) -> dict[str, StoredDocument]:
        rows = self._rows("SELECT id, content_hash, model_id, path FROM documents")
        return {r[0]: StoredDocument(r[1], r[2], r[3]) for r in rows}

    def reusable_vectors(self, hashes: Iterable[str], model_id: str) -> dict[str, np.ndarray]:
        rows = self._rows("SELECT content_hash, vector FROM chunks WHERE model_id = %s AND content_hash = ANY(%s)",
                          (model_id, list(hashes)))
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def documents(self, ids: Iterable[str]) -> dict[str, Practice]:
        wanted = list(dict.fromkeys(ids))
        rows = {r["id"]: practice_of(r) for r in self._rows("SELECT * FROM documents WHERE id = ANY(%s)", (wanted,))}
        return {doc_id: rows[doc_id] for doc_id in wanted if doc_id in rows}

    def document_count(self) -> int:
        return self._one("SELECT count(*) FROM documents")[0]

    def document_languages(self) -> dict[str, int]:
        return dict(self._rows(DOCUMENT_LANGUAGES))

    def languages_of(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return languages_from(self._rows(languages_sql("SELECT unnest(%s::text[])"), (list(dict.fromkeys(ids)),)))

    def holders_of_file(self, ref: str) -> tuple[list[str], list[str], list[int]]:
        quoted = json.dumps(ref)  # as it stands in the JSON of a document's files and a note's fields
        documents = self._rows("SELECT id FROM documents WHERE strpos(files, %s) > 0", (quoted,))
        notes = self._rows("SELECT id FROM notes WHERE strpos(fields, %s) > 0", (quoted,))
        meetings = self._rows("SELECT id FROM meetings WHERE strpos(files, %s) > 0", (quoted,))
        return [r[0] for r in documents], [r[0] for r in notes], [r[0] for r in meetings]

    def documents_of_city(self, name: str) -> list[Practice]:
        rows = self._rows('SELECT * FROM documents WHERE lower(city) = lower(%s) ORDER BY kind COLLATE "C", '
                          'title COLLATE "C"', (name,))
        return [practice_of(r) for r in rows]

    def document_counts_by_city(self) -> dict[str, int]:
        return dict(self._rows("SELECT city, count(*) FROM documents WHERE city IS NOT NULL GROUP BY city"))

    def document_vectors(self, model_id: str, ids: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        where, params = ("", [model_id]) if ids is None else (" AND doc_id = ANY(%s)", [model_id, list(ids)])
        rows = self._rows(f"SELECT doc_id, vector FROM chunks WHERE model_id = %s{where} "
                          'ORDER BY doc_id COLLATE "C", id', params)
        return document_means(rows)

    def counts(self) -> dict[str, object]:
        with self._snapshot() as conn:
            return counts_of(conn, "SELECT j, count(*) FROM documents, "
                                   "jsonb_array_elements_text(documents.{}::jsonb) j GROUP BY j")

    # -- passages ----------------------------------------------------------------------------

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        rows = self._rows(f"SELECT {PASSAGE_COLUMNS} FROM chunks WHERE id = ANY(%s)", ([int(i) for i in ids],))
        return {r[0]: Passage(*r) for r in rows}

    def passages_of(self, doc_id: str) -> list[Passage]:
        rows = self._rows(f"SELECT {PASSAGE_COLUMNS} FROM chunks WHERE doc_id = %s ORDER BY ordinal, id", (doc_id,))
        return [Passage(*r) for r in rows]

    def passage_owners(self, ids: Iterable[int]) -> dict[int, str]:
        rows = self._rows("SELECT id, doc_id FROM chunks WHERE id = ANY(%s)", ([int(i) for i in ids],))
        return {r[0]: r[1] for r in rows}

    def passage_count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return self._one("SELECT count(*) FROM chunks")[0]
        return self._one("SELECT count(*) FROM chunks WHERE model_id = %s", (model_id,))[0]

    def passage_ids_matching(self, filters: dict[str, str]) -> np.ndarray:
        return fts.passage_ids_matching(self._keywords(), filters)

    def keyword_passages(self, terms: Iterable[str], limit: int, filters: dict[str, str] | None = None,
                         within: np.ndarray | None = None) -> list[tuple[int, float]]:
        terms = list(terms)
        try:
            return fts.keyword_passages(self._keywords(), terms, limit, filters, within)
        except sqlite3.OperationalError:
            # ("SQL logic error", once in a CI run: a reader of the mirror while another thread of
            # this server caught it up) the mirror as it is now, once more
            return fts.keyword_passages(self._keywords(), terms, limit, filters, within)

    def passages_with_phrases(self, phrases: Iterable[Iterable[str]]) -> set[int]:
        return fts.passages_with_phrases(self._keywords(), phrases)

    def _keywords(self):
        """The keyword mirror's connection, once the mirror holds what the store holds now."""
        version = self.version()
        while self._mirrored != version:
            state = self.mirror.state()
            if state.get("identity") == self.store_identity and state.get("analysis") == ANALYSIS \
                    and int(state.get("version", -1)) >= version:
                self._mirrored = version
                break
            self._catch_up_mirror(state)
        return self.mirror.db()

    def _catch_up_mirror(self, state: dict[str, str]) -> None:
        since = Cursor(int(state.get("passage", 0)), int(state.get("deletion", 0)))
        with self._snapshot() as conn:
            now = cursor_of(conn)
            restart = state.get("identity") != self.store_identity or state.get("analysis") != ANALYSIS \
                or since.passage > now.passage or since.deletion > now.deletion
            if restart:
                since = Cursor()
            added = conn.execute("SELECT c.id, c.doc_id, d.title, c.section, c.text, c.language FROM chunks c "
                                 "JOIN documents d ON d.id = c.doc_id WHERE c.id > %s ORDER BY c.id",
                                 (since.passage,)).fetchall()
            documents = conn.execute(f"SELECT {', '.join(fts.MIRROR_DOCUMENT_COLUMNS)} FROM documents "
                                     "WHERE id = ANY(%s)", (list({r[1] for r in added}),)).fetchall()
            deleted = [r[0] for r in conn.execute("SELECT chunk_id FROM deleted_chunks WHERE seq > %s",
                                                  (since.deletion,))]
            version = version_of(conn)
        after = {"identity": self.store_identity, "analysis": ANALYSIS, "version": str(version), "passage": str(now.passage),
                 "deletion": str(now.deletion)}
        self.mirror.apply(None if restart else state, after, [tuple(r) for r in added],
                          [tuple(r) for r in documents], deleted)

    def index_snapshot(self, model_id: str, with_vectors: bool) -> IndexSnapshot:
        with self._snapshot() as conn:
            return index_snapshot_of(conn, model_id, with_vectors, "%s")

    def changes_since(self, cursor: Cursor, model_id: str) -> Changes:
        with self._snapshot() as conn:
            return changes_of(conn, cursor, model_id, "%s")

    # -- cities ------------------------------------------------------------------------------

    def city(self, name: str) -> City | None:
        row = self._one("SELECT * FROM cities WHERE lower(city) = lower(%s)", (name,))
        return city_of(row) if row else None

    def cities(self) -> list[City]:
        return [city_of(r) for r in self._rows('SELECT * FROM cities ORDER BY city COLLATE "C"')]

    # -- notes -------------------------------------------------------------------------------

    def note(self, note_id: str) -> NoteRecord | None:
        with self._connection() as conn:
            return note_in(conn, note_id, "%s")

    def note_versions(self, note_id: str) -> list[NoteVersion]:
        rows = self._rows("SELECT version, action, fields, user_id, at FROM note_versions WHERE note_id = %s "
                          "ORDER BY version", (note_id,))
        return [NoteVersion(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def live_note_ids(self) -> list[str]:
        return [r[0] for r in self._rows('SELECT id FROM notes WHERE deleted = 0 ORDER BY id COLLATE "C"')]

    def deleted_notes(self, city: str) -> list[NoteRecord]:
        rows = self._rows("SELECT * FROM notes WHERE deleted = 1 AND city = %s ORDER BY updated_at DESC", (city,))
        return [note_of(r) for r in rows]

    # -- accounts ----------------------------------------------------------------------------

    def user(self, username: str) -> UserRecord | None:
        return user_of(self._one("SELECT * FROM users WHERE lower(username) = lower(%s)", (username,)))

    def user_by_id(self, user_id: int) -> UserRecord | None:
        return user_of(self._one("SELECT * FROM users WHERE id = %s", (user_id,)))

    def users(self) -> list[UserRecord]:
        return [user_of(r) for r in self._rows('SELECT * FROM users ORDER BY lower(username) COLLATE "C"')]

    def shortlist(self, twin: str) -> list[ShortlistItem]:
        rows = self._rows(f"SELECT {SHORTLIST_COLUMNS} FROM shortlist WHERE twin = %s "
                          'ORDER BY added_at, doc_id COLLATE "C"', (twin,))
        return [ShortlistItem(*r) for r in rows]

    def plan(self, twin: str) -> PlanRecord | None:
        with self._connection() as conn:
            return plan_in(conn, twin, "%s")

    def plan_versions(self, twin: str) -> list[tuple[int, str]]:
        rows = self._rows("SELECT version, at FROM plan_versions WHERE twin = %s ORDER BY version", (twin,))
        return [(r[0], r[1]) for r in rows]

    def plan_comments(self, twin: str) -> list[PlanComment]:
        rows = self._rows("SELECT c.id, c.twin, c.section, c.text, u.username, c.at, c.resolved_at IS NOT NULL "
                          "FROM plan_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.twin = %s "
                          "ORDER BY c.id", (twin,))
        return [PlanComment(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def final_plans_adopting(self, doc_id: str) -> list[str]:
        rows = self._rows("SELECT twin FROM plans WHERE final = 1 AND adopted::jsonb @> jsonb_build_array(%s::text) "
                          'ORDER BY twin COLLATE "C"', (doc_id,))
        return [r[0] for r in rows]

    def pairings(self) -> list[Pairing]:
        rows = self._rows('SELECT twin, pilot, added_at FROM pairings ORDER BY twin COLLATE "C", pilot COLLATE "C"')
        return [Pairing(*r) for r in rows]

    def known_words(self, words: Iterable[str]) -> set[str]:
        return {r[0] for r in self._rows("SELECT word FROM words WHERE word = ANY(%s)", (list(words),))}

    def meetings(self, twin: str | None = None, pilot: str | None = None) -> list[Meeting]:
        sql, params = meetings_sql("%s", twin, pilot)
        return [meeting_of(r) for r in self._rows(sql, params)]

    def inbox(self, user_id: int, limit: int = 200) -> list[Event]:
        return [event_of(r) for r in self._rows(inbox_sql("%s"), (user_id, limit))]

    def unread_count(self, user_id: int) -> int:
        return self._one("SELECT count(*) FROM events WHERE user_id = %s AND read_at IS NULL", (user_id,))[0]

    def asked_texts(self, since: str, until: str, most: int) -> tuple[list[AskedText], int]:
        return asked_texts_in(self._rows, "%s", since, until, most)

    def search_vectors(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found = {}
        for batch in batched(list(hashes)):
            for text_hash, vector in self._rows(search_vectors_sql("%s", len(batch)), (model_id, *batch)):
                found[text_hash] = np.frombuffer(bytes(vector), dtype=np.float32)
        return found

    def search_days(self, since: str, until: str) -> list[SearchDay]:
        return [search_day_of(r) for r in self._rows(search_days_sql("%s"), (since, until))]

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

    def vocabulary(self, least: int = 1) -> dict[str, int]:
        return dict(self._rows("SELECT word, count FROM words WHERE count >= %s", (least,)))

    def login_failures(self, username: str, client: str, since: float) -> tuple[int, float | None]:
        row = self._one("SELECT count(*), max(at) FROM login_failures WHERE lower(username) = lower(%s) "
                        "AND client = %s AND at > %s", (username, client, since))
        return row[0], row[1]

    def client_failures(self, client: str, since: float) -> tuple[int, float | None]:
        row = self._one("SELECT count(*), max(at) FROM login_failures WHERE client = %s AND at > %s", (client, since))
        return row[0], row[1]

    def session_user(self, session_hash: str, now: float) -> int | None:
        row = self._one("SELECT user_id FROM sessions WHERE id = %s AND expires_at > %s", (session_hash, now))
        return row[0] if row else None

    def file(self, ref: str) -> bytes | None:
        row = self._one("SELECT data FROM files WHERE ref = %s", (ref,))
        return row[0] if row else None

    # -- copying -----------------------------------------------------------------------------

    def table_rows(self, table: str) -> Iterator[tuple]:
        with self._connection() as conn, conn.transaction():
            yield from _table_rows(conn, table)

    @contextmanager
    def snapshot(self) -> Iterator[Callable[[str], Iterator[tuple]]]:
        with self._snapshot() as conn:
            yield lambda table: _table_rows(conn, table)


def _table_rows(conn: psycopg.Connection, table: str) -> Iterator[tuple]:
    """A table's rows through a server-side cursor: a large table is not held in memory at once."""
    with conn.cursor(name=f"copy_{table}") as cursor:
        cursor.execute(select_all(table))
        for row in cursor:
            yield tuple(row)
