"""The words of a text as the knowledge base counts them: lower-cased, letters only. The store's
vocabulary (spelling suggestions, the words a query shares with the documents) is made of these."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # letters only


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, letters only."""
    return _WORD.findall(text.lower())
