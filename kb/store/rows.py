"""Rows to records, shared by the backends: each reads the same columns into the same types
(JSON lists and dicts kept as JSON text, flags as integers), so a record means the same
whatever store it came from; the change log, read alike by both; and the tables `kb store copy`
moves, with their checksums."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np

from kb.documents import Chunk, Practice, passage_language
from kb.store.base import (IDENTITY, AskedText, Changes, City, Cursor, Event, IndexSnapshot, LoggedSearch, Meeting,
                           NoteRecord, PlanRecord, SearchDay, ShortlistItem, UserRecord, batched, storable)

# Every table of a store's own data, in an order that respects its references, with its columns.
# Derived data is left out: keyword indexes are rebuilt from passages, the deletion log starts empty.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "cities": ("city", "country", "role", "cohort", "population", "lat", "lon", "pilot_project", "domains", "source"),
    "users": ("id", "username", "city", "role", "password_hash", "token_hash", "disabled", "created_at", "language"),
    "documents": ("id", "title", "kind", "city", "country", "domains", "levers", "module", "language", "date",
                  "source", "sample", "body", "path", "files", "twins", "content_hash", "model_id", "updated_at"),
    "chunks": ("id", "doc_id", "ordinal", "section", "text", "content_hash", "model_id", "vector", "language"),
    "words": ("word", "count"),
    "login_failures": ("username", "at", "client"),
    "sessions": ("id", "user_id", "expires_at"),
    "notes": ("id", "city", "country", "fields", "version", "deleted", "author_id", "created_at", "updated_at"),
    "note_versions": ("note_id", "version", "action", "fields", "user_id", "at"),
    "pairings": ("twin", "pilot", "added_by", "added_at"),
    "shortlist": ("twin", "doc_id", "status", "note", "added_by", "added_at", "status_at"),
    "plans": ("twin", "version", "sections", "shared", "final", "adopted", "updated_by", "updated_at"),
    "plan_versions": ("twin", "version", "sections", "user_id", "at"),
    "plan_comments": ("id", "twin", "section", "text", "author_id", "at", "resolved_by", "resolved_at"),
    "files": ("ref", "data"),
    "events": ("id", "user_id", "kind", "text", "link", "actor_id", "at", "read_at"),
    "digests": ("user_id", "email", "frequency", "sent_at", "last_event"),
    "meetings": ("id", "twin", "pilot", "kind", "date", "module", "participants", "record", "files", "author_id",
                 "at"),
    "logins": ("user_id", "at"),
    "searches": ("id", "ref", "at", "text", "text_hash", "language", "filters", "mode", "results", "weak", "role",
                 "source", "clicked", "kept", "visit"),
}


def select_all(table: str) -> str:
    """Every row of `table` in TABLES' column order (the meta row naming a store's identity is
    each store's own, never copied)."""
    where = f" WHERE key != 'secret:{IDENTITY}'" if table == "meta" else ""
    return f"SELECT {', '.join(TABLES[table])} FROM {table}{where}"


def checksum(rows: Iterable[tuple]) -> str:
    """A digest of a table's rows that ignores their order and each backend's types for the same
    value (bytes and memoryviews, ints and bools)."""
    return checksum_of(row_digest(row) for row in rows)


def row_digest(row: tuple) -> bytes:
    """One row's part of `checksum`, for callers that see the rows one at a time."""
    return hashlib.sha256(repr(tuple(_plain(v) for v in row)).encode()).digest()


def checksum_of(digests: Iterable[bytes]) -> str:
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()


def _plain(value):
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    if isinstance(value, bool):
        return int(value)
    return value


# -- the change log, read alike by both backends; `mark` is the driver's parameter placeholder ---

def version_of(db) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    return int(row[0]) if row else 0


def cursor_of(db) -> Cursor:
    passage = db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
    deletion = db.execute("SELECT coalesce(max(seq), 0) FROM deleted_chunks").fetchone()[0]
    return Cursor(passage, deletion)


def index_snapshot_of(db, model_id: str, with_vectors: bool, mark: str) -> IndexSnapshot:
    """Read inside one read transaction of `db`."""
    columns = "id, doc_id, vector" if with_vectors else "id, doc_id"
    rows = db.execute(f"SELECT {columns} FROM chunks WHERE model_id = {mark} ORDER BY id", (model_id,)).fetchall()
    ids, vectors = vectors_of(rows) if with_vectors else (None, None)
    return IndexSnapshot(version_of(db), len(rows), cursor_of(db), owners_of(rows), ids, vectors)


def changes_of(db, cursor: Cursor, model_id: str, mark: str) -> Changes:
    """Read inside one read transaction of `db`."""
    added = db.execute(f"SELECT id, doc_id, vector FROM chunks WHERE id > {mark} AND model_id = {mark} ORDER BY id",
                       (cursor.passage, model_id)).fetchall()
    deleted = [r[0] for r in db.execute(f"SELECT chunk_id FROM deleted_chunks WHERE seq > {mark}", (cursor.deletion,))]
    count = db.execute(f"SELECT count(*) FROM chunks WHERE model_id = {mark}", (model_id,)).fetchone()[0]
    ids, vectors = vectors_of(added)
    return Changes(version_of(db), count, cursor_of(db), ids, [r[1] for r in added], vectors if added else None,
                   np.array(deleted, dtype=np.int64))


def counts_of(db, listed: str) -> dict[str, object]:
    """Read inside one read transaction of `db`; `listed` counts the values of a JSON list column
    of documents (`{}` stands for the column), in the backend's own SQL."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    grouped = lambda sql: dict(db.execute(sql).fetchall())  # noqa: E731
    return {
        "documents": one("SELECT count(*) FROM documents"),
        "chunks": one("SELECT count(*) FROM chunks"),
        "cities": one("SELECT count(*) FROM cities"),
        "models": [r[0] for r in db.execute("SELECT DISTINCT model_id FROM chunks")],
        "by_kind": grouped("SELECT kind, count(*) FROM documents GROUP BY kind"),
        "by_language": grouped(DOCUMENT_LANGUAGES),
        "by_domain": grouped(listed.format("domains")),
        "by_lever": grouped(listed.format("levers")),
    }


# How many documents each language has, a document counted in each of its languages (its own and
# its passages'), as the language filter finds it (kb/store/fts.py filter_sql).
DOCUMENT_LANGUAGES = ("SELECT language, count(*) FROM (SELECT id AS doc_id, language FROM documents UNION "
                      "SELECT doc_id, language FROM chunks) AS spoken GROUP BY language")
PASSAGE_COLUMNS = "id, doc_id, ordinal, section, text, language"  # a Passage's, in its order


def languages_sql(m: str) -> str:
    """(document id, its language, a language of its passages) for the documents in the list `m`
    stands for."""
    return (f"SELECT d.id, d.language, c.language FROM documents d JOIN chunks c ON c.doc_id = d.id "
            f"WHERE d.id IN ({m}) GROUP BY d.id, d.language, c.language")


def languages_from(rows: Iterable) -> dict[str, tuple[str, ...]]:
    """Each document's languages from `languages_sql` rows: its own first, then its passages' others."""
    own: dict[str, str] = {}
    others: dict[str, set[str]] = {}
    for doc_id, language, spoken in rows:
        own[doc_id] = language
        others.setdefault(doc_id, set()).add(spoken)
    return {doc_id: (language, *sorted(others[doc_id] - {language})) for doc_id, language in own.items()}


def chunk_languages(practice: Practice, chunks: list[Chunk]) -> list[str]:
    """The language stored with each passage: the one chunking read, else the rule for a passage
    that was never read (kb/documents/analysis.py passage_language)."""
    return [c.language or passage_language(practice.language, c.section) or "en" for c in chunks]


def document_means(rows: Iterable) -> tuple[list[str], np.ndarray]:
    """Each document's normalised mean vector from (doc_id, vector) rows grouped by document."""
    grouped: dict[str, list[np.ndarray]] = {}
    for doc_id, blob in rows:
        grouped.setdefault(doc_id, []).append(np.frombuffer(blob, dtype=np.float32))
    if not grouped:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack([np.mean(vectors, axis=0) for vectors in grouped.values()])
    return list(grouped), matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def owners_of(rows: Iterable) -> dict[int, str]:
    """{passage id: document id} from (id, doc_id, ...) rows; one string per document."""
    names: dict[str, str] = {}
    return {row[0]: names.setdefault(row[1], row[1]) for row in rows}


def vectors_of(rows: list) -> tuple[np.ndarray, np.ndarray]:
    """(ids, matrix) from (id, doc_id, vector) rows."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])


def note_of(row) -> NoteRecord:
    return NoteRecord(row["id"], row["city"], row["country"], json.loads(row["fields"]), row["version"],
                      bool(row["deleted"]))


def note_in(db, note_id: str, mark: str) -> NoteRecord | None:
    """The note `note_id`, read through `db` (a connection, or a transaction's)."""
    row = db.execute(f"SELECT * FROM notes WHERE id = {mark}", storable((note_id,))).fetchone()
    return note_of(row) if row is not None else None


def plan_in(db, twin: str, mark: str) -> PlanRecord | None:
    """The plan of `twin`, read through `db` (a connection, or a transaction's)."""
    row = db.execute(f"SELECT {PLAN_COLUMNS} FROM plans WHERE twin = {mark}", storable((twin,))).fetchone()
    return plan_of(row) if row is not None else None


def user_of(row) -> UserRecord | None:
    if row is None:
        return None
    return UserRecord(row["id"], row["username"], row["city"], row["role"], row["password_hash"],
                      row["token_hash"], bool(row["disabled"]), row["language"])


def city_values(city: City) -> tuple:
    return (city.city, city.country, city.role, city.cohort, city.population, city.lat, city.lon, city.pilot_project,
            json.dumps(city.domains), city.source)


def city_of(row) -> City:
    return City(**{name: row[name] for name in TABLES["cities"]} | {"domains": tuple(json.loads(row["domains"]))})


def practice_of(row) -> Practice:
    return Practice(
        id=row["id"], title=row["title"], kind=row["kind"], body=row["body"], city=row["city"],
        country=row["country"], domains=tuple(json.loads(row["domains"])), levers=tuple(json.loads(row["levers"])),
        module=row["module"], language=row["language"], date=row["date"], source=row["source"],
        sample=bool(row["sample"]), path=row["path"], files=tuple(json.loads(row["files"])),
        twins=tuple(json.loads(row["twins"])),
    )


def document_values(practice: Practice, fingerprint: str, model_id: str) -> tuple:
    """A document's columns for an insert, in the order of TABLES["documents"] without updated_at."""
    return (practice.id, practice.title, practice.kind, practice.city, practice.country, json.dumps(practice.domains),
            json.dumps(practice.levers), practice.module, practice.language, practice.date, practice.source,
            int(practice.sample), practice.body, practice.path, json.dumps(practice.files), json.dumps(practice.twins),
            fingerprint, model_id)


# -- the inbox and a pairing's meetings: the same SQL for both backends, `m` the placeholder ----

def inbox_sql(m: str) -> str:
    return ("SELECT e.id, e.kind, e.text, e.link, u.username, e.at, e.read_at IS NOT NULL FROM events e "
            f"LEFT JOIN users u ON u.id = e.actor_id WHERE e.user_id = {m} "
            f"ORDER BY e.read_at IS NOT NULL, e.id DESC LIMIT {m}")


def event_of(row) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))


def meetings_sql(m: str, twin: str | None, pilot: str | None) -> tuple[str, tuple]:
    """The query of the meetings of `twin`'s and/or `pilot`'s pairings, and its parameters."""
    where = [(f"m.twin = {m}", twin), (f"m.pilot = {m}", pilot)]
    where = [(clause, value) for clause, value in where if value is not None]
    sql = ("SELECT m.id, m.twin, m.pilot, m.kind, m.date, m.module, m.participants, m.record, m.files, u.username, m.at "
           "FROM meetings m LEFT JOIN users u ON u.id = m.author_id"
           + (" WHERE " + " AND ".join(clause for clause, _ in where) if where else "")
           + " ORDER BY m.date DESC, m.id DESC")
    return sql, tuple(value for _, value in where)


def meeting_values(meeting: Meeting, user_id: int | None) -> tuple:
    return (meeting.twin, meeting.pilot, meeting.kind, meeting.date, meeting.module, meeting.participants,
            meeting.record, json.dumps(meeting.files), user_id)


def meeting_of(row) -> Meeting:
    return Meeting(*row[:8], tuple(json.loads(row[8])), row[9], row[10])


ADD_MEETING = ("INSERT INTO meetings (twin, pilot, kind, date, module, participants, record, files, author_id) "
               "VALUES ")


# -- the search log and what the insights read, alike in both backends ---------------------------

SHORTLIST_COLUMNS = "twin, doc_id, status, note, added_at, status_at"
PLAN_COLUMNS = "twin, version, sections, shared, final, adopted, updated_at"
_SEARCH_COLUMNS = TABLES["searches"][1:]


def plan_of(row) -> PlanRecord:
    return PlanRecord(row[0], row[1], json.loads(row[2]), bool(row[3]), bool(row[4]), tuple(json.loads(row[5])), row[6])


def shortlist_item_of(row) -> ShortlistItem:
    return ShortlistItem(*row)


def log_searches_in(db, searches: Iterable[LoggedSearch], m: str) -> None:
    """Through `db` (a connection in a write transaction), whose parameter mark is `m`."""
    replace = (f"UPDATE searches SET {', '.join(f'{c} = {m}' for c in _SEARCH_COLUMNS)} "
               f"WHERE ref = {m} AND coalesce(clicked, 0) = 0 AND kept = 0")
    insert = f"INSERT INTO searches ({', '.join(_SEARCH_COLUMNS)}) VALUES ({', '.join([m] * len(_SEARCH_COLUMNS))})"
    for search in searches:
        values = (search.ref, search.at, search.text, search.text_hash, search.language, search.filters, search.mode,
                  search.results, int(search.weak), search.role, search.source,
                  0 if search.source == "page" else None, 0, search.visit)
        if search.replaces and db.execute(replace, storable((*values, search.replaces))).rowcount:
            continue
        db.execute(insert, storable(values))


def mark_searches_in(db, clicked: Iterable[str], kept_visits: Iterable[str], m: str) -> None:
    for ref in clicked:
        db.execute(f"UPDATE searches SET clicked = 1 WHERE ref = {m} AND clicked = 0", storable((ref,)))
    for visit in kept_visits:
        db.execute(f"UPDATE searches SET kept = 1 WHERE visit = {m} AND kept = 0", storable((visit,)))


def forget_searches_in(db, before: str | None, m: str) -> int:
    if before is None:
        gone = db.execute("DELETE FROM searches").rowcount
    else:
        gone = db.execute(f"DELETE FROM searches WHERE at < {m}", storable((before,))).rowcount
    db.execute("DELETE FROM search_vectors WHERE text_hash NOT IN (SELECT text_hash FROM searches)")
    return gone


def save_search_vectors_sql(m: str) -> str:
    return f"INSERT INTO search_vectors (text_hash, model_id, vector) VALUES ({m}, {m}, {m}) ON CONFLICT DO NOTHING"


def record_login_sql(m: str, now: str) -> str:
    """`now`: the backend's SQL for the current time, as every other timestamp is written."""
    return f"INSERT INTO logins (user_id, at) VALUES ({m}, {now}) ON CONFLICT (user_id) DO UPDATE SET at = excluded.at"


def asked_texts_in(db_rows, m: str, since: str, until: str, most: int) -> tuple[list[AskedText], int]:
    """The `most` most asked gap texts of [since, until), most first, and how many gap searches
    the period holds; `db_rows(sql, params)` reads. Counting reads no text (a third faster at
    100,000 searches); the texts are read after, for those kept."""
    counted = db_rows("SELECT text_hash, min(language), count(*), sum(weak), min(id) FROM searches WHERE at >= "
                      f"{m} AND at < {m} AND (weak = 1 OR clicked = 0) AND kept = 0 GROUP BY text_hash", (since, until))
    total = sum(int(r[2]) for r in counted)
    counted = sorted(counted, key=lambda r: (-int(r[2]), r[0]))[:most]
    texts = {}  # one search of each text, by its id
    for batch in batched([r[4] for r in counted]):
        texts.update(db_rows(f"SELECT id, text FROM searches WHERE id IN ({', '.join([m] * len(batch))})", batch))
    return [AskedText(r[0], texts[r[4]], r[1], int(r[2]), int(r[3] or 0)) for r in counted], total


def search_vectors_sql(m: str, count: int) -> str:
    return (f"SELECT text_hash, vector FROM search_vectors WHERE model_id = {m} "
            f"AND text_hash IN ({', '.join([m] * count)})")


def search_days_sql(m: str) -> str:
    return ("SELECT substr(at, 1, 10), language, role, count(*), sum(weak), count(visit), "
            "sum(CASE WHEN visit IS NOT NULL THEN kept ELSE 0 END) FROM searches "
            f"WHERE at >= {m} AND at < {m} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")


def search_day_of(row) -> SearchDay:
    return SearchDay(row[0], row[1], row[2], int(row[3]), int(row[4] or 0), int(row[5]), int(row[6] or 0))


SEARCH_LOG_STATE = ("SELECT coalesce(max(id), 0), count(*), "
                    "coalesce(sum(CASE WHEN clicked = 1 OR kept = 1 THEN 1 ELSE 0 END), 0) FROM searches")
