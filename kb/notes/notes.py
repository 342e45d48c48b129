"""Case notes: pilots publish and keep notes about their own city's practice.

A note goes into the knowledge base by the one ingest path (`Core.ingest`): its passages, its
vectors and its own rows (the note, the new version) commit in one transaction, so an
acknowledged note survives a crash; the in-memory index then catches up, and other processes
catch up from the store. Every change is kept as a version; a delete is recorded and an admin
can undo it."""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.accounts import User
from kb.core import Core
from kb.documents import language_name
from kb.errors import Forbidden, Invalid, KBError, NotFound, StaleEdit, Unauthenticated
from kb.files import BadFile, extract, reference
from kb.inbox import Audience, tell
from kb.messages import N_, Message, in_field
from kb.notes.fields import (MAX_ATTACHMENTS, NOTE_FIELDS, TEXTS, InvalidNote, attachment, check_fields, empty_fields,
                             note_body, practice_of)
from kb.store import NoteRecord, Transaction

LABELS = {"title": N_("Title"), **dict(TEXTS), "indicators": N_("Indicators"), "start": N_("Start"),
          "end": N_("End"), "module": N_("Module"), "twins": N_("Twin cities"), "domains": N_("Domains"),
          "levers": N_("Levers"), "language": N_("Language"), "attachments": N_("Attached files")}
Upload = tuple[str, bytes]  # a file as sent: its name and its content


@dataclass(frozen=True)
class CaseNote:
    id: str
    city: str
    country: str
    version: int
    deleted: bool
    fields: dict  # every name of NOTE_FIELDS; notes written before a field existed have it empty

    def __getattr__(self, name: str):
        # note.title, note.results ...: the fields read like attributes (templates use both)
        if name in NOTE_FIELDS:
            return self.fields[name]
        raise AttributeError(name)

    def to_json(self) -> dict:
        # an attachment's extracted text is the searchable document's, not the note's to show
        attachments = [{k: a[k] for k in ("name", "file", "pages")} for a in self.fields["attachments"]]
        return {"id": self.id, "city": self.city, "country": self.country, "version": self.version,
                "deleted": self.deleted, **self.fields, "attachments": attachments}


@dataclass(frozen=True)
class NoteForm:
    """What the note form shows: the values, the problems, and the pilot and twin cities to pick from."""

    values: dict
    errors: list[str]
    pilots: list[str]
    twins: list[str]
    note: CaseNote | None = None  # the note written, once the form is accepted
    refusal: str | None = None  # the kind of error (kb/errors.py) when it was not
    current: CaseNote | None = None  # on a conflict: the version saved meanwhile


@dataclass(frozen=True)
class Change:
    """One field that differs between two versions: (kind, words) pieces, kind '=', '-' or '+'."""

    field: str
    label: str
    pieces: list[tuple[str, str]]


@dataclass(frozen=True)
class NoteHistory:
    """A note's history page: its versions, and what changed from version `a` to `b`."""

    note: CaseNote
    versions: list[dict]
    a: int
    b: int
    changes: list[Change]


def may_change(user: User | None, city: str | None) -> bool:
    """The one rule for changing a city's notes: its own pilots, and admins."""
    return user is not None and (user.role == "admin" or (user.role == "pilot" and user.city == city))


def may_publish(user: User | None) -> bool:
    return user is not None and user.role in ("pilot", "admin")


WHO_PUBLISHES = Message("Pilot cities' accounts publish case notes about their own city; admins publish for any pilot "
                        "city.")


def _case_note(record: NoteRecord) -> CaseNote:
    return CaseNote(id=record.id, city=record.city, country=record.country, version=record.version,
                    deleted=record.deleted, fields=empty_fields() | record.fields)


def _as_text(name: str, value) -> str:
    """A field as words to compare between versions."""
    if name == "attachments":
        return ", ".join(a["name"] for a in value)
    if name == "language":
        return language_name(value) if value else "detected from the text"
    if name == "indicators":
        return "\n".join(f"{i['name']}: {i['value']:g} {i['unit']} {i['year'] or ''}".strip() for i in value)
    if isinstance(value, list):
        return ", ".join(value)
    return value or ""


def changes(before: dict, after: dict) -> list[Change]:
    """The fields that differ between two versions, word by word."""
    found = []
    for name in NOTE_FIELDS:
        old, new = _as_text(name, before.get(name)), _as_text(name, after.get(name))
        if old == new:
            continue
        a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
        pieces = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                pieces.append(("=", "".join(a[i1:i2])))
                continue
            if i2 > i1:
                pieces.append(("-", "".join(a[i1:i2])))
            if j2 > j1:
                pieces.append(("+", "".join(b[j1:j2])))
        found.append(Change(name, LABELS[name], pieces))
    return found


MAX_ASKED = 500  # of a challenge a link begins the form with


class Notes:
    def __init__(self, kb: Core):
        self.kb = kb
        self.store = kb.store

    # -- reading -----------------------------------------------------------------------------

    def get(self, note_id: str, *, deleted: bool = False) -> CaseNote:
        record = self.store.note(note_id)
        if record is None or (record.deleted and not deleted):
            raise NotFound(Message("no case note has the id %(note)s", note=repr(note_id)))
        return _case_note(record)

    def find(self, note_id: str) -> CaseNote | None:
        """The live note of this id, if there is one."""
        try:
            return self.get(note_id)
        except NotFound:
            return None

    def with_versions(self, note_id: str) -> dict:
        """A note's fields and its version history (without the fields of each version)."""
        return {**self.get(note_id).to_json(), "versions": self.history(note_id)}

    def versions(self, note_id: str) -> list:
        return self.store.note_versions(note_id)

    def history(self, note_id: str, user: User | None = None) -> list[dict]:
        """Each version: number, action, author's account name, time. A deleted note's history
        is for admins, who may restore it."""
        note = self.get(note_id, deleted=user is not None and user.role == "admin")
        names = {u.id: u.username for u in self.store.users()}
        return [{"version": v.version, "action": v.action, "author": names.get(v.user_id), "at": v.at,
                 "deleted": note.deleted}
                for v in self.store.note_versions(note_id)]

    def compare(self, note_id: str, a: int, b: int, user: User | None = None) -> list[Change]:
        """What changed from version `a` to version `b`."""
        admin = user is not None and user.role == "admin"
        self.get(note_id, deleted=admin)
        fields = {v.version: v.fields for v in self.store.note_versions(note_id)}
        missing = [str(n) for n in (a, b) if n not in fields]
        if missing:
            raise NotFound(Message("note %(note)s has no version %(version)s; it has 1 to %(last)s", note=repr(note_id),
                                   version=missing[0], last=max(fields)) if len(missing) == 1 else
                           Message("note %(note)s has no version %(version)s or %(other)s; it has 1 to %(last)s",
                                   note=repr(note_id), version=missing[0], other=missing[1], last=max(fields)))
        return changes(empty_fields() | fields[a], empty_fields() | fields[b])

    def history_page(self, note_id: str, user: User | None, a: int | None = None,
                     b: int | None = None) -> NoteHistory:
        """The versions of a note and the changes between two (by default the last two)."""
        versions = self.history(note_id, user)
        last = versions[-1]["version"]
        b = last if b is None else b
        a = max(b - 1, 1) if a is None else a
        return NoteHistory(self.get(note_id, deleted=True), versions, a, b, self.compare(note_id, a, b, user))

    def all(self) -> list[CaseNote]:
        return [self.get(note_id) for note_id in self.store.live_note_ids()]

    def deleted(self, city: str) -> list[CaseNote]:
        """A city's deleted notes, which an admin may restore."""
        return [_case_note(r) for r in self.store.deleted_notes(city)]

    # -- writing -----------------------------------------------------------------------------

    def create(self, user: User | None, payload: dict, uploads: Sequence[Upload] = ()) -> CaseNote:
        city = self._city_for_new_note(user, payload)
        fields = self._fields(payload, uploads, None)
        profile = self.store.city(city)
        note_id = f"note-{uuid.uuid4().hex[:12]}"
        self._write(note_id, profile.city, profile.country, fields, user, "create")
        return self.get(note_id)

    def update(self, user: User | None, note_id: str, payload: dict, version: int | None = None,
               uploads: Sequence[Upload] = ()) -> CaseNote:
        """Replace a note's fields. `version` (or the payload's "version") is the version the edit
        started from: when someone saved another meanwhile, StaleEdit carries both texts."""
        note = self.get(note_id)
        self._check_may_change(user, note.city)
        if isinstance(payload, dict) and payload.get("city") not in (None, note.city):
            raise Forbidden(Message("a note's city cannot change; delete it and publish a new one"))
        started_from = _version(version if version is not None else
                                payload.get("version") if isinstance(payload, dict) else None)
        fields = self._fields(payload, uploads, note)
        self._check_current(note, started_from, fields)  # early, before the embedding work
        self._write(note_id, note.city, note.country, fields, user, "edit", started_from)
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
            raise Forbidden(Message("only an admin can restore a deleted note"))
        note = self.get(note_id, deleted=True)
        if not note.deleted:
            raise Invalid(Message("note %(note)s is not deleted", note=repr(note_id)))
        self._write(note_id, note.city, note.country, note.fields, user, "restore")
        return self.get(note_id)

    # -- the form ----------------------------------------------------------------------------

    def form(self, user: User | None, note_id: str | None = None, challenge: str = "") -> NoteForm:
        """The form for a new note (its challenge begun with `challenge`: what the matching team
        asked a note on), or for editing `note_id`; refused before anyone types when the account
        may not publish."""
        if user is None:
            raise Unauthenticated(Message("log in to publish or change a note"))
        if note_id:
            note = self.get(note_id)
            self._check_may_change(user, note.city)
            values = note.to_json()
        else:
            if not may_publish(user):
                raise Forbidden(Message("%(rule)s You are logged in as %(user)s, a %(role)s account.",
                                        rule=WHO_PUBLISHES, user=user.username, role=user.role))
            values = empty_fields()
            values["challenge"] = challenge[:MAX_ASKED].strip()
        return NoteForm(values, [], self._pilots(), self._twins())

    def submit(self, user: User | None, payload: dict, note_id: str | None = None,
               uploads: Sequence[Upload] = ()) -> NoteForm:
        """A submitted form: the note written, or the form again with the problems found (on a
        conflict, with the version saved meanwhile beside the submitted text). Files that were
        accepted stay attached to the form shown again, so nobody uploads them twice."""
        try:
            note = self.update(user, note_id, payload, uploads=uploads) if note_id else \
                self.create(user, payload, uploads)
        except KBError as exc:
            payload = {**payload, "attachments": [*(payload.get("attachments") or []), *exc.data.get("kept", [])]}
            current = self.find(note_id) if note_id and exc.kind == "conflict" else None
            return NoteForm(payload, exc.errors, self._pilots(), self._twins(), refusal=exc.kind, current=current)
        return NoteForm(payload, [], [], [], note)

    def preview(self, payload: dict) -> str:
        """The Markdown a form being filled would publish (its texts alone while a field is wrong)."""
        try:
            return note_body(check_fields(payload, self._twins()))
        except InvalidNote:
            return note_body({n: payload.get(n) for n, _ in TEXTS if isinstance(payload.get(n), str)})

    def _pilots(self) -> list[str]:
        return [c.city for c in self.store.cities() if c.role == "pilot"]

    def _twins(self) -> list[str]:
        return [c.city for c in self.store.cities() if c.role == "twin"]

    # -- attachments -------------------------------------------------------------------------

    def _fields(self, payload: dict, uploads: Sequence[Upload], note: CaseNote | None) -> dict:
        """The checked fields with their attachments: those the payload keeps (all of the note's
        when it does not say), then the uploads. Every problem is reported at once; an upload
        that was read is kept on disk and named in the refusal's data, to be offered again."""
        errors, kept = [], []
        try:
            fields = check_fields(payload, self._twins())
        except InvalidNote as exc:
            fields, errors = None, list(exc.errors)
        current = {a["file"]: a for a in (note.fields["attachments"] if note else [])}
        refs = payload.get("attachments", list(current)) if isinstance(payload, dict) else []
        attachments = []
        for ref in refs if isinstance(refs, list) else []:
            if ref in current:
                attachments.append(current[ref])
            elif self.kb.files.has(ref) and self.store.holders_of_file(ref) == ([], [], []):
                # uploaded with a form that was then corrected: kept, but no document or note holds it
                try:
                    attachments.append(self._read(ref.split("/", 1)[1], ref, self.kb.files.open(ref)[0].read_bytes()))
                except BadFile as exc:  # the limits may have changed since
                    errors.append(in_field(exc.message, "attachments"))
            else:
                errors.append(Message("%(file)s is not a file of this note; upload it again", field="attachments",
                                      file=repr(str(ref)[:80])))
        for name, data in uploads:
            try:
                ref = reference(name, data)
                attachments.append(self._read(name, ref, data))
            except BadFile as exc:
                errors.append(in_field(exc.message, "attachments"))
                continue
            self.kb.files.keep(ref, data)
            kept.append(ref)
        if len(attachments) > MAX_ATTACHMENTS:
            errors.append(Message("A note holds at most %(max)s files; it would have %(n)s.", field="attachments",
                                  max=MAX_ATTACHMENTS, n=len(attachments)))
        if errors:
            raise InvalidNote("; ".join(errors), errors, data={"kept": kept})
        return fields | {"attachments": list({a["file"]: a for a in attachments}.values())}

    def _read(self, name: str, ref: str, data: bytes) -> dict:
        settings = self.kb.settings
        return attachment(name, ref, extract(data, name, max_bytes=settings.max_file_bytes,
                                             max_pages=settings.max_pages))

    # -- rules -------------------------------------------------------------------------------

    def _city_for_new_note(self, user: User | None, payload: dict) -> str:
        if user is None:
            raise Unauthenticated(Message("log in as a pilot city's account to publish a note"))
        city = payload.get("city") if isinstance(payload, dict) else None
        if user.role == "pilot":
            if city not in (None, "", user.city):
                raise Forbidden(Message("a pilot publishes notes for its own city (%(city)s) only", city=user.city))
            return user.city
        if user.role == "admin":
            profile = self.store.city(city) if isinstance(city, str) and city else None
            if profile is None or profile.role != "pilot":
                raise InvalidNote(Message("Choose the pilot city the note is about.", field="city"))
            return profile.city
        raise Forbidden(WHO_PUBLISHES)

    @staticmethod
    def _check_may_change(user: User | None, city: str) -> None:
        if user is None:
            raise Unauthenticated(Message("log in to change a note"))
        if not may_change(user, city):
            raise Forbidden(Message("only %(city)s's pilots (or an admin) change this note", city=city))

    @staticmethod
    def _check_current(current: CaseNote, started_from: int, fields: dict) -> None:
        if current.version != started_from:
            raise StaleEdit(Message("version %(version)s was saved while you edited version %(started_from)s; "
                                    "compare both texts, then save again from the current version",
                                    version=current.version, started_from=started_from),
                            current.version, current.fields, fields)

    def _write(self, note_id: str, city: str, country: str, fields: dict, user: User | None, action: str,
               started_from: int | None = None) -> None:
        practice = practice_of(note_id, city, country, fields)
        author = user.id if user else None

        def record(tx: Transaction) -> None:
            # read and checked inside the write transaction: of two processes editing one
            # version at once, the second is refused with both texts, not silently overwritten
            before = tx.note(note_id)
            if started_from is not None:
                self._check_current(_case_note(before), started_from, fields)
            version = (before.version if before else 0) + 1
            tx.save_note(NoteRecord(note_id, city, country, fields, version, False), author)
            tx.record_note_version(note_id, version, action, fields, author)
            if before is None:  # a new note: the twins paired with its city learn of it
                twins = tuple(p.twin for p in self.kb.store.pairings() if p.pilot == city)
                tell(tx, self.kb.store, Audience(twins), "case_note",
                     Message("%(city)s published a case note: “%(title)s”", city=city, title=practice.title),
                     f"/doc/{note_id}", user)

        self.kb.ingest([practice], also=record)
        self.kb.refresh_index()

    # -- export ------------------------------------------------------------------------------

    def export(self, directory: Path) -> int:
        """Write every live note as corpus Markdown (front matter + sections), for review."""
        directory.mkdir(parents=True, exist_ok=True)
        notes = self.all()
        for note in notes:
            front = {"id": note.id, "title": note.title, "kind": "case_note", "city": note.city,
                     "country": note.country, "domains": note.domains, "levers": note.levers}
            front |= {k: note.fields[k] for k in ("module", "language") if note.fields[k]}
            text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
            (directory / f"{note.id}.md").write_text(text + note_body(note.fields) + "\n", encoding="utf-8")
        return len(notes)


def _version(value) -> int:
    """The version an edit started from, as sent (a number, or an If-Match value such as "3" or W/"3")."""
    if isinstance(value, str):
        value = value.strip().removeprefix("W/").strip('"')
        value = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidNote(Message("Say which version your edit started from (the If-Match header or a \"version\" "
                                  "field, as GET /api/notes/{id} gives it).", field="version"))
    return value
