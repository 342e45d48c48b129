"""Templates, Markdown rendering and error pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import nh3
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from kb.vocab import DOCUMENT_KINDS, DOMAINS, LEVERS

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

KIND_LABELS = {
    "measure": "Pilot measure",
    "case_note": "Case note",
    "workshop_output": "Workshop output",
    "portal_resource": "Portal resource",
}
templates.env.globals.update(KIND_LABELS=KIND_LABELS, DOMAINS=DOMAINS, LEVERS=LEVERS, KINDS=DOCUMENT_KINDS)


def label(value: str) -> str:
    """'waste-circular' -> 'Waste circular', for badges and facet options."""
    return KIND_LABELS.get(value) or value.replace("-", " ").capitalize()


templates.env.filters["label"] = label


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled, then sanitised again as defence in depth."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, context: dict, status_code: int = 200):
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def csv_response(rows: list[list], filename: str) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def render_error(request: Request, status_code: int, message: str):
    titles = {404: "Not found", 422: "Please change your request", 500: "Something went wrong"}
    return render(request, "error.html",
                  {"status": status_code, "title": titles.get(status_code, "Error"), "message": message},
                  status_code=status_code)
