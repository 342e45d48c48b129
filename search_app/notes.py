"""Login, and the case-note write path: forms for people, JSON for programs. Each route parses,
makes one call into the knowledge base, and renders."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Form, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from kb.accounts import MAX_USERNAME
from kb.documents import DOMAINS, LEVERS, MODULES, NAMES, markdown_html
from kb.errors import KBError
from kb.notes import MAX_INDICATORS, MAX_UPLOADS, NOTE_FIELDS, TEXTS, NoteForm
from search_app.auth import CheckedForm, check_form, csrf_token, log_in, log_out, login_first
from search_app.deps import KB, Writer
from search_app.errors import STATUS, WRITE, documented, retry_after, status_of
from search_app.guards import StrictRoute
from search_app.i18n import gettext as _
from search_app.i18n import translated
from search_app.render import render

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused
pages = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """A page of this site to go to after logging in; "" (none asked) leaves it to the role's home."""
    return target if not target or target.startswith("/") and not target.startswith("//") else "/"


async def _note_payload(request: Request) -> dict:
    """A submitted note form (CSRF-checked) as the note's JSON fields, and its uploaded files
    under "uploads" as (name, content), at most MAX_UPLOADS of them."""
    form = await request.form(max_files=MAX_UPLOADS)
    check_form(request, form)
    lists = ("domains", "levers", "twins", "attachments", "indicators")
    payload = {name: form.get(name, "") for name in NOTE_FIELDS if name not in lists}
    payload |= {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in lists[:4]}
    # (the body as a whole is bounded by GuardRequests: MAX_UPLOADS files of KB_MAX_FILE_MB)
    payload["uploads"] = []
    for upload in form.getlist("upload"):
        if isinstance(upload, UploadFile):
            if upload.filename:
                payload["uploads"].append((upload.filename, await upload.read()))
            await upload.close()
    rows = zip(*(form.getlist(f"indicator_{part}") for part in ("name", "value", "unit", "year")))
    payload["indicators"] = [dict(zip(("name", "value", "unit", "year"), row)) for row in rows]
    for name in ("city", "version"):
        if form.get(name):
            payload[name] = form.get(name)
    return payload


NotePayload = Annotated[dict, Depends(_note_payload)]


# -- login ------------------------------------------------------------------------------------

@pages.get("/login")
def login_form(request: Request, next: str = ""):
    return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next), "error": None})


@pages.post("/login")
def login(request: Request, kb: KB, _: CheckedForm, username: str = Form(""), password: str = Form(""),
          next: str = Form("")):
    try:
        user = kb.accounts.login(username, password, request.client.host if request.client else "")
    except KBError as exc:
        return render(request, "login.html", {"csrf": csrf_token(request), "next": _safe_next(next),
                                              "error": str(exc), "username": username[:MAX_USERNAME]},
                      status_code=status_of(exc), headers=retry_after(exc))
    log_in(request, kb.accounts, user)
    return RedirectResponse(_safe_next(next) or home_of(user), status_code=303)


def home_of(user) -> str:
    """Where a person lands after logging in: a twin in its workspace, a pilot on its city's page,
    the matching team in the explorer, an admin on the admin page."""
    if user.role == "twin":
        return "/workspace"
    if user.role == "pilot" and user.city:
        return f"/cities/{quote(user.city)}"
    return "/explorer" if user.role == "matching" else "/admin"


@pages.post("/logout")
def logout(request: Request, kb: KB, _: CheckedForm):
    log_out(request, kb.accounts)
    return RedirectResponse("/", status_code=303)


# -- note forms -------------------------------------------------------------------------------

def _field_errors(errors: list[str]) -> dict[str, list[str]]:
    """Each 'field: message' under its field, so the form shows it next to the field."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        field, _, message = error.partition(": ")
        if not message or field not in (*NOTE_FIELDS, "city", "version"):
            field, message = "", error  # shown in the summary only
        by_field.setdefault(field, []).append(message)
    return by_field


def _render_form(request: Request, action: str, form: NoteForm):
    status = STATUS[form.refusal] if form.refusal else 200
    values = form.values
    attachments = [a if isinstance(a, dict) else {"file": a, "name": a.split("/", 1)[-1]}
                   for a in values.get("attachments") or []]
    errors = [translated(e) for e in form.errors]
    rows = list(values.get("indicators") or [])
    rows += [{}] * max(0, min(MAX_INDICATORS, len(rows) + 2) - len(rows))  # room for two more
    return render(request, "note_form.html", {
        "action": action, "values": values, "errors": errors, "field_errors": _field_errors(errors),
        "csrf": csrf_token(request), "domains": DOMAINS, "levers": LEVERS, "modules": MODULES,
        "texts": [(name, _(heading)) for name, heading in TEXTS],
        "languages": sorted(((c, n) for c, n in NAMES.items() if c != "nb"), key=lambda item: item[1]),
        "indicator_rows": rows,
        "pilots": form.pilots, "twins": form.twins, "user": request.state.user, "current": form.current,
        "version": form.current.version if form.current else values.get("version"),
        "attachments": attachments, "max_uploads": MAX_UPLOADS,
        "max_file_mb": request.app.state.kb.settings.max_file_mb,
    }, status_code=status)


@pages.get("/notes/new")
def new_note_form(request: Request, kb: KB, challenge: str = ""):
    """The form for a new note; `challenge` begins it (the matching team's request for a note
    on a knowledge gap links here with it)."""
    if request.state.user is None:
        return login_first(request)
    return _render_form(request, "/notes/new", kb.notes.form(request.state.user, challenge=challenge))


@pages.post("/notes/new")
def new_note(request: Request, kb: KB, payload: NotePayload):
    form = kb.notes.submit(request.state.user, payload, uploads=payload.pop("uploads"))
    if form.note is None:
        return _render_form(request, "/notes/new", form)
    return RedirectResponse(f"/doc/{form.note.id}", status_code=303)


@pages.get("/notes/{note_id}/edit")
def edit_note_form(request: Request, kb: KB, note_id: str):
    if request.state.user is None:
        return login_first(request)
    return _render_form(request, f"/notes/{note_id}/edit", kb.notes.form(request.state.user, note_id))


@pages.post("/notes/{note_id}/edit")
def edit_note(request: Request, kb: KB, note_id: str, payload: NotePayload):
    form = kb.notes.submit(request.state.user, payload, note_id, payload.pop("uploads"))
    if form.note is None:
        return _render_form(request, f"/notes/{note_id}/edit", form)
    return RedirectResponse(f"/doc/{note_id}", status_code=303)


@pages.post("/notes/preview")
def preview_note(request: Request, kb: KB, payload: NotePayload):
    """The note as it will read, for the form's Preview button (htmx)."""
    payload.pop("uploads")  # files show once published
    return HTMLResponse(markdown_html(kb.notes.preview(payload)) or "<p>%s</p>" % _("Nothing written yet."))


@pages.get("/notes/{note_id}/history")
def note_history(request: Request, kb: KB, note_id: str, a: int | None = None, b: int | None = None):
    page = kb.notes.history_page(note_id, request.state.user, a, b)
    return render(request, "note_history.html", {"page": page, "csrf": csrf_token(request)})


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
                "results": "...", "costs": "...", "partners": "...", "transferability": "...",
                "contact": "Energy officer, city environment department",
                "indicators": [{"name": "CO2 avoided", "value": 120, "unit": "t/year", "year": 2024}],
                "start": "2023-09", "end": "2025", "module": "co-creation", "twins": [],
                "domains": ["energy"], "levers": ["technology"], "language": "en", "version": 1}
NoteBody = Annotated[dict, Body(..., examples=[NOTE_EXAMPLE])]


@router.post("/api/notes", status_code=201, tags=["notes"], responses=documented(*WRITE))
def api_create_note(kb: KB, user: Writer, payload: NoteBody) -> dict:
    """Publish a case note for your city (a pilot), or for the `city` given (an admin)."""
    return kb.notes.create(user, payload).to_json()


@router.put("/api/notes/{note_id}", tags=["notes"], responses=documented(*WRITE))
def api_update_note(kb: KB, user: Writer, note_id: str, payload: NoteBody, response: Response,
                    if_match: str | None = Header(None, description="The version the edit started from, "
                                                  "as the note's ETag gave it (or send \"version\" in the body).")
                    ) -> dict:
    """Replace a note's fields; the previous version is kept. An edit from an older version than
    the current one is refused with 409, carrying `current` and `yours`."""
    note = kb.notes.update(user, note_id, payload, if_match)
    response.headers["ETag"] = f'"{note.version}"'
    return note.to_json()


@router.delete("/api/notes/{note_id}", tags=["notes"], responses=documented(*WRITE))
def api_delete_note(kb: KB, user: Writer, note_id: str) -> dict:
    """Delete a note from search; recorded, and reversible by an admin."""
    return kb.notes.delete(user, note_id).to_json()


@router.post("/api/notes/{note_id}/restore", tags=["notes"], responses=documented(*WRITE))
def api_restore_note(kb: KB, user: Writer, note_id: str) -> dict:
    """Undo a delete (admins)."""
    return kb.notes.restore(user, note_id).to_json()


@router.get("/api/notes/{note_id}", tags=["notes"], responses=documented(404))
def api_note(kb: KB, note_id: str, response: Response) -> dict:
    """A note's fields and its version history; the ETag is the version to send back in If-Match."""
    note = kb.notes.with_versions(note_id)
    response.headers["ETag"] = f'"{note["version"]}"'
    return note


router.include_router(pages)
