"""Login, and the case-note write path: forms for people, JSON for programs."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from kb.accounts import AccountError, Accounts
from kb.notes import FIELDS, NoteError, Notes
from kb.vocab import DOMAINS, LEVERS
from search_app.auth import api_writer, check_csrf, csrf_token, log_in, log_out
from search_app.deps import KB
from search_app.render import render

router = APIRouter()
pages = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


# -- login ------------------------------------------------------------------------------------

@pages.get("/login")
async def login_form(request: Request, next: str = "/notes/new"):
    return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next), "error": None})


@pages.post("/login")
async def login(request: Request, kb: KB, username: str = Form(""), password: str = Form(""),
                csrf_token_: str = Form("", alias="csrf_token"), next: str = Form("/notes/new")):
    check_csrf(request, csrf_token_)
    try:
        user = Accounts(kb.store).login(username.strip(), password)
    except AccountError as exc:
        status = 429 if "too many" in str(exc) else 401
        return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next),
                                              "error": str(exc), "username": username}, status_code=status)
    log_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@pages.post("/logout")
async def logout(request: Request, csrf_token_: str = Form("", alias="csrf_token")):
    check_csrf(request, csrf_token_)
    log_out(request)
    return RedirectResponse("/", status_code=303)


# -- note forms -------------------------------------------------------------------------------

def _form_payload(form) -> dict:
    payload = {name: form.get(name, "") for name in FIELDS if name not in ("domains", "levers")}
    payload["domains"] = form.getlist("domains")
    payload["levers"] = form.getlist("levers")
    if form.get("city"):
        payload["city"] = form.get("city")
    return payload


def _note_form(request: Request, kb, action: str, values: dict, errors: list[str], status: int = 200):
    pilots = [c.city for c in kb.store.cities() if c.role == "pilot"]
    return render(request, "note_form.html", {
        "action": action, "values": values, "errors": errors, "csrf": csrf_token(request),
        "domains": DOMAINS, "levers": LEVERS, "pilots": pilots, "user": request.state.user,
    }, status_code=status)


def _need_login(request: Request):
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@pages.get("/notes/new")
async def new_note_form(request: Request, kb: KB):
    if request.state.user is None:
        return _need_login(request)
    return _note_form(request, kb, "/notes/new", {"language": "en", "domains": [], "levers": []}, [])


@pages.post("/notes/new")
async def new_note(request: Request, kb: KB):
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    payload = _form_payload(form)
    try:
        note = Notes(kb).create(request.state.user, payload)
    except NoteError as exc:
        return _note_form(request, kb, "/notes/new", payload, exc.errors, status=exc.status)
    return RedirectResponse(f"/doc/{note.id}", status_code=303)


@pages.get("/notes/{note_id}/edit")
async def edit_note_form(request: Request, kb: KB, note_id: str):
    if request.state.user is None:
        return _need_login(request)
    try:
        note = Notes(kb).get(note_id)
    except NoteError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return _note_form(request, kb, f"/notes/{note_id}/edit", note.to_json(), [])


@pages.post("/notes/{note_id}/edit")
async def edit_note(request: Request, kb: KB, note_id: str):
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    payload = _form_payload(form)
    try:
        Notes(kb).update(request.state.user, note_id, payload)
    except NoteError as exc:
        return _note_form(request, kb, f"/notes/{note_id}/edit", payload, exc.errors, status=exc.status)
    return RedirectResponse(f"/doc/{note_id}", status_code=303)


@pages.post("/notes/{note_id}/delete")
async def delete_note(request: Request, kb: KB, note_id: str, csrf_token_: str = Form("", alias="csrf_token")):
    check_csrf(request, csrf_token_)
    try:
        note = Notes(kb).delete(request.state.user, note_id)
    except NoteError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return RedirectResponse(f"/cities/{quote(note.city)}", status_code=303)


@pages.post("/notes/{note_id}/restore")
async def restore_note(request: Request, kb: KB, note_id: str, csrf_token_: str = Form("", alias="csrf_token")):
    check_csrf(request, csrf_token_)
    try:
        Notes(kb).restore(request.state.user, note_id)
    except NoteError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return RedirectResponse(f"/doc/{note_id}", status_code=303)


# -- JSON API ---------------------------------------------------------------------------------

NOTE_EXAMPLE = {"title": "Heat pumps in school buildings", "challenge": "...", "what_was_done": "...",
                "results": "...", "transferability": "...", "domains": ["energy"], "levers": ["technology"],
                "language": "en"}


def _api(call):
    try:
        return call()
    except NoteError as exc:
        raise HTTPException(exc.status, exc.errors if exc.status == 422 else str(exc)) from exc


@router.post("/api/notes", status_code=201, tags=["notes"])
async def api_create_note(request: Request, kb: KB, payload: dict = Body(..., examples=[NOTE_EXAMPLE])) -> dict:
    """Publish a case note for your city (a pilot), or for the `city` given (an admin)."""
    user = api_writer(request, Accounts(kb.store))
    return _api(lambda: Notes(kb).create(user, payload)).to_json()


@router.put("/api/notes/{note_id}", tags=["notes"])
async def api_update_note(request: Request, kb: KB, note_id: str, payload: dict = Body(..., examples=[NOTE_EXAMPLE])) -> dict:
    """Replace a note's fields; the previous version is kept."""
    user = api_writer(request, Accounts(kb.store))
    return _api(lambda: Notes(kb).update(user, note_id, payload)).to_json()


@router.delete("/api/notes/{note_id}", tags=["notes"])
async def api_delete_note(request: Request, kb: KB, note_id: str) -> dict:
    """Delete a note from search; recorded, and reversible by an admin."""
    user = api_writer(request, Accounts(kb.store))
    return _api(lambda: Notes(kb).delete(user, note_id)).to_json()


@router.post("/api/notes/{note_id}/restore", tags=["notes"])
async def api_restore_note(request: Request, kb: KB, note_id: str) -> dict:
    """Undo a delete (admins)."""
    user = api_writer(request, Accounts(kb.store))
    return _api(lambda: Notes(kb).restore(user, note_id)).to_json()


@router.get("/api/notes/{note_id}", tags=["notes"])
async def api_note(kb: KB, note_id: str) -> dict:
    """A note's fields and its version history."""
    notes = Notes(kb)
    note = _api(lambda: notes.get(note_id))
    return {**note.to_json(), "versions": [{k: v for k, v in ver.items() if k != "fields"} for ver in notes.versions(note_id)]}


router.include_router(pages)
