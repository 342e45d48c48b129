"""The core's refusals. Each carries a `kind` that says what went wrong in words a caller can
act on; the web app alone turns kinds into HTTP status codes, the CLI into one-line errors."""

from __future__ import annotations


class KBError(Exception):
    """A refused request. `errors` lists every problem found (for forms: 'field: message')."""

    kind = "invalid"

    def __init__(self, message: str, errors: list[str] | None = None, data: dict | None = None):
        super().__init__(message)
        self.message = message  # as raised: a kb.messages.Message keeps what a page translates
        self.errors = errors or [message]
        self.data = data or {}  # what a caller needs to act on it (a conflict's two texts)


class Invalid(KBError):
    """The caller's input is unusable; the message says what to change."""

    kind = "invalid"


class NotFound(KBError):
    kind = "not_found"


class Forbidden(KBError):
    """The caller is known but may not do this."""

    kind = "forbidden"


class Unauthenticated(KBError):
    """The caller must prove who they are first."""

    kind = "unauthenticated"


class Conflict(KBError):
    kind = "conflict"


class StaleEdit(Conflict):
    """An edit made from an older version than the current one. Its data carries what the
    caller needs to merge: the `version` now, the text saved (`current`) and its own (`yours`)."""

    def __init__(self, message: str, version: int, current: dict, yours: dict):
        super().__init__(message, data={"version": version, "current": current, "yours": yours})


class RateLimited(KBError):
    kind = "rate_limited"


class Busy(KBError):
    """The store is held by another writer; the same request may succeed in a moment."""

    kind = "busy"


class Unavailable(Busy):
    """The store cannot be reached just now (its database server restarts); the same request
    may succeed in a moment."""


KINDS_OF_ERROR = tuple(c.kind for c in (Invalid, NotFound, Forbidden, Unauthenticated, Conflict, RateLimited, Busy))
