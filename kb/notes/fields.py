"""The fields of a case note: what a pilot officer records beside the free text, how each is
checked (every problem named, in plain words, against its field), and the searchable document
the fields make."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date

from kb.documents import DOMAINS, LEVERS, MAX_BODY, MODULES, Practice, ValidationErrors, code_of, validate
from kb.errors import Invalid
from kb.files import Extracted, as_markdown

# (field, heading on the practice page); the free text and the structured text fields
TEXTS = (("challenge", "Challenge"), ("what_was_done", "What was done"), ("results", "Results"),
         ("costs", "Costs and funding"), ("partners", "Partners"), ("transferability", "Transferability"),
         ("contact", "Contact"), ("summary_en", "In English (summary by the author)"))
NOTE_FIELDS = ("title", *(name for name, _ in TEXTS), "indicators", "start", "end", "module", "twins",
               "domains", "levers", "language", "attachments")
REQUIRED = {"title": "Give the title.", "challenge": "Say what problem the city faced.",
            "what_was_done": "Say what the city did."}
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
            errors.append(f"{name}: {REQUIRED[name]}")
    if len(fields["title"]) > MAX_NOTE_TITLE:
        errors.append(f"title: Shorten the title to {MAX_NOTE_TITLE} characters (it has {len(fields['title'])}).")
    for name in ("partners", "contact"):
        if len(fields[name]) > MAX_SHORT * 5:
            errors.append(f"{name}: Keep this to {MAX_SHORT * 5} characters.")
    body_length = sum(len(fields[n]) for n, _ in TEXTS)
    if body_length > MAX_NOTE_BODY:
        longest = max((n for n, _ in TEXTS), key=lambda n: len(fields[n]))
        errors.append(f"{longest}: The texts hold {body_length} characters together; shorten them to {MAX_NOTE_BODY}.")
    errors += _check_period(fields)
    if fields["module"] and fields["module"] not in MODULES:
        errors.append(f"module: Choose one of {', '.join(MODULES)}, or none.")
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
        errors.append("domains: Choose at least one domain.")
    fields["indicators"], indicator_errors = _indicators(payload.get("indicators") or [])
    errors += indicator_errors
    if errors:
        raise InvalidNote("; ".join(errors), errors)
    return fields


def _check_period(fields: dict) -> list[str]:
    errors = [f"{name}: Give a year or a month, such as 2024 or 2024-03."
              for name in ("start", "end") if fields[name] and not MONTH.match(fields[name])]
    if not errors and fields["start"] and fields["end"] and fields["end"] < fields["start"]:
        errors.append("end: The end comes before the start.")
    return errors


def _language(value: str) -> tuple[str, list[str]]:
    """An ISO 639-1 code from a code, the language's own name or its English name ("sv", "Svenska",
    "Swedish"); '' leaves it to detection."""
    if not value:
        return "", []
    code = code_of(value)
    if code is None:
        return "", [f"language: {value[:40]!r} is not a language we know; choose one from the list, or leave it "
                    "to be detected"]
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
            errors.append(f"indicators: Name indicator {i} (for example 'CO2 avoided').")
        if number is None:
            errors.append(f"indicators: Give indicator {i} a value as a number (for example 1200 or 3.5).")
        year_number = _number(year) if year not in (None, "") else None
        if year not in (None, "") and (year_number is None or not 1950 <= year_number <= 2100
                                       or year_number != int(year_number)):
            errors.append(f"indicators: The year of indicator {i} is a year such as 2024.")
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


def practice_of(note_id: str, city: str, country: str, fields: dict) -> Practice:
    """The searchable document of a note (validated like any corpus document)."""
    try:
        return validate(
            {"id": note_id, "title": fields["title"], "kind": "case_note", "city": city, "country": country,
             "domains": fields["domains"], "levers": fields["levers"], "language": fields["language"] or None,
             "module": fields["module"] or None, "twins": fields["twins"], "date": date.today().isoformat()},
            note_body(fields), files=tuple(a["file"] for a in fields.get("attachments") or []),
        )
    except ValidationErrors as exc:
        errors = [f"attachments: The note and its files hold {len(note_body(fields)):,} characters of text; at most "
                  f"{MAX_BODY:,}. Attach fewer or shorter files." if e.field == "text" and fields.get("attachments")
                  else str(e) for e in exc.errors]
        raise InvalidNote("; ".join(errors), errors) from exc
