"""Case notes, the write path of pilots: a note's structured fields and their checks (fields),
publishing, versions, history, deletion and restoring through the one ingest path (notes)."""

from kb.notes.fields import (MAX_ATTACHMENTS, MAX_INDICATORS, MAX_UPLOADS, NOTE_FIELDS, TEXTS, InvalidNote, attachment,
                             check_fields, empty_fields, note_body, practice_of)
from kb.notes.notes import WHO_PUBLISHES, CaseNote, NoteForm, Notes, may_change

__all__ = [
    "CaseNote", "InvalidNote", "MAX_ATTACHMENTS", "MAX_INDICATORS", "MAX_UPLOADS", "NOTE_FIELDS", "NoteForm", "Notes",
    "TEXTS", "WHO_PUBLISHES", "attachment", "check_fields", "empty_fields", "may_change", "note_body", "practice_of",
]
