"""The one place where the core's refusals become HTTP: a kind of error, a status code, and
the shape every error answer of the API has (documented in the OpenAPI document)."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict

from kb.documents import unstorable
from kb.errors import KBError
from search_app.i18n import translated

STATUS = {"invalid": 422, "not_found": 404, "forbidden": 403, "unauthenticated": 401, "conflict": 409,
          "rate_limited": 429, "busy": 503}


def status_of(error: KBError) -> int:
    return STATUS[error.kind]


def detail_of(error: KBError) -> str | list[str]:
    """The message, or the list of every problem when there were several (a form's fields), in the
    request's language: English unless Accept-Language asks for another (search_app/i18n.py)."""
    if error.errors != [str(error)]:
        return [translated(e) for e in error.errors]
    return translated(error.args[0] if error.args else str(error))


def headers_of(error: KBError) -> dict[str, str] | None:
    if error.kind == "unauthenticated":
        return {"WWW-Authenticate": "Bearer"}
    return retry_after(error)


def retry_after(error: KBError) -> dict[str, str] | None:
    """When to try again, for refusals that pass (a busy store, a login backoff)."""
    seconds = error.data.get("retry_after")
    return {"Retry-After": str(seconds)} if seconds else None


class Problem(BaseModel):
    """One thing wrong with a request: where (`loc`), what (`msg`), and its kind (`type`)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: `detail` says what to change, as a sentence, a list of sentences
    (a form's fields), or a list of problems (parameters and JSON fields). Some refusals add
    what a caller needs to act (a conflict's `version`, `current` and `yours`; `retry_after`)."""

    model_config = ConfigDict(extra="allow")
    detail: str | list[str] | list[Problem]


_MEANING = {400: "The body is not JSON (or not a form) at all.", 401: "No valid token or session.",
            403: "This account may not do this.", 404: "No such document, note, city or plan.",
            409: "The thing changed since you read it, or can no longer change.",
            413: "The request body is larger than the server takes.",
            422: "A parameter or field is missing, unknown or out of range; `detail` names it.",
            503: "The store is busy with another write; try again after `Retry-After` seconds."}
PRIVATE_READ, WRITE = (401, 403, 404), (400, 401, 403, 404, 409, 413, 503)


def documented(*codes: int) -> dict:
    """The `responses` of an API route that may answer with these errors (and 422, as all do)."""
    return {code: {"model": ErrorBody, "description": _MEANING[code]} for code in sorted({*codes, 422})}


def check_storable(texts) -> None:
    """422 naming each (location, text) no store can hold (kb/documents/words.py `unstorable`)."""
    bad = [{"loc": loc, "msg": why, "type": "string_type"} for loc, text in texts if (why := unstorable(text))]
    if bad:
        raise RequestValidationError(bad)
