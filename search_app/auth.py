"""Sessions, CSRF tokens and the current user.

The session is a signed cookie (HttpOnly, SameSite=Lax, Secure when served over HTTPS) holding
the secret of a server-side session (which logout, a reset or disabling the account end) and
the CSRF token that every form and every cookie-authenticated API write must echo. API clients
may instead send `Authorization: Bearer <token>`, which needs no CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kb.accounts import SESSION_S, Accounts, User
from kb.insights import Asker, new_name
from search_app.errors import check_storable
from search_app.i18n import gettext as _

COOKIE = "kb_session"
_UNSET = object()


class Sessions:
    def __init__(self, secret: bytes):
        self.serializer = URLSafeTimedSerializer(secret, salt="kb-session")

    def load(self, request: Request) -> dict:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return {}
        try:
            data = self.serializer.loads(raw, max_age=SESSION_S)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, request: Request, response) -> None:
        session = request.state.session
        if not getattr(request.state, "session_changed", False):
            return
        if not session:
            response.delete_cookie(COOKIE, path="/")
            return
        response.set_cookie(COOKIE, self.serializer.dumps(session), max_age=SESSION_S, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    session = request.state.session
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
        request.state.session_changed = True
    return session["csrf"]


def visit(request: Request) -> str | None:
    """A logged-in browser session's random visit name, created on first use: the search log
    counts a practice kept after a search by it, and it is stored nowhere beside the account."""
    if request.state.user is None or request.headers.get("Authorization"):
        return None
    session = request.state.session
    if "visit" not in session:
        session["visit"] = new_name()
        request.state.session_changed = True
    return session["visit"]


def asker(request: Request, source: str) -> Asker:
    """Who asks a search, as far as the search log may know: the role, and from a page the
    session's visit name and the search it refines (X-KB-Refines, sent by static/app.js). A
    public search with a token that is no longer valid is still answered, as anonymous."""
    try:
        user = bearer_user(request) or request.state.user
    except HTTPException:
        user = None
    refines = request.headers.get("X-KB-Refines", "")[:64] if source == "page" else ""
    return Asker(user.role if user else "anonymous", source, visit(request) if source == "page" else None,
                 refines or None)


def check_csrf(request: Request, token: str | None) -> None:
    expected = request.state.session.get("csrf")
    if not expected or not token or not secrets.compare_digest(expected, token):
        raise HTTPException(403, _("the form has expired or did not come from this site; reload the page and try again"))


def check_form(request: Request, form) -> None:
    """A submitted form: its CSRF token, and no field with text a store cannot hold (422 naming it)."""
    check_csrf(request, form.get("csrf_token"))
    check_storable((("form", name), value) for name, value in form.multi_items() if isinstance(value, str))


async def _checked_form(request: Request, csrf_token_: str = Form("", alias="csrf_token")) -> None:
    check_form(request, await request.form())  # parsed once, for the route too


CheckedForm = Annotated[None, Depends(_checked_form)]  # a form route's parameter: its CSRF token checked


def login_first(request: Request) -> RedirectResponse:
    """To the login page, and back to this page once logged in."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def log_in(request: Request, accounts: Accounts, user: User) -> None:
    """A new session (and CSRF token) for `user`: never the one the browser came with."""
    request.state.session.clear()
    request.state.session["sid"] = accounts.start_session(user)
    request.state.session["csrf"] = secrets.token_urlsafe(24)
    request.state.session_changed = True
    request.state.user = user


def log_out(request: Request, accounts: Accounts) -> None:
    sid = request.state.session.get("sid")
    if isinstance(sid, str):
        accounts.end_session(sid)
    request.state.session.clear()
    request.state.session_changed = True
    request.state.user = None


def session_user(request: Request, accounts: Accounts) -> User | None:
    sid = request.state.session.get("sid")
    return accounts.session(sid) if isinstance(sid, str) else None


def bearer_user(request: Request) -> User | None:
    """The user of the request's `Authorization: Bearer` token; None without one; 401 for a bad one."""
    cached = getattr(request.state, "bearer_user", _UNSET)
    if cached is not _UNSET:
        return cached
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        user = None
    else:
        user = request.app.state.kb.accounts.by_token(header[7:].strip())
        if user is None:
            raise HTTPException(401, _("the API token is not valid; ask an admin for a new one (kb users reset)"),
                                headers={"WWW-Authenticate": "Bearer"})
    request.state.bearer_user = user
    return user


def api_reader(request: Request) -> User:
    """The user behind an API read of private data: a bearer token, or a session cookie."""
    user = bearer_user(request) or request.state.user
    if user is None:
        raise HTTPException(401, _("send Authorization: Bearer <token>, or log in first"),
                            headers={"WWW-Authenticate": "Bearer"})
    return user


def api_writer(request: Request) -> User:
    """The user behind an API write: a bearer token, or a session cookie plus X-CSRF-Token."""
    user = bearer_user(request)
    if user is not None:
        return user
    user = api_reader(request)
    check_csrf(request, request.headers.get("X-CSRF-Token"))
    return user
