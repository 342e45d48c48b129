"""The JSON API: the same shapes as the CLI's --json output."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kb.partners import Profile, suggest
from kb.search import SearchError, search
from kb.similarity import UnknownDocument, similar
from search_app.deps import KB
from search_app.offload import embed_ahead

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz(kb: KB) -> dict:
    """Liveness and what is being served."""
    counts = kb.store.counts()
    return {"status": "ok", "documents": counts["documents"], "passages": counts["chunks"],
            "index": kb.refresh_index().status, "model": kb.embedder.model_id,
            "query_runtime": kb.embedder.query_runtime}


@router.get("/api/search", tags=["search"])
async def api_search(
    kb: KB,
    q: str = Query(..., description="The challenge, in your own words (1 to 1,000 characters)."),
    k: int = Query(10, description="How many documents, 1 to 100."),
    mode: str = Query("hybrid", description="hybrid, dense or keyword."),
    domain: str | None = None, lever: str | None = None, kind: str | None = None,
    country: str | None = None, city: str | None = None, language: str | None = None,
) -> dict:
    """Documents that answer `q`, each with its best passage; filters are exact."""
    filters = {"domain": domain, "lever": lever, "kind": kind, "country": country, "city": city, "language": language}
    await embed_ahead(kb, q, mode)
    try:
        results = search(kb, q, k=k, mode=mode, filters=filters)
    except SearchError as exc:
        raise HTTPException(422, str(exc)) from exc
    # Returned as a response, so FastAPI does not walk the results again to encode them.
    return JSONResponse({"query": q, "mode": mode, "results": [r.to_json() for r in results]})


@router.get("/api/docs/{doc_id:path}/similar", tags=["documents"])
async def api_similar(kb: KB, doc_id: str, k: int = 10) -> dict:
    """Practices most like this document."""
    try:
        results = similar(kb, doc_id, k=k)
    except UnknownDocument as exc:
        raise HTTPException(404, f"no document has the id {doc_id!r}") from exc
    except SearchError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"doc_id": doc_id, "results": [r.to_json() for r in results]}


@router.get("/api/docs/{doc_id:path}", tags=["documents"])
async def api_document(kb: KB, doc_id: str) -> dict:
    """One document: its metadata and its Markdown body."""
    doc = kb.store.get_document(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document has the id {doc_id!r}")
    return {**doc.metadata(), "body": doc.body}


@router.get("/api/cities", tags=["cities"])
async def api_cities(kb: KB) -> dict:
    """Every city profile, with how many documents each has."""
    counts = kb.store.city_document_counts()
    return {"cities": [{**c.__dict__, "domains": list(c.domains), "documents": counts.get(c.city, 0)}
                       for c in kb.store.cities()]}


class PartnerRequest(BaseModel):
    """A twin's challenge and, optionally, its profile."""

    challenge: str = Field(..., description="The challenge in the twin's own words (1 to 2,000 characters).")
    country: str | None = Field(None, max_length=120)
    population: int | None = Field(None, gt=0)
    domains: list[str] = Field(default_factory=list)
    city: str | None = Field(None, max_length=120, description="The twin's own name; never suggested to itself.")
    k: int = 5


@router.post("/api/partners", tags=["partners"])
async def api_partners(kb: KB, body: PartnerRequest) -> dict:
    """Pilot cities to pair with the twin, each with reasons in words and evidence documents."""
    profile = Profile(body.city, body.country, body.population, tuple(body.domains))
    try:
        suggestions = suggest(kb, body.challenge, profile, k=body.k)
    except SearchError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"challenge": body.challenge, "suggestions": [s.to_json() for s in suggestions]}
