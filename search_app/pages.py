"""HTML pages. An htmx request gets the results partial; a full page includes the same partial."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from kb.facets import FACETS, facet_counts
from kb.search import MODES, SearchError, search
from kb.similarity import similar
from search_app.deps import KB
from search_app.render import is_htmx, markdown_html, render

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
               "results": None, "counts": {}, "error": None, "examples": EXAMPLES}
    status = 200
    if q.strip():
        try:
            context["results"] = search(kb, q, k=PAGE_SIZE, mode=mode, filters=filters)
            context["counts"] = facet_counts(search(kb, q, k=100, mode=mode), filters)
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
    return render(request, "doc.html", {"doc": doc, "body": markdown_html(doc.body), "city": city,
                                        "similar": similar(kb, doc_id, k=5)})


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
