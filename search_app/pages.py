"""HTML pages. An htmx request gets the results partial; a full page includes the same partial.
Each route parses, makes one call into the knowledge base, and renders."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request

from kb.documents import sections_html
from kb.errors import Invalid, NotFound
from kb.matching import MATCHING_ROLES, MAX_POPULATION, Profile
from kb.messages import Message
from kb.search import FACETS, MAX_K, MODES
from search_app.auth import asker, csrf_token
from search_app.charts import europe, heatmap
from search_app.deps import KB
from search_app.i18n import gettext as _
from search_app.i18n import N_, ngettext
from search_app.render import csv_response, is_htmx, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
# Queries to try, in the reader's language (the search reads every language).
EXAMPLES = (N_("district heating phase-out"), N_("fund a retrofit one-stop shop"), N_("low-emission zone"),
            N_("energy community for tenants"), N_("reuse of building materials"), N_("citizen climate fund"))


@router.get("/")
def home(request: Request, kb: KB, q: str = "", mode: str = "hybrid", domain: str = "", lever: str = "",
         kind: str = "", module: str = "", twin: str = "", country: str = "", city: str = "", language: str = "",
         k: int = PAGE_SIZE, exact: bool = False):
    filters = {k: v for k, v in dict(domain=domain, lever=lever, kind=kind, module=module, twin=twin, country=country,
                                     city=city, language=language).items() if v}
    context = {"q": q, "mode": mode, "modes": MODES, "filters": filters, "facets": FACETS, "results": None,
               "counts": {}, "error": None, "examples": EXAMPLES, "partners": [], "count_text": "", "kept": frozenset(),
               "search_ref": None}
    status = 200
    if q.strip():
        try:
            page = kb.search_page(q, k=k, mode=mode, filters=filters, correct=not exact, user=request.state.user,
                                  asker=asker(request, "page"))
            response = page.response
            context.update(search_ref=page.ref, results=response.results, counts=page.facets, partners=page.partners, kept=page.kept,
                           filters_hide=page.filters_hide, unfiltered=page.unfiltered,
                           weak=response.weak_match, corrected=response.corrected, language=response.language,
                           english=response.english,
                           count_text=_count_text(response), **_more(request, k, len(response.results)))
        except Invalid as exc:
            context.update(error=exc.message, count_text=_("Please change your search."))
            status = 422
    template = "_search_results.html" if is_htmx(request) else "index.html"
    return render(request, template, context, status_code=status)


def _count_text(response) -> str:
    """What a screen reader announces when results arrive: the count, not the list."""
    n = len(response.results)
    if not n:
        return _("No practice matches.")
    if response.weak_match:
        return ngettext("Nothing matches well; %(num)d practice nearest.",
                        "Nothing matches well; %(num)d practices nearest.", n) % {"num": n}
    return ngettext("%(num)d practice found.", "%(num)d practices found.", n) % {"num": n}


def _more(request: Request, k: int, shown: int) -> dict:
    """The address of the same search with PAGE_SIZE more results, while more can come."""
    if shown < k or k >= MAX_K:
        return {"more_k": None, "more_url": ""}
    more_k = min(MAX_K, k + PAGE_SIZE)
    return {"more_k": more_k, "more_url": str(request.url.include_query_params(k=more_k).replace(scheme="", netloc=""))}


@router.get("/doc/{doc_id:path}")
def document(request: Request, kb: KB, doc_id: str, s: str = ""):
    try:
        page = kb.practice_page(doc_id, request.state.user, search_ref=s)
    except NotFound as exc:
        raise HTTPException(404, _("No practice has the id “%(id)s”. It may have been removed; try searching.")
                            % {"id": doc_id}) from exc
    return render(request, "doc.html", {"doc": page.doc, "body": sections_html(page.doc.body, page.section_languages),
                                        "city": page.city,
                                        "similar": page.similar, "note": page.note, "may_change": page.may_change,
                                        "csrf": csrf_token(request) if page.may_change else "",
                                        "back_to_search": _search_referer(request), "kept": page.kept,
                                        "adopters": page.adopters})


def _search_referer(request: Request) -> str | None:
    """The search a visitor came from (this site's "/" with a query), for the breadcrumb."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path == "/" and "q=" in referer.query:
        return f"/?{referer.query}"
    return None


@router.get("/cities")
def cities(request: Request, kb: KB):
    return render(request, "cities.html", {"cities": kb.cities()})


@router.get("/cities/{name}")
def city(request: Request, kb: KB, name: str):
    return render(request, "city.html", {"page": kb.city_page(name, request.state.user)})


@router.get("/partners")
def partners(request: Request, kb: KB, challenge: str = "", country: str = "", population: str = "", city: str = ""):
    error = None
    try:
        people = _whole_number(population)
    except Invalid as exc:
        error, people = exc.message, None
    asked = challenge if (challenge.strip() or population.strip()) and error is None else None
    page = kb.partners_page(asked, Profile(city or None, country or None, people), user=request.state.user)
    error = error or page.error
    context = {"challenge": challenge, "country": country, "population": population, "city": city,
               "partners": page.partners, "countries": page.countries, "error": error, "kept": page.kept}
    return render(request, "partners.html", context, status_code=422 if error else 200)


def _whole_number(text: str) -> int | None:
    text = text.strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_POPULATION)) \
            or int(text) > MAX_POPULATION:  # not "²", nor 5,000 digits
        raise Invalid(Message("population must be a whole number such as 120000, got %(text)s", text=repr(text[:20])))
    return int(text)


@router.get("/explorer")
def explorer(request: Request, kb: KB, domain: str = "", twin: str = "", challenge: str = ""):
    page = kb.explorer(domain or None, twin or None, challenge.strip() or None, request.state.user)
    return render(request, "explorer.html", {
        "page": page, "heatmap": heatmap(page.heatmap), "map": europe(page.view.map, page.view.key),
        "domain": domain, "twin": twin, "challenge": challenge, "csrf": csrf_token(request),
        "may_pair": request.state.user is not None and request.state.user.role in MATCHING_ROLES,
    })


@router.get("/explorer/heatmap.csv")
def heatmap_csv(kb: KB, domain: str = ""):
    data = kb.explorer(domain or None).heatmap
    rows = [["twin", *data.pilots]] + [[twin, *(f"{v:.4f}" for v in row)] for twin, row in zip(data.twins, data.scores)]
    return csv_response(rows, "twins-by-pilots.csv")


@router.get("/explorer/suggestions.csv")
def suggestions_csv(kb: KB):
    rows = [["twin", "current pilots", "rank", "suggested pilot", "country", "reasons", "evidence"]]
    for row in kb.explorer().view.twins:
        for rank, s in enumerate(row.suggested, start=1):
            rows.append([row.twin.city, "; ".join(row.current), rank, s.city, s.country, " | ".join(s.reasons),
                         " ".join(e.doc_id for e in s.evidence)])
    return csv_response(rows, "twin-suggestions.csv")


@router.get("/explorer/map.csv")
def map_csv(kb: KB):
    view = kb.explorer().view
    paired = {}
    for pairing in view.map.pairings:
        paired.setdefault(pairing.twin, []).append(pairing.pilot)
        paired.setdefault(pairing.pilot, []).append(pairing.twin)
    rows = [["city", "country", "role", "lat", "lon", "paired with"]]
    rows += [[p.city, p.country, p.role, p.lat, p.lon, "; ".join(paired.get(p.city, []))] for p in view.map.places]
    return csv_response(rows, "map-of-cities.csv")
