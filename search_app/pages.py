"""HTML pages. An htmx request gets the results partial; a full page includes the same partial."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, HTTPException, Request

from kb.explorer import city_similarity, practice_map, twin_suggestions
from kb.facets import FACETS, facet_counts
from kb.notes import NoteError, Notes
from kb.partners import Profile, suggest
from kb.search import MODES, SearchError, search
from kb.similarity import similar
from search_app.auth import csrf_token
from search_app.charts import DOMAIN_COLOURS, heatmap, scatter
from search_app.deps import KB
from search_app.offload import embed_ahead
from search_app.render import csv_response, is_htmx, markdown_html, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
EXAMPLES = ("district heating phase-out", "fund a retrofit one-stop shop", "low-emission zone",
            "energy community for tenants", "reuse of building materials", "citizen climate fund")


@router.get("/")
async def home(request: Request, kb: KB, q: str = "", mode: str = "hybrid", domain: str = "", lever: str = "",
         kind: str = "", country: str = "", city: str = "", language: str = ""):
    filters = {k: v for k, v in dict(domain=domain, lever=lever, kind=kind, country=country, city=city,
                                     language=language).items() if v}
    context = {"q": q, "mode": mode, "modes": MODES, "filters": filters, "facets": FACETS,
               "results": None, "counts": {}, "error": None, "examples": EXAMPLES, "partners": []}
    status = 200
    if q.strip():
        await embed_ahead(kb, q)
        try:
            context["results"] = search(kb, q, k=PAGE_SIZE, mode=mode, filters=filters)
            best = search(kb, q, k=100, mode="hybrid")
            context["counts"] = facet_counts(best if mode == "hybrid" else search(kb, q, k=100, mode=mode), filters)
            context["partners"] = suggest(kb, q, k=3, results=best)
        except SearchError as exc:
            context["error"], status = str(exc), 422
    template = "_search_results.html" if is_htmx(request) else "index.html"
    return render(request, template, context, status_code=status)


@router.get("/doc/{doc_id:path}")
async def document(request: Request, kb: KB, doc_id: str):
    doc = kb.store.get_document(doc_id)
    if doc is None:
        raise HTTPException(404, f"No practice has the id “{doc_id}”. It may have been removed; try searching.")
    city = kb.store.city(doc.city) if doc.city else None
    note, user = None, request.state.user
    if doc.kind == "case_note" and doc.path is None:
        with suppress(NoteError):
            note = Notes(kb).get(doc_id)
    may_change = user is not None and (user.role == "admin" or (user.role == "pilot" and user.city == doc.city))
    return render(request, "doc.html", {"doc": doc, "body": markdown_html(doc.body), "city": city,
                                        "similar": similar(kb, doc_id, k=5), "note": note, "may_change": may_change,
                                        "csrf": csrf_token(request) if may_change else ""})


@router.get("/cities")
async def cities(request: Request, kb: KB):
    counts = kb.store.city_document_counts()
    return render(request, "cities.html", {"cities": kb.store.cities(), "counts": counts})


@router.get("/cities/{name}")
async def city(request: Request, kb: KB, name: str):
    profile = kb.store.city(name)
    documents = kb.store.documents_of_city(name)
    if profile is None and not documents:
        raise HTTPException(404, f"No city called “{name}” is in the knowledge base. See the list of cities.")
    notes = [d for d in documents if d.kind == "case_note"]
    practices = [d for d in documents if d.kind != "case_note"]
    return render(request, "city.html", {"name": profile.city if profile else name, "profile": profile,
                                         "practices": practices, "notes": notes})


@router.get("/partners")
async def partners(request: Request, kb: KB, challenge: str = "", country: str = "", population: str = "",
                   city: str = ""):
    context = {"challenge": challenge, "country": country, "population": population, "city": city,
               "suggestions": None, "error": None,
               "countries": sorted({c.country for c in kb.store.cities()})}
    status = 200
    if challenge.strip() or population.strip():
        try:
            people = _whole_number(population)
            context["suggestions"] = suggest(kb, challenge, Profile(city or None, country or None, people), k=5)
        except SearchError as exc:
            context["error"], status = str(exc), 422
    return render(request, "partners.html", context, status_code=status)


def _whole_number(text: str) -> int | None:
    text = text.strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit():
        raise SearchError(f"population must be a whole number such as 120000, got {text!r}")
    return int(text)


@router.get("/explorer")
async def explorer(request: Request, kb: KB):
    names, matrix = city_similarity(kb)
    return render(request, "explorer.html", {
        "heatmap": heatmap(names, matrix), "map": scatter(practice_map(kb)), "colours": DOMAIN_COLOURS,
        "twins": twin_suggestions(kb), "cities": len(names),
    })


@router.get("/explorer/similarity.csv")
async def similarity_csv(kb: KB):
    names, matrix = city_similarity(kb)
    rows = [["city", *names]] + [[name, *(f"{v:.4f}" for v in row)] for name, row in zip(names, matrix)]
    return csv_response(rows, "city-similarity.csv")


@router.get("/explorer/suggestions.csv")
async def suggestions_csv(kb: KB):
    rows = [["twin", "rank", "pilot", "country", "score", "reasons", "evidence"]]
    for twin, _, suggestions in twin_suggestions(kb, k=5):
        for rank, s in enumerate(suggestions, start=1):
            rows.append([twin, rank, s.city, s.country, s.score, " | ".join(s.reasons),
                         " ".join(e.doc_id for e in s.evidence)])
    return csv_response(rows, "twin-suggestions.csv")
