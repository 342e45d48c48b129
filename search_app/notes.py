"""Login, and the case-note write path: forms for people, JSON for programs. Each route parses,
makes one call into the knowledge base, and renders."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import RedirectResponse

from kb.accounts import MAX_USERNAME
from kb.errors import KBError
from kb.notes import NOTE_FIELDS, NoteForm
from kb.vocab import DOMAINS, LEVERS
from search_app.auth import check_csrf, csrf_token, log_in, log_out
from search_app.deps import KB, Writer
from search_app.errors import STATUS, WRITE, documented, retry_after, status_of
from search_app.guards import StrictRoute
from search_app.render import render

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused
pages = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _note_payload(request: Request) -> dict:
    """A submitted note form (CSRF-checked) as the note's JSON fields."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    payload = {name: form.get(name, "") for name in NOTE_FIELDS if name not in ("domains", "levers")}
    payload["domains"] = form.getlist("domains")
    payload["levers"] = form.getlist("levers")
    if form.get("city"):
        payload["city"] = form.get("city")
    return payload


def _csrf_form_field(request: Request, csrf_token_: str = Form("", alias="csrf_token")) -> None:
    check_csrf(request, csrf_token_)


NotePayload = Annotated[dict, Depends(_note_payload)]
CheckedForm = Annotated[None, Depends(_csrf_form_field)]


# -- login ------------------------------------------------------------------------------------

@pages.get("/login")
def login_form(request: Request, next: str = "/notes/new"):
    return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next), "error": None})


@pages.post("/login")
def login(request: Request, kb: KB, _: CheckedForm, username: str = Form(""), password: str = Form(""),
          next: str = Form("/notes/new")):
    try:
        user = kb.accounts.login(username, password, request.client.host if request.client else "")
    except KBError as exc:
        return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next),
                                              "error": str(exc), "username": username[:MAX_USERNAME]},
                      status_code=status_of(exc), headers=retry_after(exc))
    log_in(request, kb.accounts, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@pages.post("/logout")
def logout(request: Request, kb: KB, _: CheckedForm):
    log_out(request, kb.accounts)
    return RedirectResponse("/", status_code=303)


# -- note forms -------------------------------------------------------------------------------

def _render_form(request: Request, action: str, form: NoteForm):
    status = STATUS[form.refusal] if form.refusal else 200
    return render(request, "note_form.html", {
        "action": action, "values": form.values, "errors": form.errors, "csrf": csrf_token(request),
        "domains": DOMAINS, "levers": LEVERS, "pilots": form.pilots, "user": request.state.user,
    }, status_code=status)


def _need_login(request: Request):
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@pages.get("/notes/new")
def new_note_form(request: Request, kb: KB):
    if request.state.user is None:
        return _need_login(request)
    return _render_form(request, "/notes/new", kb.notes.form(request.state.user))


@pages.post("/notes/new")
def new_note(request: Request, kb: KB, payload: NotePayload):
    form = kb.notes.submit(request.state.user, payload)
    if form.note is None:
        return _render_form(request, "/notes/new", form)
    return RedirectResponse(f"/doc/{form.note.id}", status_code=303)


@pages.get("/notes/{note_id}/edit")
def edit_note_form(request: Request, kb: KB, note_id: str):
    if request.state.user is None:
        return _need_login(request)
    return _render_form(request, f"/notes/{note_id}/edit", kb.notes.form(request.state.user, note_id))


@pages.post("/notes/{note_id}/edit")
def edit_note(request: Request, kb: KB, note_id: str, payload: NotePayload):
    form = kb.notes.submit(request.state.user, payload, note_id)
    if form.note is None:
        return _render_form(request, f"/notes/{note_id}/edit", form)
    return RedirectResponse(f"/doc/{note_id}", status_code=303)


@pages.post("/notes/{note_id}/delete")
def delete_note(request: Request, kb: KB, note_id: str, _: CheckedForm):
    note = kb.notes.delete(request.state.user, note_id)
    return RedirectResponse(f"/cities/{quote(note.city)}", status_code=303)


@pages.post("/notes/{note_id}/restore")
def restore_note(request: Request, kb: KB, note_id: str, _: CheckedForm):
    kb.notes.restore(request.state.user, note_id)
    return RedirectResponse(f"/doc/{note_id}", status_code=303)


# -- pairings (the matching team) -------------------------------------------------------------

@pages.post("/explorer/pairings")
def add_pairing(request: Request, kb: KB, _: CheckedForm, twin: str = Form(""), pilot: str = Form("")):
    kb.pairings.add(request.state.user, twin, pilot)
    return RedirectResponse("/explorer#twins", status_code=303)


# -- JSON API ---------------------------------------------------------------------------------

NOTE_EXAMPLE = {"title": "Heat pumps in school buildings", "challenge": "...", "what_was_done": "...",
                "results": "...", "transferability": "...", "domains": ["energy"], "levers": ["technology"],
                "language": "en"}
NoteBody = Annotated[dict, Body(..., examples=[NOTE_EXAMPLE])]


@router.post("/api/notes", status_code=201, tags=["notes"], responses=documented(*WRITE))
def api_create_note(kb: KB, user: Writer, payload: NoteBody) -> dict:
    """Publish a case note for your city (a pilot), or for the `city` given (an admin)."""
    return kb.notes.create(user, payload).to_json()


@router.put("/api/notes/{note_id}", tags=["notes"], responses=documented(*WRITE))
def api_update_note(kb: KB, user: Writer, note_id: str, payload: NoteBody) -> dict:
    """Replace a note's fields; the previous version is kept."""
    return kb.notes.update(user, note_id, payload).to_json()


@router.delete("/api/notes/{note_id}", tags=["notes"], responses=documented(*WRITE))
def api_delete_note(kb: KB, user: Writer, note_id: str) -> dict:
    """Delete a note from search; recorded, and reversible by an admin."""
    return kb.notes.delete(user, note_id).to_json()


@router.post("/api/notes/{note_id}/restore", tags=["notes"], responses=documented(*WRITE))
def api_restore_note(kb: KB, user: Writer, note_id: str) -> dict:
    """Undo a delete (admins)."""
    return kb.notes.restore(user, note_id).to_json()


@router.get("/api/notes/{note_id}", tags=["notes"], responses=documented(404))
def api_note(kb: KB, note_id: str) -> dict:
    """A note's fields and its version history."""
    return kb.notes.with_versions(note_id)


router.include_router(pages)
