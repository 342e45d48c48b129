"""What the programme learns from itself, for the matching team and admins: reach, knowledge gaps
and replication, as pages (with a chart, its table and a CSV) and as JSON (kb/insights)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from kb.insights import GROUPINGS, Period, csv_table
from search_app.auth import CheckedForm, csrf_token, login_first
from search_app.charts import bars
from search_app.deps import KB, Reader
from search_app.errors import PRIVATE_READ, documented
from search_app.guards import StrictRoute
from search_app.i18n import N_
from search_app.i18n import gettext as _
from search_app.render import csv_response, render

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused
pages = APIRouter(include_in_schema=False)

SINCE = Query(None, description="The first day, YYYY-MM-DD (default: 90 days before `until`).")
UNTIL = Query(None, description="The last day, YYYY-MM-DD (default: today).")


# Translators: column names of the insights' CSV downloads (kb/insights/csv_table writes them in English).
CSV_HEADERS = {
    "searches": N_("searches"), "weak": N_("weak"), "label": N_("label"), "words": N_("words"),
    "languages": N_("languages"), "domains": N_("domains"), "pilots": N_("pilots"), "examples": N_("examples"),
    "practice": N_("practice"), "pilot": N_("pilot"), "domain": N_("domain"), "module": N_("module"),
    "kept": N_("kept"), "considering": N_("considering"), "adopting": N_("adopting"), "dropped": N_("dropped"),
    "final": N_("final"), "twins": N_("twins"), "week": N_("week"), "searches in a session": N_("searches in a session"),
    "followed by a kept practice": N_("followed by a kept practice"), "roles": N_("roles"),
}


def _csv(figures, filename: str):
    """The figures as a CSV download, its header row in the page's language."""
    header, *rows = csv_table(figures)
    return csv_response([[_(CSV_HEADERS[name]) if name in CSV_HEADERS else name for name in header], *rows], filename)


def _period(since: str | None, until: str | None) -> dict:
    period = Period.of(since, until)
    return {"period": period, "since": period.since.isoformat(), "until": period.until.isoformat()}


@pages.get("/insights")
def reach_page(request: Request, kb: KB, since: str | None = None, until: str | None = None, format: str = ""):
    if request.state.user is None:
        return login_first(request)
    context = _period(since, until)
    reach = kb.insights.reach(request.state.user, context["period"])
    if format == "csv":
        return _csv(reach, f"searches-{context['since']}-{context['until']}.csv")
    weeks = [w.week for w in reach.weeks]
    chart = bars(_("Searches per week"), weeks, {_("searches"): [w.searches for w in reach.weeks],
                                                 _("weak matches"): [w.weak for w in reach.weeks],
                                                 _("followed by a kept practice"): [w.kept for w in reach.weeks]})
    return render(request, "insights.html", {**context, "reach": reach, "chart": chart})


@pages.get("/insights/gaps")
def gaps_page(request: Request, kb: KB, since: str | None = None, until: str | None = None, format: str = "",
              asked: str = "", told: int = 0):
    if request.state.user is None:
        return login_first(request)
    context = _period(since, until)
    gaps = kb.insights.gaps(request.state.user, context["period"])
    if format == "csv":
        return _csv(gaps, f"knowledge-gaps-{context['since']}-{context['until']}.csv")
    return render(request, "insights_gaps.html", {**context, "gaps": gaps, "csrf": csrf_token(request),
                                                  "asked": asked[:200], "told": told})


@pages.post("/insights/gaps/{gap_id}/ask")
def ask_for_note(request: Request, kb: KB, gap_id: str, _: CheckedForm, since: str = Form(""), until: str = Form("")):
    context = _period(since or None, until or None)
    gap, told = kb.insights.ask_for_note(request.state.user, gap_id, context["period"])
    query = urlencode({"since": context["since"], "until": context["until"], "asked": gap.label, "told": told})
    return RedirectResponse(f"/insights/gaps?{query}#asked", status_code=303)


@pages.get("/insights/replication")
def replication_page(request: Request, kb: KB, by: str = "practice", since: str | None = None, format: str = ""):
    if request.state.user is None:
        return login_first(request)
    figures = kb.insights.replication(request.state.user, by, since or None)
    if format == "csv":
        return _csv(figures, f"replication-by-{by}.csv")
    months = figures.months
    chart = bars(_("Practices kept, adopted and in final plans per month"), [m.month for m in months],
                 {_("kept"): [m.kept for m in months], _("adopting"): [m.adopting for m in months],
                  _("in a final plan"): [m.final for m in months]})
    return render(request, "insights_replication.html", {"figures": figures, "by": by, "groupings": GROUPINGS,
                                                         "since": since or "", "chart": chart})


@router.get("/api/insights/gaps", tags=["insights"], responses=documented(*PRIVATE_READ))
def api_gaps(kb: KB, user: Reader, since: str | None = SINCE, until: str | None = UNTIL) -> dict:
    """The searches nothing answered well (weak matches, and page searches whose results nobody
    opened) of a period, grouped by meaning, most asked first (the matching team and admins)."""
    return kb.insights.gaps(user, Period.of(since, until)).to_json()


@router.get("/api/insights/replication", tags=["insights"], responses=documented(*PRIVATE_READ))
def api_replication(kb: KB, user: Reader, by: str = Query("practice", description="practice, pilot, domain or module."),
                    since: str | None = Query(None, description="Count what was kept or made final from this day.")) -> dict:
    """Kept, considering, adopting, dropped and in a final plan, per practice, pilot, domain or
    module, and month by month (the matching team and admins)."""
    return kb.insights.replication(user, by, since).to_json()


@router.get("/api/insights/reach", tags=["insights"], responses=documented(*PRIVATE_READ))
def api_reach(kb: KB, user: Reader, since: str | None = SINCE, until: str | None = UNTIL) -> dict:
    """Searches per week by language and role, the share of weak matches and of searches followed
    by a kept practice, and the twin cities that logged in but keep nothing (the matching team and admins)."""
    return kb.insights.reach(user, Period.of(since, until)).to_json()

router.include_router(pages)
