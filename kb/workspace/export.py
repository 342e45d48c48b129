"""A replication plan as files to hand in: Markdown, Word (python-docx) and PDF (WeasyPrint).
Headings and tables survive in each; each names the plan's version and the date it was exported,
its title, dates and section headings in the language of the one who exports it."""

from __future__ import annotations

import html
import io
from datetime import date

from kb.documents import markdown_html, tokens
from kb.errors import Invalid
from kb.messages import Message, translate
from kb.store import City, PlanRecord
from kb.workspace.sections import plan_markdown

FORMATS = {"md": "text/markdown; charset=utf-8",
           "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "pdf": "application/pdf"}
# The paragraphs, headings, list items and table rows a Word or PDF export lays out at most:
# 2,000 take WeasyPrint about 8 s and python-docx 2 s here; a plan at the section limits can hold
# 12,000 list items (80 s and 50 s).
MAX_BLOCKS = 2_000
_CSS = """
@page { size: A4; margin: 2cm; @bottom-center { content: counter(page); font-size: 9pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.4; color: #1d2a33; }
h1 { font-size: 18pt; color: #0b6e4f; margin-bottom: 0; } h2 { font-size: 13pt; color: #0b6e4f; margin-top: 18pt; }
p.meta { color: #5a6b77; margin-top: 4pt; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; } th, td { border: 1px solid #b8c4cc; padding: 4pt; }
th { background: #e3f2ec; text-align: left; }
"""


def title(twin: City, language: str) -> str:
    return translate(Message("%(twin)s: replication plan", twin=twin.city), language)


def stamp(plan: PlanRecord, today: date, language: str) -> str:
    state = Message("final") if plan.final else Message("draft")
    return translate(Message("Version %(version)s (%(state)s), exported %(date)s", version=plan.version, state=state,
                             date=today.isoformat()), language)


def to_markdown(twin: City, plan: PlanRecord, today: date, language: str) -> bytes:
    return (f"# {title(twin, language)}\n\n{stamp(plan, today, language)}\n\n"
            f"{plan_markdown(twin, plan, language)}").encode()


def to_html(twin: City, plan: PlanRecord, today: date, language: str) -> str:
    heading = html.escape(title(twin, language))
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"><title>{heading}</title>'
            f"<style>{_CSS}</style></head><body><h1>{heading}</h1>"
            f"<p class=\"meta\">{html.escape(stamp(plan, today, language))}</p>"
            f"{markdown_html(plan_markdown(twin, plan, language))}</body></html>")


def to_pdf(twin: City, plan: PlanRecord, today: date, language: str) -> bytes:
    from weasyprint import HTML, URLFetcher  # 0.5 s to import, and only exports need it

    # Nothing is fetched: an image written into a plan as ![x](http://…) stays out of the PDF.
    fetch_nothing = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    return HTML(string=to_html(twin, plan, today, language), url_fetcher=fetch_nothing).write_pdf()


def to_docx(twin: City, plan: PlanRecord, today: date, language: str) -> bytes:
    """Word: the headings as Word headings, tables as Word tables, lists as list paragraphs."""
    from docx import Document

    document = Document()
    document.core_properties.title = title(twin, language)
    document.core_properties.language = language
    document.add_heading(title(twin, language), level=0)
    document.add_paragraph(stamp(plan, today, language))
    _write(document, tokens(plan_markdown(twin, plan, language)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _write(document, stream: list) -> None:
    """Markdown tokens (markdown-it) into a python-docx document."""
    i, style = 0, None
    while i < len(stream):
        token = stream[i]
        if token.type == "heading_open":
            document.add_heading(stream[i + 1].content, level=int(token.tag[1]) - 1)
            i += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            style = "List Bullet" if token.type == "bullet_list_open" else "List Number"
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            style = None
        elif token.type == "table_open":
            i = _table(document, stream, i)
            continue
        elif token.type == "inline" and stream[i - 1].type == "paragraph_open":
            document.add_paragraph(_plain(token), style=style)
        i += 1


def _plain(token) -> str:
    return "".join(child.content for child in token.children or [] if child.type in ("text", "code_inline")) \
        or token.content


def _table(document, stream: list, start: int) -> int:
    rows, row, i = [], None, start + 1
    while stream[i].type != "table_close":
        kind = stream[i].type
        if kind == "tr_open":
            row = []
        elif kind == "tr_close":
            rows.append(row)
        elif kind == "inline":
            row.append(_plain(stream[i]))
        i += 1
    width = max((len(r) for r in rows), default=0)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    # row by row: table.cell(r, c) lays out the whole grid at each call (quadratic in rows)
    for r, (row, cells) in enumerate(zip(table.rows, rows)):
        for cell, text in zip(row.cells, cells):
            cell.text = text
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
    return i + 1


def check_size(markdown: str) -> None:
    """Refuse a plan too long to lay out in bounded time, saying by how much."""
    blocks = sum(t.type in ("paragraph_open", "heading_open", "tr_open") for t in tokens(markdown))
    if blocks > MAX_BLOCKS:
        raise Invalid(Message("the plan has %(n)s paragraphs, list items and table rows; a Word or PDF export lays "
                              "out at most %(max)s: shorten its tables and lists, or export it as Markdown",
                              n=format(blocks, ","), max=format(MAX_BLOCKS, ",")))


def export(twin: City, plan: PlanRecord, fmt: str, today: date | None = None,
           language: str = "en") -> tuple[bytes, str, str]:
    """(content, file name, media type) of the plan in `fmt`: md, docx or pdf, its own words
    framed in `language`."""
    today = today or date.today()
    if fmt != "md":
        check_size(plan_markdown(twin, plan))
    writer = {"md": to_markdown, "docx": to_docx, "pdf": to_pdf}[fmt]
    slug = "-".join(twin.city.casefold().split())
    return writer(twin, plan, today, language), f"replication-plan-{slug}-v{plan.version}.{fmt}", FORMATS[fmt]
