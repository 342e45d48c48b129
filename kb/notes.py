"""Case notes: pilots publish and keep notes about their own city's practice.

A note goes into the knowledge base by the one ingest path (`Core.ingest`): its passages, its
vectors and its own rows (the note, the new version) commit in one transaction, so an
acknowledged note survives a crash; the in-memory index then catches up, and other processes
catch up from the store. Every change is kept as a version; a delete is recorded and an admin
can undo it."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import yaml

from kb.accounts import User
from kb.core import Core
from kb.documents import Practice, ValidationErrors, validate
from kb.errors import Forbidden, Invalid, KBError, NotFound, Unauthenticated
from kb.store import NoteRecord, Transaction

SECTIONS = (("challenge", "Challenge"), ("what_was_done", "What was done"), ("results", "Results"),
            ("transferability", "Transferability"))
NOTE_FIELDS = ("title", "challenge", "what_was_done", "results", "transferability", "domains", "levers", "language")
REQUIRED = ("title", "challenge", "what_was_done", "domains")
MAX_NOTE_TITLE, MAX_NOTE_BODY = 200, 50_000  # tighter than a corpus document's


class InvalidNote(Invalid):
    """A note whose fields are unusable; `errors` lists each as 'field: message'."""


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


@dataclass(frozen=True)
class NoteForm:
    """What the note form shows: the values, the problems, and the pilot cities an admin picks from."""

    values: dict
    errors: list[str]
    pilots: list[str]
    note: CaseNote | None = None  # the note written, once the form is accepted
    refusal: str | None = None  # the kind of error (kb/errors.py) when it was not


def check_fields(payload: dict) -> dict:
    """The note's fields, cleaned, or InvalidNote listing every problem as 'field: message'."""
    if not isinstance(payload, dict):
        raise InvalidNote("the note must be a JSON object with title, challenge, what_was_done, domains, ...")
    errors = [f"{k}: unknown field; use {', '.join(NOTE_FIELDS)}" for k in payload if k not in (*NOTE_FIELDS, "city")]
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
    if len(fields.get("title", "")) > MAX_NOTE_TITLE:
        errors.append(f"title: is {len(fields['title'])} characters; at most {MAX_NOTE_TITLE}")
    body_length = sum(len(fields.get(n, "")) for n, _ in SECTIONS)
    if body_length > MAX_NOTE_BODY:
        errors.append(f"text: the sections hold {body_length} characters; at most {MAX_NOTE_BODY} in all")
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


def may_change(user: User | None, city: str | None) -> bool:
    """The one rule for changing a city's notes: its own pilots, and admins."""
    return user is not None and (user.role == "admin" or (user.role == "pilot" and user.city == city))


def _case_note(record: NoteRecord) -> CaseNote:
    return CaseNote(id=record.id, city=record.city, country=record.country, version=record.version,
                    deleted=record.deleted, **record.fields)


class Notes:
    def __init__(self, kb: Core):
        self.kb = kb
        self.store = kb.store

    # -- reading -----------------------------------------------------------------------------

    def get(self, note_id: str, *, deleted: bool = False) -> CaseNote:
        record = self.store.note(note_id)
        if record is None or (record.deleted and not deleted):
            raise NotFound(f"no case note has the id {note_id!r}")
        return _case_note(record)

    def find(self, note_id: str) -> CaseNote | None:
        """The live note of this id, if there is one."""
        try:
            return self.get(note_id)
        except NotFound:
            return None

    def with_versions(self, note_id: str) -> dict:
        """A note's fields and its version history (without the fields of each version)."""
        note = self.get(note_id)
        versions = [{"version": v.version, "action": v.action, "user_id": v.user_id, "at": v.at}
                    for v in self.store.note_versions(note_id)]
        return {**note.to_json(), "versions": versions}

    def versions(self, note_id: str) -> list:
        return self.store.note_versions(note_id)

    def all(self) -> list[CaseNote]:
        return [self.get(note_id) for note_id in self.store.live_note_ids()]

    # -- writing -----------------------------------------------------------------------------

    def create(self, user: User | None, payload: dict) -> CaseNote:
        city = self._city_for_new_note(user, payload)
        fields = check_fields(payload)
        profile = self.store.city(city)
        note_id = f"note-{uuid.uuid4().hex[:12]}"
        self._write(note_id, profile.city, profile.country, fields, user, "create")
        return self.get(note_id)

    def update(self, user: User | None, note_id: str, payload: dict) -> CaseNote:
        note = self.get(note_id)
        self._check_may_change(user, note.city)
        if isinstance(payload, dict) and payload.get("city") not in (None, note.city):
            raise Forbidden("a note's city cannot change; delete it and publish a new one")
        fields = check_fields(payload)
        self._write(note_id, note.city, note.country, fields, user, "edit")
        return self.get(note_id)

    def delete(self, user: User | None, note_id: str) -> CaseNote:
        note = self.get(note_id)
        self._check_may_change(user, note.city)
        with self.store.write() as tx:
            record = tx.note(note_id)
            version = record.version + 1
            tx.record_note_version(note_id, version, "delete", record.fields, user.id if user else None)
            tx.save_note(NoteRecord(note_id, record.city, record.country, record.fields, version, True),
                         user.id if user else None)
            tx.remove_documents([note_id])
        self.kb.refresh_index()
        return self.get(note_id, deleted=True)

    def restore(self, user: User | None, note_id: str) -> CaseNote:
        if user is None or user.role != "admin":
            raise Forbidden("only an admin can restore a deleted note")
        note = self.get(note_id, deleted=True)
        if not note.deleted:
            raise Invalid(f"note {note_id!r} is not deleted")
        fields = {k: getattr(note, k) for k in NOTE_FIELDS}
        self._write(note_id, note.city, note.country, fields, user, "restore")
        return self.get(note_id)

    # -- the form ----------------------------------------------------------------------------

    def form(self, user: User | None, note_id: str | None = None) -> NoteForm:
        """The form for a new note, or for editing `note_id`."""
        if user is None:
            raise Unauthenticated("log in to publish or change a note")
        values = self.get(note_id).to_json() if note_id else {"language": "en", "domains": [], "levers": []}
        return NoteForm(values, [], self._pilots())

    def submit(self, user: User | None, payload: dict, note_id: str | None = None) -> NoteForm:
        """A submitted form: the note written, or the form again with the problems found."""
        try:
            note = self.update(user, note_id, payload) if note_id else self.create(user, payload)
        except KBError as exc:
            return NoteForm(payload, exc.errors, self._pilots(), refusal=exc.kind)
        return NoteForm(payload, [], [], note)

    def _pilots(self) -> list[str]:
        return [c.city for c in self.store.cities() if c.role == "pilot"]

    # -- rules -------------------------------------------------------------------------------

    def _city_for_new_note(self, user: User | None, payload: dict) -> str:
        if user is None:
            raise Unauthenticated("log in as a pilot city's account to publish a note")
        city = payload.get("city") if isinstance(payload, dict) else None
        if user.role == "pilot":
            if city not in (None, "", user.city):
                raise Forbidden(f"a pilot publishes notes for its own city ({user.city}) only")
            return user.city
        if user.role == "admin":
            profile = self.store.city(city) if isinstance(city, str) and city else None
            if profile is None or profile.role != "pilot":
                raise InvalidNote("city: an admin must name the pilot city the note is about")
            return profile.city
        raise Forbidden("only pilot cities (and admins) publish case notes")

    @staticmethod
    def _check_may_change(user: User | None, city: str) -> None:
        if user is None:
            raise Unauthenticated("log in to change a note")
        if not may_change(user, city):
            raise Forbidden(f"only {city}'s pilots (or an admin) change this note")

    def _write(self, note_id: str, city: str, country: str, fields: dict, user: User | None, action: str) -> None:
        practice = practice_of(note_id, city, country, fields)
        author = user.id if user else None

        def record(tx: Transaction) -> None:
            # the version is read inside the write transaction: two processes editing one note
            # at once get consecutive versions, not the same one twice
            before = tx.note(note_id)
            version = (before.version if before else 0) + 1
            tx.save_note(NoteRecord(note_id, city, country, fields, version, False), author)
            tx.record_note_version(note_id, version, action, fields, author)

        self.kb.ingest([practice], also=record)
        self.kb.refresh_index()

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

