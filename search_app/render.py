"""Templates, Markdown rendering and error pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from kb.documents import DOCUMENT_KINDS, DOMAIN_NAMES, DOMAINS, LEVERS, language_name
from search_app import i18n
from search_app.i18n import N_, gettext

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not in its msgid


@pass_context
def _gettext(context, message: str, **values) -> str:
    """Jinja's "newstyle" gettext (values escaped, then put in), but a message without values is
    left as it is, so that a text from the core with a % sign ("70 % of…") shows as written."""
    text = i18n.gettext(message)
    text = Markup(text) if context.eval_ctx.autoescape else text
    return text % values if values else text


@pass_context
def _ngettext(context, singular: str, plural: str, num: int, **values) -> str:
    text = i18n.ngettext(singular, plural, num)
    text = Markup(text) if context.eval_ctx.autoescape else text
    return text % {"num": num, **values}


templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # {% trans %} calls them with values
templates.env.globals.update(gettext=_gettext, ngettext=_ngettext)  # as they are, not wrapped by Jinja's newstyle

# The words people read for the corpus's controlled vocabularies (kb/documents/vocab.py).
LABELS = {
    "measure": N_("Pilot measure"), "case_note": N_("Case note"), "workshop_output": N_("Workshop output"),
    "portal_resource": N_("Portal resource"), "replication_plan": N_("Replication plan"),
    **DOMAIN_NAMES, "technology": N_("Technology"),
    "governance-policy": N_("Governance and policy"), "finance-funding": N_("Finance and funding"),
    "social-innovation": N_("Social innovation"), "participation": N_("Citizen participation"),
    "learning-capabilities": N_("Learning and skills"), "data-digital": N_("Data and digital"),
    "getting-started": N_("Getting started"), "co-creation": N_("Co-creation"), "capitalisation": N_("Capitalisation"),
    # accounts' roles
    "pilot": N_("Pilot city"), "twin": N_("Twin city"), "matching": N_("Matching team"), "admin": N_("Administrator"),
    "anonymous": N_("Not logged in"),
}
FACET_NAMES = {"domain": N_("Domain"), "lever": N_("Lever"), "kind": N_("Kind of document"),
               "module": N_("Programme module"), "twin": N_("Twin city it concerns"), "country": N_("Country"),
               "language": N_("Language"), "city": N_("City")}


def label(value: str) -> str:
    """'waste-circular' -> 'Waste and circular economy', for badges and filter options."""
    return gettext(LABELS[value]) if value in LABELS else value.replace("-", " ").replace("_", " ").capitalize()


def facet_label(facet: str, value: str) -> str:
    """A filter value as words: a language by its own name ('Svenska'), the rest by `label`."""
    if facet == "language":
        return language_name(value)
    return i18n.country(value) if facet == "country" else value if facet == "twin" else label(value)


def facet_name(facet: str) -> str:
    return gettext(FACET_NAMES[facet]) if facet in FACET_NAMES else facet


templates.env.globals.update(DOMAINS=DOMAINS, LEVERS=LEVERS, KINDS=DOCUMENT_KINDS, facet_name=facet_name, facet_label=facet_label,
                             language_name=language_name, interface_languages=i18n.language_choices,
                             locale=i18n.current, term=i18n.term)
templates.env.filters.update(tr=i18n.translated, country=i18n.country, label=label, when=i18n.when, ago=i18n.ago,
                             number=i18n.number)


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


ERROR = N_("Error")


def render_error(request: Request, status_code: int, message: str, headers: dict | None = None):
    titles = {401: N_("Please log in"), 403: N_("Not for this account"), 404: N_("Not found"),
              409: N_("Changed meanwhile"), 422: N_("Please change your request"), 429: N_("Please wait a moment"),
              500: N_("Something went wrong"), 503: N_("Please try again in a moment")}
    title = titles.get(status_code, ERROR)
    return render(request, "error.html", {"status": status_code, "title": gettext(title), "message": message},
                  status_code=status_code, headers=headers)
