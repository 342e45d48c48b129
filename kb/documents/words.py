"""The words of a text as the knowledge base counts them: lower-cased, letters only. The store's
vocabulary (spelling suggestions, the words a query shares with the documents) is made of these.
Names compared without case or accents (`fold`). And the text it cannot hold at all."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # letters only


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, letters only."""
    return _WORD.findall(text.lower())


def fold(text: str) -> str:
    """Lower case without accents: "Kozáni" and "kozani", "énergie" and "ENERGIE" compare equal."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def unstorable(text: str) -> str | None:
    """Why no store can hold `text`, or None: a NUL character (PostgreSQL refuses it, SQLite would
    keep it) or an unpaired surrogate (no encoding holds it). The web app's edge and both stores
    ask this one question, so they answer alike."""
    if "\x00" in text:
        return "text with a NUL character cannot be kept"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text with an unpaired surrogate is not Unicode and cannot be kept"
    return None
