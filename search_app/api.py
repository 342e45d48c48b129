"""The JSON API: the same shapes as the CLI's --json output. Each route parses, makes one call
into the knowledge base, and answers; refusals become 4xx in search_app/errors.py."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from kb.matching import MAX_POPULATION, Profile
from search_app.auth import asker
from search_app.deps import KB
from search_app.errors import documented
from search_app.guards import StrictRoute

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused


@router.get("/healthz", tags=["health"], responses=documented())
def healthz(kb: KB) -> dict:
    """Liveness and what is being served."""
    return kb.health()


@router.get("/api/search", tags=["search"], responses=documented())
def api_search(
    request: Request,
    kb: KB,
    q: str = Query(..., description="The challenge, in your own words (1 to 1,000 characters)."),
    k: int = Query(10, description="How many documents, 1 to 100."),
    mode: str = Query("hybrid", description="hybrid, dense or keyword."),
    domain: str | None = None, lever: str | None = None, kind: str | None = None, module: str | None = None,
    twin: str | None = Query(None, description="Documents that concern this twin city (case notes, workshops)."),
    country: str | None = None, city: str | None = None, language: str | None = None,
    correct: bool = Query(True, description="Correct misspelt words (the response names the query searched)."),
) -> dict:
    """Documents that answer `q`, each with its best passage; filters are exact. `weak_match`
    is true when nothing in the knowledge base matches well."""
    filters = {"domain": domain, "lever": lever, "kind": kind, "module": module, "twin": twin, "country": country, "city": city,
               "language": language}
    # Returned as a response, so FastAPI does not walk the results again to encode them.
    return JSONResponse(kb.search(q, k=k, mode=mode, filters=filters, correct=correct,
                                  asker=asker(request, "api")).to_json())


@router.get("/api/docs/{doc_id:path}/similar", tags=["documents"],
            responses=documented(404))
def api_similar(kb: KB, doc_id: str, k: int = 10) -> dict:
    """Practices most like this document."""
    return {"doc_id": doc_id, "results": [r.to_json() for r in kb.similar(doc_id, k=k)]}


@router.get("/api/docs/{doc_id:path}", tags=["documents"], responses=documented(404))
def api_document(kb: KB, doc_id: str) -> dict:
    """One document: its metadata and its Markdown body."""
    doc = kb.document(doc_id)
    return {**doc.metadata(), "body": doc.body}


@router.get("/files/{digest}/{name}", include_in_schema=False)  # a file, not JSON; a missing one is a 404 page
def original_file(kb: KB, digest: str, name: str) -> FileResponse:
    """The original of an indexed file or a note's attachment (PDFs open in the browser, at
    `#page=N` when the link says so; other types download)."""
    path, media_type = kb.original_file(f"{digest}/{name}")
    inline = media_type == "application/pdf"
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type="inline" if inline
                        else "attachment", headers={"X-Content-Type-Options": "nosniff",
                                                    "Cache-Control": "public, max-age=31536000, immutable"})


@router.get("/api/cities", tags=["cities"], responses=documented())
def api_cities(kb: KB) -> dict:
    """Every city profile, with how many documents each has."""
    return {"cities": [{**entry.city.__dict__, "domains": list(entry.city.domains), "documents": entry.documents}
                       for entry in kb.cities()]}


class PartnerRequest(BaseModel):
    """A twin's challenge and, optionally, its profile."""

    challenge: str = Field(..., description="The challenge in the twin's own words (1 to 2,000 characters).")
    country: str | None = Field(None, max_length=120)
    population: int | None = Field(None, gt=0, le=MAX_POPULATION)
    domains: list[str] = Field(default_factory=list, max_length=20)
    city: str | None = Field(None, max_length=120, description="The twin's own name; never suggested to itself.")
    k: int = Field(5, ge=1, le=50)


@router.post("/api/partners", tags=["partners"], responses=documented(400, 413))
def api_partners(kb: KB, body: PartnerRequest) -> dict:
    """Pilot cities to pair with the twin, each with reasons in words and the practices that are
    its evidence; `weak_match` is true (and no city suggested) when nothing matches well."""
    profile = Profile(body.city, body.country, body.population, tuple(body.domains))
    return kb.suggest_partners(body.challenge, profile, k=body.k).to_json()
