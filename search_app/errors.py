"""The one place where the core's refusals become HTTP: a kind of error, a status code."""

from __future__ import annotations

from kb.errors import KBError

STATUS = {"invalid": 422, "not_found": 404, "forbidden": 403, "unauthenticated": 401, "conflict": 409,
          "rate_limited": 429}


def status_of(error: KBError) -> int:
    return STATUS[error.kind]


def detail_of(error: KBError) -> str | list[str]:
    """The message, or the list of every problem when there were several (a form's fields)."""
    return error.errors if error.errors != [str(error)] else str(error)


def headers_of(error: KBError) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if error.kind == "unauthenticated" else None
