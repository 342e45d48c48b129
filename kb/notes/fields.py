"""The fields of a case note: what a pilot officer records beside the free text, how each is
checked (every problem named, in plain words, against its field), and the searchable document
the fields make."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date

from kb.documents import DOMAINS, LEVERS, MAX_BODY, MODULES, Practice, ValidationErrors, code_of, detect, validate
from kb.errors import Invalid
from kb.files import Extracted, as_markdown
from kb.messages import N_, Message

# (field, heading on the practice page); the free text and the structured text fields
TEXTS = (("challenge", N_("Challenge")), ("what_was_done", N_("What was done")), ("results", N_("Results")),
         ("costs", N_("Costs and funding")), ("partners", N_("Partners")), ("transferability", N_("Transferability")),
         ("contact", N_("Contact")), ("summary_en", N_("In English (summary by the author)")))
NOTE_FIELDS = ("title", *(name for name, _ in TEXTS), "indicators", "start", "end", "module", "twins",
               "domains", "levers", "language", "attachments")
REQUIRED = {"title": Message("Give the title."), "challenge": Message("Say what problem the city faced."),
            "what_was_done": Message("Say what the city did.")}
MAX_NOTE_TITLE, MAX_NOTE_BODY = 200, 50_000  # tighter than a corpus document's
MAX_INDICATORS, MAX_SHORT = 20, 200
MAX_ATTACHMENTS, MAX_UPLOADS = 10, 5  # files on one note, and sent with one form; each within KB_MAX_FILE_MB
MONTH = re.compile(r"^(19[5-9]\d|20\d\d)(-(0[1-9]|1[0-2]))?$")  # 2024 or 2024-03


class InvalidNote(Invalid):
    """A note whose fields are unusable; `errors` lists each as 'field: message'."""


def empty_fields() -> dict:
    return {name: "" for name in NOTE_FIELDS} | {"indicators": [], "twins": [], "domains": [], "levers": [],
                                                 "attachments": []}


def check_fields(payload: dict, twin_cities: tuple[str, ...] = ()) -> dict:
    """The note's fields, cleaned, or InvalidNote listing every problem as 'field: message'.
    Attachments are the caller's (kb/notes/notes.py): they need the files, not the payload alone."""
    if not isinstance(payload, dict):
        raise InvalidNote("the note must be a JSON object with title, challenge, what_was_done, domains, ...")
    errors = [f"{k}: unknown field; use {', '.join(NOTE_FIELDS)}" for k in payload
              if k not in (*NOTE_FIELDS, "city", "version")]
    fields = empty_fields()
    for name in ("title", *(n for n, _ in TEXTS), "start", "end", "module", "language"):
        value = payload.get(name) or ""
        if not isinstance(value, str):
            errors.append(f"{name}: must be text")
            continue
        fields[name] = value.strip()
        if name in REQUIRED and not fields[name]:
            errors.append(Message(REQUIRED[name].template, field=name))
    if len(fields["title"]) > MAX_NOTE_TITLE:
        errors.append(Message("Shorten the title to %(max)s characters (it has %(n)s).", field="title",
                              max=MAX_NOTE_TITLE, n=len(fields["title"])))
    for name in ("partners", "contact"):
        if len(fields[name]) > MAX_SHORT * 5:
            errors.append(Message("Keep this to %(max)s characters.", field=name, max=MAX_SHORT * 5))
    body_length = sum(len(fields[n]) for n, _ in TEXTS)
    if body_length > MAX_NOTE_BODY:
        longest = max((n for n, _ in TEXTS), key=lambda n: len(fields[n]))
        errors.append(Message("The texts hold %(n)s characters together; shorten them to %(max)s.", field=longest,
                              n=body_length, max=MAX_NOTE_BODY))
    errors += _check_period(fields)
    if fields["module"] and fields["module"] not in MODULES:
        errors.append(Message("Choose one of %(modules)s, or none.", field="module", modules=", ".join(MODULES)))
    fields["language"], language_error = _language(fields["language"])
    errors += language_error
    for name, allowed in (("domains", DOMAINS), ("levers", LEVERS), ("twins", twin_cities)):
        value = payload.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{name}: must be a list of names")
            continue
        unknown = [v for v in value if v not in allowed]
        if unknown:
            errors.append(f"{name}: {', '.join(map(repr, unknown[:5]))} is not one of the "
                          f"{'twin cities' if name == 'twins' else name}")
        fields[name] = [v for v in dict.fromkeys(value) if v in allowed]
    if "attachments" in payload and not (isinstance(payload["attachments"], list)
                                         and all(isinstance(v, str) for v in payload["attachments"])):
        errors.append("attachments: must be a list of the kept files' names, as GET /api/notes/{id} gives them")
    if not fields["domains"] and not any(e.startswith("domains") for e in errors):
        errors.append(Message("Choose at least one domain.", field="domains"))
    fields["indicators"], indicator_errors = _indicators(payload.get("indicators") or [])
    errors += indicator_errors
    if errors:
        raise InvalidNote("; ".join(errors), errors)
    return fields


def _check_period(fields: dict) -> list[str]:
    errors = [Message("Give a year or a month, such as 2024 or 2024-03.", field=name)
              for name in ("start", "end") if fields[name] and not MONTH.match(fields[name])]
    if not errors and fields["start"] and fields["end"] and fields["end"] < fields["start"]:
        errors.append(Message("The end comes before the start.", field="end"))
    return errors


def _language(value: str) -> tuple[str, list[str]]:
    """An ISO 639-1 code from a code, the language's own name or its English name ("sv", "Svenska",
    "Swedish"); '' leaves it to detection."""
    if not value:
        return "", []
    code = code_of(value)
    if code is None:
        return "", [Message("%(value)s is not a language we know; choose one from the list, or leave it to be "
                            "detected", field="language", value=repr(value[:40]))]
    return code, []


def _indicators(value) -> tuple[list[dict], list[str]]:
    """Indicators: name and value required, unit and year optional."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return [], ["indicators: must be a list of {name, value, unit, year}"]
    if len(value) > MAX_INDICATORS:
        return [], [f"indicators: at most {MAX_INDICATORS}"]
    kept, errors = [], []
    for i, item in enumerate(value, start=1):
        name, unit = (str(item.get(k) or "").strip()[:MAX_SHORT] for k in ("name", "unit"))
        raw, year = item.get("value"), item.get("year")
        if not name and raw in (None, "") and not unit and year in (None, ""):
            continue  # an empty row of the form
        number = _number(raw)
        if not name:
            errors.append(Message("Name indicator %(i)s (for example 'CO2 avoided').", field="indicators", i=i))
        if number is None:
            errors.append(Message("Give indicator %(i)s a value as a number (for example 1200 or 3.5).",
                                  field="indicators", i=i))
        year_number = _number(year) if year not in (None, "") else None
        if year not in (None, "") and (year_number is None or not 1950 <= year_number <= 2100
                                       or year_number != int(year_number)):
            errors.append(Message("The year of indicator %(i)s is a year such as 2024.", field="indicators", i=i))
        kept.append({"name": name, "value": number, "unit": unit,
                     "year": int(year_number) if year_number is not None and year_number == int(year_number) else None})
    return kept, errors


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and len(value) < 30:
        try:
            number = float(value.replace(",", ".").replace(" ", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _amount(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}".rstrip("0")


def note_body(fields: dict) -> str:
    """The note as Markdown: its texts, indicators, period and twin cities, each under a heading."""
    parts = []
    for name, heading in TEXTS:
        if fields.get(name):
            parts.append(f"## {heading}\n{fields[name]}")
        if name == "results" and fields.get("indicators"):
            rows = "".join(f"| {_cell(i['name'])} | {_amount(i['value'])} | {_cell(i['unit'])} | {i['year'] or ''} |\n"
                           for i in fields["indicators"])
            parts.append("## Indicators\n| Indicator | Value | Unit | Year |\n| --- | --- | --- | --- |\n" + rows)
    if fields.get("start") or fields.get("end"):
        parts.append(f"## Timeline\nFrom {fields.get('start') or '?'} to {fields.get('end') or 'ongoing'}.")
    if fields.get("twins"):
        parts.append("## Twin cities it concerns\n" + ", ".join(fields["twins"]) + ".")
    parts += [a["text"].strip() for a in fields.get("attachments") or []]
    return "\n\n".join(parts)


def attachment(name: str, ref: str, extracted: Extracted) -> dict:
    """An attached file as the note keeps it: its sections labelled "report.pdf, page 2", so a
    result names the file and page (kb/files/kept.py finds them again from the label)."""
    name = " ".join(name.replace("\\", "/").rsplit("/", 1)[-1].split())[:120] or "file"
    sections = [replace(s, label=f"{name}, {s.label[0].lower() + s.label[1:] if s.page else s.label}")
                for s in extracted.sections]
    text = as_markdown(replace(extracted, sections=sections))
    return {"name": name, "file": ref, "pages": len(sections), "text": text}


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def note_language(fields: dict) -> str:
    """The language a note is written in: as its author chose it, else detected on its title and
    the sections its author wrote (not the English summary, not the attached files: a Greek note
    with a long English report attached is Greek), else English, as for any document."""
    if fields.get("language"):
        return fields["language"]
    own = [fields.get("title") or "", *(fields.get(name) or "" for name, _ in TEXTS if name != "summary_en")]
    return detect("\n".join(text for text in own if text)) or "en"


def practice_of(note_id: str, city: str, country: str, fields: dict) -> Practice:
    """The searchable document of a note (validated like any corpus document), in the note's
    language (`note_language`); each passage of an attached file has its own (kb/documents/chunking.py)."""
    try:
        return validate(
            {"id": note_id, "title": fields["title"], "kind": "case_note", "city": city, "country": country,
             "domains": fields["domains"], "levers": fields["levers"], "language": note_language(fields),
             "module": fields["module"] or None, "twins": fields["twins"], "date": date.today().isoformat()},
            note_body(fields), files=tuple(a["file"] for a in fields.get("attachments") or []),
        )
    except ValidationErrors as exc:
        errors = [f"attachments: The note and its files hold {len(note_body(fields)):,} characters of text; at most "
                  f"{MAX_BODY:,}. Attach fewer or shorter files." if e.field == "text" and fields.get("attachments")
                  else str(e) for e in exc.errors]
        raise InvalidNote("; ".join(errors), errors) from exc
