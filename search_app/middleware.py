"""ASGI middleware: sessions and security headers, keep-alive connections recycled, and
unexpected errors answered."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.accounts import Accounts
from search_app import i18n
from search_app.auth import Sessions, session_user
from search_app.render import render_error

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SessionAndHeaders:
    """Loads the session and the user before each request and chooses its language; after it,
    saves the session and adds the security headers. Plain ASGI: Starlette's BaseHTTPMiddleware would cost a task
    and a stream per request, on every search."""

    def __init__(self, app: ASGIApp, sessions: Sessions, accounts: Accounts):
        self.app, self.sessions, self.accounts = app, sessions, accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # its state lives in the scope, shared with the route's request
        request.state.session = self.sessions.load(request)
        request.state.user = user = session_user(request, self.accounts)
        api = scope["path"].startswith("/api/") or scope["path"] == "/healthz"
        i18n.use(i18n.choose(getattr(user, "language", None), request.cookies.get(i18n.COOKIE),
                             request.headers.get("accept-language"), api=api))
        language = i18n.current()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = Response()
                self.sessions.save(request, cookie)
                for name, value in cookie.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Language", language)
                headers.add_vary_header("Accept-Language")
                headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RecycleConnections:
    """Close each keep-alive connection after RESPONSES responses, as nginx's keepalive_requests
    does. Worker processes share one listening socket, and at start-up one of them may accept
    most of the clients' long-lived connections and stay overloaded while another idles; when a
    client reconnects, the worker that is free at that moment accepts it, so load evens out."""

    RESPONSES = 16
    _TRACKED = 10_000  # connections counted at once; forgotten all together beyond that

    def __init__(self, app: ASGIApp):
        self.app = app
        self.served: dict[tuple, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("client"):
            await self.app(scope, receive, send)
            return
        connection = tuple(scope["client"])
        if len(self.served) >= self._TRACKED:
            self.served.clear()
        served = self.served[connection] = self.served.get(connection, 0) + 1

        async def send_and_recycle(message: Message) -> None:
            if message["type"] == "http.response.start" and served >= self.RESPONSES:
                MutableHeaders(scope=message)["connection"] = "close"
                self.served.pop(connection, None)
            await send(message)

        await self.app(scope, receive, send_and_recycle)


class AnswerErrors:
    """An unexpected exception becomes a 500 answer, logged once with its traceback; the
    connection stays open. (Starlette's own handler of last resort re-raises after answering,
    so the server logs the traceback again and drops the connection.)"""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if started:
                raise  # too late to answer: the server closes the connection
            request = Request(scope)
            if scope["path"].startswith("/api/") or scope["path"] == "/healthz":
                response = JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
            else:
                message = i18n.gettext("Something went wrong on our side; it has been logged.")
                response = render_error(request, 500, message)
            await response(scope, receive, send)
