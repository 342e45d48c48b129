"""The document model and its validation, shared by the corpus loader and the notes write path."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date as _date

from kb.documents.languages import detect
from kb.documents.vocab import CITY_KINDS, DOCUMENT_KINDS, DOMAINS, LEVERS, MODULES

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")
MAX_TITLE = 500  # published notes keep a tighter limit of their own (kb/notes/notes.py)
MAX_BODY = 200_000

FRONT_MATTER_FIELDS = (
    "id", "title", "kind", "city", "country", "domains", "levers",
    "module", "language", "date", "source", "sample", "twins",
)


@dataclass(frozen=True)
class Practice:
    """One document of the knowledge base: a measure, case note, workshop output or resource."""

    id: str
    title: str
    kind: str
    body: str
    city: str | None = None
    country: str | None = None
    domains: tuple[str, ...] = ()
    levers: tuple[str, ...] = ()
    module: str | None = None
    language: str | None = None  # ISO 639-1; detected on ingest when the source does not say
    date: str | None = None
    source: str | None = None
    sample: bool = False
    path: str | None = None
    files: tuple[str, ...] = ()  # originals kept in the data folder (kb/files/kept.py), for a file or a note's attachments
    twins: tuple[str, ...] = ()  # the twin cities a case note or workshop output concerns

    def content_hash(self) -> str:
        """Hash of everything that is indexed, so an unchanged document is skipped cheaply."""
        # (a document without files or twins hashes as before they existed: no re-embedding on upgrade)
        payload = {k: v for k, v in asdict(self).items() if k != "path" and (k not in ("files", "twins") or v)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def metadata(self) -> dict:
        """The fields shown beside a result (everything but the body)."""
        return {k: v for k, v in asdict(self).items() if k not in ("body", "path")}


# A document in another language may carry a section in English: the team's summary of a corpus
# document ("## In English (summary by the knowledge base team)", its first line the title in
# English in bold) or a note author's ("## In English (summary by the author)").
ENGLISH_SECTION = re.compile(r"^## In English \((?:summary by the knowledge base team|summary by the author)\)\s*$", re.M)
_ENGLISH_TITLE = re.compile(r"\A\s*\*\*(.{3,300}?)\.?\*\*")


def english_title(body: str) -> str | None:
    """The title in English that a document's English section gives, if any."""
    section = ENGLISH_SECTION.search(body)
    title = _ENGLISH_TITLE.match(body[section.end():]) if section else None
    return title.group(1).strip().rstrip(".") if title else None


@dataclass
class FieldError(Exception):
    """A document field that fails validation."""

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class ValidationErrors(Exception):
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)


def _as_list(name: str, value, vocabulary: tuple[str, ...], errors: list[FieldError]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        errors.append(FieldError(name, f"must be a list, got {type(value).__name__}"))
        return ()
    items: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in vocabulary:
            errors.append(FieldError(name, f"unknown value {item!r}; expected one of {', '.join(vocabulary)}"))
        elif item not in items:
            items.append(item)
    return tuple(items)


def _as_text(name: str, value, errors: list[FieldError], *, required: bool = False, limit: int = 500) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, "is required"))
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append(FieldError(name, f"must be text, got {type(value).__name__}"))
        return None
    text = str(value).strip()
    if len(text) > limit:
        errors.append(FieldError(name, f"is {len(text)} characters; at most {limit} allowed"))
        return None
    return text


def _as_date(value, errors: list[FieldError]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, _date):
        return value.isoformat()
    text = str(value).strip()
    match = DATE_PATTERN.match(text)
    if match:
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            _date(year, month or 1, day or 1)
            return text
        except ValueError:
            pass
    errors.append(FieldError("date", f"{text!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD"))
    return None


def validate(fields: dict, body: str, *, default_id: str | None = None, path: str | None = None,
             files: tuple[str, ...] = ()) -> Practice:
    """Build a Practice from raw fields, or raise ValidationErrors naming every bad field."""
    errors: list[FieldError] = []
    for name in fields:
        if name not in FRONT_MATTER_FIELDS:
            errors.append(FieldError(name, f"unknown field; known fields are {', '.join(FRONT_MATTER_FIELDS)}"))

    doc_id = _as_text("id", fields.get("id", default_id), errors, required=True, limit=200)
    if doc_id is not None and not ID_PATTERN.match(doc_id):
        errors.append(FieldError("id", f"{doc_id!r} may hold only letters, digits, '.', '_', '-', '/'"))
    title = _as_text("title", fields.get("title"), errors, required=True, limit=MAX_TITLE)
    kind = fields.get("kind")
    if kind not in DOCUMENT_KINDS:
        errors.append(FieldError("kind", f"{kind!r} is not one of {', '.join(DOCUMENT_KINDS)}"))
    city_required = kind in CITY_KINDS
    city = _as_text("city", fields.get("city"), errors, required=city_required, limit=120)
    country = _as_text("country", fields.get("country"), errors, required=city_required, limit=120)
    domains = _as_list("domains", fields.get("domains"), DOMAINS, errors)
    if city_required and not domains and not any(e.field == "domains" for e in errors):
        errors.append(FieldError("domains", f"at least one domain is required for a {kind}"))
    levers = _as_list("levers", fields.get("levers"), LEVERS, errors)
    twins = fields.get("twins") or []
    if not isinstance(twins, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= 120 for t in twins):
        errors.append(FieldError("twins", "must be a list of twin cities' names"))
        twins = []

    module = fields.get("module")
    if (kind == "workshop_output" or module is not None) and module not in MODULES:
        errors.append(FieldError("module", f"{module!r} is not one of {', '.join(MODULES)}"))
    elif kind not in ("workshop_output", "case_note") and module is not None:
        errors.append(FieldError("module", "is only for workshop_output and case_note documents"))

    language = fields.get("language")
    if language is not None and (not isinstance(language, str) or not LANGUAGE_PATTERN.match(language)):
        errors.append(FieldError("language", f"{language!r} is not an ISO 639-1 code such as en, sv, de"))
    date = _as_date(fields.get("date"), errors)
    source = _as_text("source", fields.get("source"), errors, limit=2000)
    sample = fields.get("sample", False)
    if not isinstance(sample, bool):
        errors.append(FieldError("sample", f"must be true or false, got {sample!r}"))

    if not isinstance(body, str) or not body.strip():
        errors.append(FieldError("text", "the document has no text"))
    elif len(body) > MAX_BODY:
        errors.append(FieldError("text", f"is {len(body)} characters; at most {MAX_BODY} allowed"))

    if errors:
        raise ValidationErrors(errors)
    return Practice(
        id=doc_id, title=title, kind=kind, body=body.strip(), city=city, country=country,
        domains=domains, levers=levers, module=module, language=language, date=date,
        source=source, sample=sample, path=path, files=files, twins=tuple(dict.fromkeys(t.strip() for t in twins)),
    )


def with_language(practice: Practice) -> Practice:
    """The practice with its language: as given, else detected, else English."""
    if practice.language:
        return practice
    return replace(practice, language=detect(f"{practice.title}\n{practice.body}") or "en")
