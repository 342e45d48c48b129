"""Templates, Markdown rendering and error pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from kb.documents import DOCUMENT_KINDS, DOMAINS, LEVERS, language_name

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

KIND_LABELS = {
    "measure": "Pilot measure",
    "case_note": "Case note",
    "workshop_output": "Workshop output",
    "portal_resource": "Portal resource",
}
# The words people read for the corpus's controlled vocabularies (kb/documents/vocab.py).
LABELS = {
    **KIND_LABELS,
    "energy": "Energy", "buildings": "Buildings", "mobility": "Mobility", "waste-circular": "Waste and circular economy",
    "industry": "Industry", "green-infrastructure": "Green infrastructure and nature",
    "technology": "Technology", "governance-policy": "Governance and policy", "finance-funding": "Finance and funding",
    "social-innovation": "Social innovation", "participation": "Citizen participation",
    "learning-capabilities": "Learning and skills", "data-digital": "Data and digital",
    "getting-started": "Getting started", "co-creation": "Co-creation", "capitalisation": "Capitalisation",
}
FACET_NAMES = {"domain": "Domain", "lever": "Lever", "kind": "Kind of document", "module": "Programme module",
               "twin": "Twin city it concerns", "country": "Country", "language": "Language", "city": "City"}


def label(value: str) -> str:
    """'waste-circular' -> 'Waste and circular economy', for badges and filter options."""
    return LABELS.get(value) or value.replace("-", " ").capitalize()


def facet_label(facet: str, value: str) -> str:
    """A filter value as words: a language by its own name ('Svenska'), the rest by `label`."""
    return language_name(value) if facet == "language" else value if facet in ("country", "twin") else label(value)


def when(stamp: str | None) -> str:
    """A stored UTC time as people read it: '2026-12-07T02:07:02Z' -> '2026-12-07 02:07 UTC'."""
    return f"{stamp[:10]} {stamp[11:16]} UTC" if stamp and len(stamp) >= 16 else (stamp or "")


templates.env.globals.update(KIND_LABELS=KIND_LABELS, DOMAINS=DOMAINS, LEVERS=LEVERS, KINDS=DOCUMENT_KINDS,
                             FACET_NAMES=FACET_NAMES, facet_label=facet_label, language_name=language_name)
templates.env.filters["label"] = label
templates.env.filters["when"] = when


def is_htmx(request: Request) -> bool:
    """An htmx request for a partial; a history restore (Back after the cache is gone) wants
    the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(request: Request, template: str, context: dict, status_code: int = 200, headers: dict | None = None):
    user = getattr(request.state, "user", None)
    if user is not None and not template.startswith("_"):  # the header's inbox count: whole pages, not partials
        context = {"unread": request.app.state.kb.inbox.unread(user), **context}
    # One address answers with a whole page or, to htmx, a partial: caches must keep them apart,
    # or Back shows a partial as the page.
    return templates.TemplateResponse(request, template, context, status_code=status_code,
                                      headers={"Vary": "HX-Request", **(headers or {})})


def csv_response(rows: list[list], filename: str) -> Response:
    """Rows as a CSV download; a text cell a spreadsheet would run as a formula is written as text."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_as_text(cell) for cell in row] for row in rows])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _as_text(cell):
    """A string starting with = + - @ (or a tab or carriage return) is a formula to Excel and its kin:
    a leading apostrophe keeps it text (OWASP's advice for CSV injection). Numbers stay numbers."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell


def render_error(request: Request, status_code: int, message: str, headers: dict | None = None):
    titles = {404: "Not found", 422: "Please change your request", 500: "Something went wrong",
              503: "Please try again in a moment"}
    return render(request, "error.html",
                  {"status": status_code, "title": titles.get(status_code, "Error"), "message": message},
                  status_code=status_code, headers=headers)
