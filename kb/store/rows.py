"""Rows to records, shared by the backends: each reads the same columns into the same types
(JSON lists and dicts kept as JSON text, flags as integers), so a record means the same
whatever store it came from. Also the tables `kb store copy` moves, and their checksums."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np

from kb.documents import Practice
from kb.store.base import City, NoteRecord, PlanRecord, UserRecord

# Every table of a store's own data, in an order that respects its references, with its columns.
# Derived data is left out: keyword indexes are rebuilt from passages, the deletion log starts empty.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "cities": ("city", "country", "role", "cohort", "population", "lat", "lon", "pilot_project", "domains", "source"),
    "users": ("id", "username", "city", "role", "password_hash", "token_hash", "disabled", "created_at"),
    "documents": ("id", "title", "kind", "city", "country", "domains", "levers", "module", "language", "date",
                  "source", "sample", "body", "path", "files", "twins", "content_hash", "model_id", "updated_at"),
    "chunks": ("id", "doc_id", "ordinal", "section", "text", "content_hash", "model_id", "vector"),
    "words": ("word", "count"),
    "login_failures": ("username", "at", "client"),
    "sessions": ("id", "user_id", "expires_at"),
    "notes": ("id", "city", "country", "fields", "version", "deleted", "author_id", "created_at", "updated_at"),
    "note_versions": ("note_id", "version", "action", "fields", "user_id", "at"),
    "pairings": ("twin", "pilot", "added_by", "added_at"),
    "shortlist": ("twin", "doc_id", "status", "note", "added_by", "added_at"),
    "plans": ("twin", "version", "sections", "shared", "final", "adopted", "updated_by", "updated_at"),
    "plan_versions": ("twin", "version", "sections", "user_id", "at"),
    "plan_comments": ("id", "twin", "section", "text", "author_id", "at", "resolved_by", "resolved_at"),
    "files": ("ref", "data"),
}


def checksum(rows: Iterable[tuple]) -> str:
    """A digest of a table's rows that ignores their order and each backend's types for the same
    value (bytes and memoryviews, ints and bools)."""
    digests = sorted(hashlib.sha256(repr(tuple(_plain(v) for v in row)).encode()).digest() for row in rows)
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _plain(value):
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    if isinstance(value, bool):
        return int(value)
    return value


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


def plan_of(row) -> PlanRecord:
    """From (twin, version, sections, shared, final, adopted, updated_at)."""
    return PlanRecord(row[0], row[1], json.loads(row[2]), bool(row[3]), bool(row[4]), tuple(json.loads(row[5])), row[6])


def user_of(row) -> UserRecord | None:
    if row is None:
        return None
    return UserRecord(row["id"], row["username"], row["city"], row["role"], row["password_hash"],
                      row["token_hash"], bool(row["disabled"]))


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
