"""Application factory: the knowledge base, security headers, error pages, routes."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.notes import MAX_UPLOADS
from kb.settings import Settings
from search_app import api, insights, notes, pages, people, workspace
from search_app.auth import Sessions
from search_app.errors import detail_of, headers_of, retry_after, status_of
from search_app.guards import MAX_BODY, GuardRequests
from search_app.i18n import N_, gettext, translated
from search_app.middleware import AnswerErrors, RecycleConnections, SessionAndHeaders
from search_app.render import render, render_error

HERE = Path(__file__).parent
NOT_FOUND = N_("There is no page at this address. Check it, or search from the home page.")
REFUSED = N_("This request cannot be answered as it is. Go back and try another way.")


def create_app(kb: KnowledgeBase | None = None) -> FastAPI:
    """The app over `kb`, or over the knowledge base in KB_DATA when none is given."""
    kb = kb or KnowledgeBase.open(Settings.from_env())
    kb.warm_up()
    app = FastAPI(
        title="Twin Cities knowledge base",
        description="Semantic search over pilot cities' climate practices, for twin cities.",
        version="0.1.0",
        docs_url=None,  # served below from our own static files, not a CDN
        redoc_url=None,
    )
    app.state.kb = kb
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(notes.router)
    app.include_router(workspace.router)
    app.include_router(people.router)
    app.include_router(insights.router)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        return render(request, "swagger.html", {})

    app.add_middleware(AnswerErrors)  # innermost: errors of the routes; the session cookie is still set
    # inside the session middleware: it needs the session's user
    app.add_middleware(GuardRequests, upload_body=MAX_BODY + MAX_UPLOADS * kb.settings.max_file_bytes)
    app.add_middleware(SessionAndHeaders, sessions=Sessions(kb.session_secret()), accounts=kb.accounts)
    app.add_middleware(RecycleConnections)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        message = str(exc.detail)
        if message == HTTPStatus(exc.status_code).phrase:  # Starlette's own ("Not Found"): ours, in the reader's words
            message = gettext(NOT_FOUND if exc.status_code == 404 else REFUSED)
        return render_error(request, exc.status_code, message)

    @app.exception_handler(KBError)
    async def refused(request: Request, exc: KBError):
        status = status_of(exc)
        if _wants_json(request):
            return JSONResponse({"detail": detail_of(exc), **exc.data}, status_code=status, headers=headers_of(exc))
        return render_error(request, status, translated(exc.message),
                            headers=retry_after(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=422)
        message = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
        return render_error(request, 422, message)

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"
