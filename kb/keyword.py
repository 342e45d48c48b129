"""Keyword queries: what a query's words and "quoted phrases" are, for BM25 and highlighting.
The ranking itself is the store's (SQLite FTS5 BM25, kb/store/sqlite.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.stopwords import STOPWORDS

_TERM = re.compile(r"\w+", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # letters only
_PHRASE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what the dense model reads
    terms: tuple[str, ...]  # every word, for BM25 and highlighting
    phrases: tuple[str, ...]  # "quoted phrases" every result must contain

    @property
    def keyword_terms(self) -> tuple[str, ...]:
        """The words a BM25 ranking looks for. Stop words are left out: they match nearly every
        passage, which costs time, not quality (a query of stop words only keeps them)."""
        return tuple(t for t in self.terms if t not in STOPWORDS) or self.terms


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, letters only: the vocabulary of spelling suggestions."""
    return _WORD.findall(text.lower())


def parse_query(query: str) -> ParsedQuery:
    phrases = tuple(" ".join(_TERM.findall(p)) for p in _PHRASE.findall(query))
    return ParsedQuery(
        text=query.replace('"', " ").strip(),
        terms=tuple(dict.fromkeys(t.lower() for t in _TERM.findall(query))),
        phrases=tuple(p for p in phrases if p),
    )
