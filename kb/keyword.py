"""Keyword search: SQLite FTS5 BM25 over passages, with queries that can never be FTS syntax."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from kb.stopwords import STOPWORDS
from kb.store import Store, filter_sql

_TERM = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what the dense model reads
    terms: tuple[str, ...]  # every word, for BM25 and highlighting
    phrases: tuple[str, ...]  # "quoted phrases" every result must contain


def parse_query(query: str) -> ParsedQuery:
    phrases = tuple(" ".join(_TERM.findall(p)) for p in _PHRASE.findall(query))
    return ParsedQuery(
        text=query.replace('"', " ").strip(),
        terms=tuple(dict.fromkeys(t.lower() for t in _TERM.findall(query))),
        phrases=tuple(p for p in phrases if p),
    )


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(terms: tuple[str, ...]) -> str | None:
    """FTS5 joins bare words with AND; a loose query wants any of them, ranked by BM25.
    Stop words are left out: they match nearly every passage, which costs time, not quality
    (a query of stop words only keeps them)."""
    useful = [t for t in terms if t not in STOPWORDS] or list(terms)
    return " OR ".join(_quote(t) for t in useful) if useful else None


def phrase_expression(phrases: tuple[str, ...]) -> str | None:
    return " AND ".join(_quote(p) for p in phrases) if phrases else None


def keyword_passages(
    store: Store, expression: str, limit: int, filters: dict[str, str] | None = None,
    within: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """(passage id, score) by BM25, best first; scores are positive, higher is better.
    `filters` and `within` (passage ids) restrict the ranking exactly."""
    if not filters and within is None:
        rows = store.db.execute(
            "SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", [expression, limit]
        )
        return [(r[0], r[1]) for r in rows]
    where, params = filter_sql(filters or {})
    if within is not None:
        where += " AND c.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(within.tolist()))
    rows = store.db.execute(
        f"SELECT chunks_fts.rowid, -chunks_fts.rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
        f"JOIN documents d ON d.id = c.doc_id WHERE chunks_fts MATCH ? AND {where} ORDER BY chunks_fts.rank LIMIT ?",
        [expression, *params, limit],
    )
    return [(r[0], r[1]) for r in rows]


def passages_with_phrases(store: Store, phrases: tuple[str, ...]) -> set[int]:
    expression = phrase_expression(phrases)
    rows = store.db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", [expression])
    return {r[0] for r in rows}
