"""The people working together: each account's inbox, e-mail digest and interface language, cities taken in from the
admin page, a pairing's meetings, reopening a final plan; pages for people and JSON for
programs, with the same rules (kb/inbox, kb/matching/journal.py, kb/matching/registry.py)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from kb.documents import CITY_ROLES, MODULES
from kb.errors import Invalid
from kb.inbox import FREQUENCIES, KINDS
from kb.matching import MAX_FILES, MEETING_KINDS
from kb.messages import Message
from search_app.auth import CheckedForm, check_form, csrf_token, login_first
from search_app.deps import KB, Reader, Writer
from search_app.errors import PRIVATE_READ, WRITE, documented
from search_app.guards import StrictRoute
from search_app.i18n import COOKIE as LANGUAGE_COOKIE
from search_app.i18n import LOCALES, PSEUDO, translated
from search_app.render import render

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused
pages = APIRouter(include_in_schema=False)


# -- the inbox --------------------------------------------------------------------------------

def _inbox(request: Request, page):
    return render(request, "inbox.html", {"page": page, "kinds": _words(KINDS), "csrf": csrf_token(request)})


def _words(names: dict[str, str]) -> dict[str, str]:
    """The core's names of event or meeting kinds, in this request's language."""
    return {key: translated(name) for key, name in names.items()}


@pages.get("/inbox")
def inbox(request: Request, kb: KB):
    if request.state.user is None:
        return login_first(request)
    return _inbox(request, kb.inbox_page(request.state.user))


@pages.post("/inbox/read")
def mark_read(request: Request, kb: KB, _: CheckedForm, event: int | None = Form(None)):
    kb.mark_read(request.state.user, None if event is None else [event])
    return RedirectResponse("/inbox", status_code=303)


@pages.post("/inbox/open/{event_id}")
def open_event(request: Request, kb: KB, event_id: int, _: CheckedForm):
    """Mark an event read and go where it happened."""
    return RedirectResponse(kb.open_event(request.state.user, event_id), status_code=303)


# -- the interface's language ------------------------------------------------------------------

def _switched(request: Request, lang: str, back: str) -> RedirectResponse:
    if lang not in LOCALES and lang != PSEUDO:
        raise Invalid(f"{lang[:20]!r} is not a language of this interface; choose one of {', '.join(LOCALES)}.")
    back = back if back.startswith("/") and not back.startswith("//") and "\\" not in back else "/"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax",
                        secure=request.url.scheme == "https")
    return response


@pages.get("/language")
def switch_language(request: Request, lang: str = "", back: str = "/"):
    """The switch on every page, for a visitor: the choice kept in a cookie."""
    return _switched(request, lang, back)


@pages.post("/language")
def choose_language(request: Request, kb: KB, _: CheckedForm, lang: str = Form(""), back: str = Form("/")):
    """The switch for a logged-in account: kept with the account too, for its next devices."""
    response = _switched(request, lang, back)
    if request.state.user is not None and lang != PSEUDO:
        kb.accounts.set_language(request.state.user.username, lang)
    return response


# -- the account's digest ---------------------------------------------------------------------

def _account(request: Request, page):
    return render(request, "account.html", {"page": page, "frequencies": FREQUENCIES, "csrf": csrf_token(request)},
                  status_code=422 if page.error else 200)


@pages.get("/account")
def account(request: Request, kb: KB):
    if request.state.user is None:
        return login_first(request)
    return _account(request, kb.account_page(request.state.user))


@pages.post("/account")
def choose_digest(request: Request, kb: KB, _: CheckedForm, email: str = Form(""), frequency: str = Form("none")):
    page = kb.account_page(request.state.user, email[:254], frequency)
    if page.error:
        return _account(request, page)
    return RedirectResponse("/account?saved=1", status_code=303)


# -- the admin page: cities taken in ----------------------------------------------------------

def _admin(request: Request, page, asked: dict | None = None):
    return render(request, "admin.html", {"page": page, "csrf": csrf_token(request), "asked": asked or {},
                                          "roles": CITY_ROLES}, status_code=422 if page.error or page.choices else 200)


@pages.get("/admin")
def admin(request: Request, kb: KB):
    if request.state.user is None:
        return login_first(request)
    return _admin(request, kb.admin_page(request.state.user))


@pages.post("/admin/cities")
def add_city(request: Request, kb: KB, _: CheckedForm, name: str = Form(""), country: str = Form(""),
             role: str = Form("twin"), cohort: str = Form(""), geonameid: str = Form("")):
    asked = {"name": name[:100], "country": country[:100], "role": role, "cohort": cohort[:3]}
    page = kb.admin_page(request.state.user, {"name": name, "country": country, "role": role,
                                              "cohort": _whole(cohort, "cohort"),
                                              "geonameid": _whole(geonameid, "geonameid")})
    if page.city is None:
        return _admin(request, page, asked)
    return RedirectResponse(f"/cities/{quote(page.city.city)}", status_code=303)


def _whole(text: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise Invalid(Message("a whole number", field=name))
    return int(text)


# -- a pairing's meetings ---------------------------------------------------------------------

def _pairing(request: Request, page, asked: dict | None = None):
    return render(request, "pairing.html", {"page": page, "kinds": _words(MEETING_KINDS), "modules": MODULES,
                                            "csrf": csrf_token(request), "asked": asked or {}},
                  status_code=422 if page.error else 200)


@pages.get("/pairings/{twin}/{pilot}")
def pairing_page(request: Request, kb: KB, twin: str, pilot: str):
    return _pairing(request, kb.pairing_page(request.state.user, twin, pilot))


async def _meeting_form(request: Request) -> tuple[dict, list[tuple[str, bytes]]]:
    """A submitted meeting form (CSRF-checked): its fields, and its files as (name, content)."""
    form = await request.form(max_files=MAX_FILES)
    check_form(request, form)
    fields = {name: str(form.get(name, "")) for name in ("kind", "date", "module", "participants", "record")}
    uploads = []
    for upload in form.getlist("upload"):
        if isinstance(upload, UploadFile):
            if upload.filename:
                uploads.append((upload.filename, await upload.read()))
            await upload.close()
    return fields, uploads


@pages.post("/pairings/{twin}/{pilot}/meetings")
def add_meeting(request: Request, kb: KB, twin: str, pilot: str,
                form: Annotated[tuple, Depends(_meeting_form)]):
    fields, uploads = form
    page = kb.pairing_page(request.state.user, twin, pilot, fields, uploads)
    if page.error:
        return _pairing(request, page, fields)
    return RedirectResponse(f"/pairings/{quote(page.twin)}/{quote(page.pilot)}#meeting-{page.added.id}",
                            status_code=303)


# -- reopening a final plan (the matching team) -----------------------------------------------

@pages.post("/plans/{twin}/reopen")
def reopen_plan(request: Request, kb: KB, twin: str, _: CheckedForm):
    kb.workspace.reopen(request.state.user, twin)
    return RedirectResponse(f"/plans/{quote(twin)}", status_code=303)


# -- JSON API ---------------------------------------------------------------------------------

class ReadEvents(BaseModel):
    ids: list[int] | None = Field(None, description="The events to mark read; leave out to mark all read.")


class DigestChoice(BaseModel):
    email: str = Field("", max_length=254, description="Where the digest goes.")
    frequency: Literal["none", "daily", "weekly"]


class NewCity(BaseModel):
    name: str = Field(..., max_length=100)
    country: str = Field(..., max_length=100, description="In English, as GeoNames writes it: Sweden, Czechia.")
    role: Literal["twin", "pilot"]
    cohort: int | None = Field(None, ge=1, le=20)
    geonameid: int | None = Field(None, description="Which place, when the name is several (the 422 lists them).")


class NewMeeting(BaseModel):
    kind: Literal["workshop", "digital", "site-visit"]
    date: str = Field(..., max_length=10, description="YYYY-MM-DD")
    module: Literal["getting-started", "co-creation", "capitalisation"]
    participants: str = Field("", max_length=500, description="Who took part: cities, roles.")
    record: str = Field(..., max_length=5000, description="What came of it, in a few lines.")


def _inbox_json(page) -> dict:
    return {"unread": page.unread, "events": [e.__dict__ for e in page.events]}


@router.get("/api/inbox", tags=["inbox"], responses=documented(*PRIVATE_READ))
def api_inbox(kb: KB, user: Reader) -> dict:
    """Your events, unread first and newest first, with the count of unread ones."""
    return _inbox_json(kb.inbox_page(user))


@router.post("/api/inbox/read", tags=["inbox"], responses=documented(*WRITE))
def api_mark_read(kb: KB, user: Writer, body: ReadEvents) -> dict:
    """Mark events read (all of them when `ids` is left out); the inbox as it is then."""
    return _inbox_json(kb.mark_read(user, body.ids))


@router.get("/api/account/digest", tags=["inbox"], responses=documented(*PRIVATE_READ))
def api_digest(kb: KB, user: Reader) -> dict:
    return kb.digests.choice(user).__dict__


@router.put("/api/account/digest", tags=["inbox"], responses=documented(*WRITE))
def api_choose_digest(kb: KB, user: Writer, body: DigestChoice) -> dict:
    """Choose an e-mail digest of your unread events: none, daily or weekly."""
    return kb.digests.choose(user, body.email, body.frequency).__dict__


@router.get("/api/plans", tags=["workspace"], responses=documented(*PRIVATE_READ))
def api_shared_plans(kb: KB, user: Reader) -> dict:
    """The plans shared with you (a pilot: its paired twins'; the matching team: every twin's)."""
    return {"plans": [{"twin": p.twin, "version": p.version, "final": p.final, "updated_at": p.updated_at}
                      for p in kb.workspace.shared_plans(user)]}


@router.post("/api/plans/{twin}/reopen", tags=["workspace"], responses=documented(*WRITE))
def api_reopen(kb: KB, user: Writer, twin: str) -> dict:
    """Reopen a final plan (matching team, admins): a new version; its document leaves search."""
    plan = kb.workspace.reopen(user, twin)
    return {"twin": plan.twin, "version": plan.version, "final": plan.final}


@router.post("/api/cities", status_code=201, tags=["cities"], responses=documented(*WRITE))
def api_add_city(kb: KB, user: Writer, body: NewCity) -> dict:
    """Take a city in (matching team, admins), placed by GeoNames; 422 with `choices` when the name is several."""
    return kb.registry.add(user, body.name, body.country, body.role, body.cohort, body.geonameid).__dict__


@router.get("/api/pairings/{twin}/{pilot}/meetings", tags=["pairings"], responses=documented(404))
def api_meetings(kb: KB, twin: str, pilot: str) -> dict:
    """The pairing's meetings, newest first."""
    return {"meetings": [m.__dict__ for m in kb.journal.meetings(twin, pilot)]}


@router.post("/api/pairings/{twin}/{pilot}/meetings", status_code=201, tags=["pairings"],
             responses=documented(*WRITE))
def api_add_meeting(kb: KB, user: Writer, twin: str, pilot: str, body: NewMeeting) -> dict:
    """Record a meeting (either city of the pairing, or the matching team); the other side is told."""
    return kb.journal.add(user, twin, pilot, body.model_dump()).__dict__


router.include_router(pages)
