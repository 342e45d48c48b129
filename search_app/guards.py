"""Guards in front of the routes, so that no request costs more than its sender may ask for.

- Every request body is limited to MAX_BODY bytes, refused by its declared length before a byte
  is read, or as soon as a body sent without one grows past it.
- An API write is authenticated before its body is read: without a valid token or session it
  is refused at once.
- A form that carries files is read only from a logged-in person.
- No request reaches a route with text a store cannot hold: a NUL character in its address, its
  query, a form field or a JSON string, or JSON text that is not Unicode (unpaired surrogates,
  which JSON's escapes can spell), is refused with 422 naming where it is; so is JSON nested too
  deeply to parse.
- An API route refuses query parameters it does not know, with 422 naming them."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_app.auth import bearer_user
from search_app.errors import check_storable
from search_app.i18n import gettext as _
from search_app.i18n import number
from search_app.render import render_error

MAX_BODY = 1_000_000  # bytes: a case note of 50,000 characters in any script is well below
PUBLIC_WRITES = ("/api/partners",)  # API writes anyone may make
UPLOADS = re.compile(r"^/(notes/(new|[^/]+/edit)|pairings/[^/]+/[^/]+/meetings)$")  # forms that carry files


class GuardRequests:
    def __init__(self, app: ASGIApp, upload_body: int = MAX_BODY):
        self.app = app
        self.upload_body = upload_body  # the limit on forms that carry files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"])):
            message = (_("the address holds a NUL character (%00), which no text may hold") if "\x00" in scope["path"]
                       else _("the query holds a NUL character (%00), which no text may hold"))
            await _refuse(scope, receive, send, 422, message)
            return
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        uploads = UPLOADS.match(path) is not None
        if uploads and request.state.user is None:  # nobody's files are read before they log in
            message = (_("Log in with a pilot city's account to publish case notes.") if path.startswith("/notes/")
                       else _("Log in as one of the pairing's cities or the matching team to record its meetings."))
            await _refuse(scope, receive, send, 403, message)
            return
        limit = self.upload_body if uploads else MAX_BODY
        length = request.headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > limit):
            await _refuse(scope, receive, send, 413, _too_large(limit, uploads))
            return
        if path.startswith("/api/") and path not in PUBLIC_WRITES:
            try:
                user = bearer_user(request) or request.state.user
            except HTTPException as exc:
                await _refuse(scope, receive, send, exc.status_code, exc.detail, exc.headers)
                return
            if user is None:
                await _refuse(scope, receive, send, 401, _("send Authorization: Bearer <token>, or log in first"),
                              {"WWW-Authenticate": "Bearer"})
                return
        await self.app(scope, _limited(receive, limit), send)


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive`, refusing a body that grows past `limit` (one sent without a length)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise HTTPException(413, _("the request body is larger than %(limit)s bytes") % {"limit": number(limit)})
        return message

    return limited


def _too_large(limit: int, uploads: bool) -> str:
    if uploads:
        return _("The form with its files is larger than %(mb)s MB. Go back and attach fewer or smaller files; "
                 "the rest of the note is still in the form.") % {"mb": number(round(limit / 1024 / 1024))}
    return _("the request body is larger than %(limit)s bytes") % {"limit": number(limit)}


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                  headers: dict | None = None) -> None:
    # The connection closes after the answer: the unread body is not worth reading. People
    # (forms) get a page that says what to do; programs get JSON.
    headers = {**(headers or {}), "Connection": "close"}
    if scope["path"].startswith("/api/"):
        response = JSONResponse({"detail": detail}, status_code=status, headers=headers)
    else:
        response = render_error(Request(scope), status, detail)
        response.headers.update(headers)
    await response(scope, receive, send)


class StrictRoute(APIRoute):
    """An API route that names what it will not take instead of ignoring it."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def strict(request: Request):
            unknown = [name for name in request.query_params if name not in known]
            if unknown:
                expected = ", ".join(sorted(known)) or _("none")
                raise RequestValidationError([
                    {"loc": ("query", name), "msg": _("unknown parameter; this operation takes: %(names)s")
                     % {"names": expected},
                     "type": "extra_forbidden"} for name in unknown])
            if "json" in request.headers.get("content-type", ""):
                check_storable_json(await request.body())
            return await handler(request)

        return strict


def _query_names(dependant) -> set[str]:
    """The query parameters a route and its dependencies take."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def check_storable_json(body: bytes) -> None:
    """422 for JSON nested too deeply to parse, or whose strings a store cannot hold."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise RequestValidationError([{"loc": ("body",), "msg": _("the JSON is nested too deeply"),
                                       "type": "json_invalid"}]) from None
    except ValueError:
        return  # the route's own parsing says what is wrong with it
    check_storable(_strings(document, ("body",)))


def _strings(value, loc: tuple):
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, loc)
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))
