"""Case notes: the one write path. Pilots publish and keep notes about their own city's practice.

A note, its passages and vectors are committed in one SQLite transaction (so an acknowledged note
survives a crash), then the in-memory index catches up; other processes catch up from the store.
Every change is kept as a version; a delete is recorded and an admin can undo it."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import yaml

from kb.accounts import User
from kb.chunking import chunk_practice
from kb.documents import Practice, ValidationErrors, validate
from kb.knowledge_base import KnowledgeBase

SECTIONS = (("challenge", "Challenge"), ("what_was_done", "What was done"), ("results", "Results"),
            ("transferability", "Transferability"))
FIELDS = ("title", "challenge", "what_was_done", "results", "transferability", "domains", "levers", "language")
REQUIRED = ("title", "challenge", "what_was_done", "domains")
MAX_TITLE, MAX_BODY = 200, 50_000


class NoteError(Exception):
    """A refused note operation; `status` is the HTTP status that fits it."""

    status = 400

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or [message]


class InvalidNote(NoteError):
    status = 422


class NotAllowed(NoteError):
    status = 403


class NoteNotFound(NoteError):
    status = 404


@dataclass(frozen=True)
class CaseNote:
    id: str
    city: str
    country: str
    title: str
    challenge: str
    what_was_done: str
    results: str
    transferability: str
    domains: list[str]
    levers: list[str]
    language: str
    version: int
    deleted: bool

    def to_json(self) -> dict:
        return asdict(self)


def check_fields(payload: dict) -> dict:
    """The note's fields, cleaned, or InvalidNote listing every problem as 'field: message'."""
    if not isinstance(payload, dict):
        raise InvalidNote("the note must be a JSON object with title, challenge, what_was_done, domains, ...")
    errors = [f"{k}: unknown field; use {', '.join(FIELDS)}" for k in payload if k not in (*FIELDS, "city")]
    fields: dict = {}
    for name in ("title", "challenge", "what_was_done", "results", "transferability"):
        value = payload.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append(f"{name}: must be text")
            continue
        fields[name] = value.strip()
        if name in REQUIRED and not fields[name]:
            errors.append(f"{name}: is required")
    if len(fields.get("title", "")) > MAX_TITLE:
        errors.append(f"title: is {len(fields['title'])} characters; at most {MAX_TITLE}")
    body_length = sum(len(fields.get(n, "")) for n, _ in SECTIONS)
    if body_length > MAX_BODY:
        errors.append(f"text: the sections hold {body_length} characters; at most {MAX_BODY} in all")
    for name in ("domains", "levers"):
        value = payload.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{name}: must be a list of names")
            value = []
        fields[name] = value
    if not fields["domains"] and not any(e.startswith("domains") for e in errors):
        errors.append("domains: choose at least one")
    fields["language"] = payload.get("language") or "en"
    if errors:
        raise InvalidNote("; ".join(errors), errors)
    return fields


def note_body(fields: dict) -> str:
    return "\n\n".join(f"## {heading}\n{fields[name]}" for name, heading in SECTIONS if fields.get(name))


def practice_of(note_id: str, city: str, country: str, fields: dict) -> Practice:
    """The searchable document of a note (validated like any corpus document)."""
    try:
        return validate(
            {"id": note_id, "title": fields["title"], "kind": "case_note", "city": city, "country": country,
             "domains": fields["domains"], "levers": fields["levers"], "language": fields["language"],
             "date": date.today().isoformat()},
            note_body(fields),
        )
    except ValidationErrors as exc:
        errors = [str(e) for e in exc.errors]
        raise InvalidNote("; ".join(errors), errors) from exc


class Notes:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.db = kb.store.db

    # -- reading -----------------------------------------------------------------------------

    def get(self, note_id: str, *, deleted: bool = False) -> CaseNote:
        row = self.db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
        if row is None or (row["deleted"] and not deleted):
            raise NoteNotFound(f"no case note has the id {note_id!r}")
        return CaseNote(id=row["id"], city=row["city"], country=row["country"], version=row["version"],
                        deleted=bool(row["deleted"]), **json.loads(row["fields"]))

    def versions(self, note_id: str) -> list[dict]:
        rows = self.db.execute("SELECT version, action, fields, user_id, at FROM note_versions WHERE note_id = ? "
                               "ORDER BY version", (note_id,))
        return [{**dict(r), "fields": json.loads(r["fields"])} for r in rows]

    def all(self) -> list[CaseNote]:
        return [self.get(r[0]) for r in self.db.execute("SELECT id FROM notes WHERE deleted = 0 ORDER BY id")]

    # -- writing -----------------------------------------------------------------------------

    def create(self, user: User | None, payload: dict) -> CaseNote:
        city = self._city_for_new_note(user, payload)
        fields = check_fields(payload)
        profile = self.kb.store.city(city)
        note_id = f"note-{uuid.uuid4().hex[:12]}"
        self._write(note_id, profile.city, profile.country, fields, user, "create")
        return self.get(note_id)

    def update(self, user: User | None, note_id: str, payload: dict) -> CaseNote:
        note = self.get(note_id)
        self._check_may_change(user, note.city)
        if payload.get("city") not in (None, note.city):
            raise NotAllowed("a note's city cannot change; delete it and publish a new one")
        fields = check_fields(payload)
        self._write(note_id, note.city, note.country, fields, user, "edit")
        return self.get(note_id)

    def delete(self, user: User | None, note_id: str) -> CaseNote:
        note = self.get(note_id)
        self._check_may_change(user, note.city)
        with self.kb.store.transaction() as db:
            row = db.execute("SELECT fields, version FROM notes WHERE id = ?", (note_id,)).fetchone()
            self._record(db, note_id, row["version"] + 1, "delete", json.loads(row["fields"]), user)
            db.execute("UPDATE notes SET deleted = 1, version = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                       "WHERE id = ?", (row["version"] + 1, note_id))
            self.kb.store.remove_documents(db, [note_id])
        self.kb.refresh_index()
        return self.get(note_id, deleted=True)

    def restore(self, user: User | None, note_id: str) -> CaseNote:
        if user is None or user.role != "admin":
            raise NotAllowed("only an admin can restore a deleted note")
        note = self.get(note_id, deleted=True)
        if not note.deleted:
            raise InvalidNote(f"note {note_id!r} is not deleted")
        fields = {k: getattr(note, k) for k in FIELDS}
        self._write(note_id, note.city, note.country, fields, user, "restore")
        return self.get(note_id)

    def _city_for_new_note(self, user: User | None, payload: dict) -> str:
        if user is None:
            raise NotAllowed("log in as a pilot city's account to publish a note")
        if user.role == "pilot":
            if payload.get("city") not in (None, "", user.city):
                raise NotAllowed(f"a pilot publishes notes for its own city ({user.city}) only")
            return user.city
        if user.role == "admin":
            city = payload.get("city")
            profile = self.kb.store.city(city) if isinstance(city, str) and city else None
            if profile is None or profile.role != "pilot":
                raise InvalidNote("city: an admin must name the pilot city the note is about")
            return profile.city
        raise NotAllowed("only pilot cities (and admins) publish case notes")

    @staticmethod
    def _check_may_change(user: User | None, city: str) -> None:
        if user is None:
            raise NotAllowed("log in to change a note")
        if user.role == "admin" or (user.role == "pilot" and user.city == city):
            return
        raise NotAllowed(f"only {city}'s pilots (or an admin) change this note")

    def _write(self, note_id: str, city: str, country: str, fields: dict, user: User | None, action: str) -> None:
        practice = practice_of(note_id, city, country, fields)
        embedder = self.kb.embedder
        chunks = chunk_practice(practice, embedder)  # the slow part, before the transaction
        vectors = embedder.embed([c.embedding_text for c in chunks])
        with self.kb.store.transaction() as db:
            # the version is read inside the write transaction: two processes editing one note
            # at once get consecutive versions, not the same one twice
            row = db.execute("SELECT version FROM notes WHERE id = ?", (note_id,)).fetchone()
            version = (row["version"] if row else 0) + 1
            db.execute(
                "INSERT INTO notes (id, city, country, fields, version, deleted, author_id) VALUES (?, ?, ?, ?, ?, 0, ?) "
                "ON CONFLICT(id) DO UPDATE SET fields = excluded.fields, version = excluded.version, deleted = 0, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                (note_id, city, country, json.dumps(fields), version, user.id if user else None),
            )
            self._record(db, note_id, version, action, fields, user)
            self.kb.store.put_document(db, practice, chunks, vectors, embedder.model_id)
        self.kb.refresh_index()

    @staticmethod
    def _record(db, note_id: str, version: int, action: str, fields: dict, user: User | None) -> None:
        db.execute("INSERT INTO note_versions (note_id, version, action, fields, user_id) VALUES (?, ?, ?, ?, ?)",
                   (note_id, version, action, json.dumps(fields), user.id if user else None))

    # -- export ------------------------------------------------------------------------------

    def export(self, directory: Path) -> int:
        """Write every live note as corpus Markdown (front matter + sections), for review."""
        directory.mkdir(parents=True, exist_ok=True)
        notes = self.all()
        for note in notes:
            front = {"id": note.id, "title": note.title, "kind": "case_note", "city": note.city,
                     "country": note.country, "domains": note.domains, "levers": note.levers,
                     "language": note.language}
            text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
            (directory / f"{note.id}.md").write_text(text + note_body(asdict(note)) + "\n", encoding="utf-8")
        return len(notes)
