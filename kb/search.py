"""Search: from a query and exact filters to documents, each with its best passage."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

import numpy as np

from kb.knowledge_base import KnowledgeBase
from kb.vocab import DOMAINS, FILTER_KEYS, KINDS, LEVERS

MODES = ("dense",)
MAX_QUERY = 1000
MAX_K = 100
SNIPPET_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_VOCABULARIES = {"domain": DOMAINS, "lever": LEVERS, "kind": KINDS}


class SearchError(ValueError):
    """The caller's query, k, mode or filters are unusable; the message says what to change."""


@dataclass(frozen=True)
class SearchResult:
    doc_id: str
    title: str
    kind: str
    city: str | None
    country: str | None
    domains: list[str]
    score: float
    snippet: str
    section: str | None = None
    language: str = "en"
    sample: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def clean_query(query: str) -> str:
    """The query as searched: control characters dropped, whitespace collapsed, length checked."""
    if not isinstance(query, str):
        raise SearchError("the query must be text")
    query = unicodedata.normalize("NFC", _CONTROL.sub(" ", query))
    query = " ".join(query.split())
    if not query:
        raise SearchError("the query is empty: type a few words describing your challenge")
    if len(query) > MAX_QUERY:
        raise SearchError(f"the query is {len(query)} characters long; shorten it to at most {MAX_QUERY}")
    return query


def check_filters(filters: dict[str, str] | None) -> dict[str, str]:
    """Exact filters with known keys and, for controlled vocabularies, known values."""
    checked: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise SearchError(f"unknown filter {key!r}; use one of {', '.join(FILTER_KEYS)}")
        if value is None or not str(value).strip():
            continue
        value = str(value).strip()
        if key in _VOCABULARIES and value not in _VOCABULARIES[key]:
            raise SearchError(f"unknown {key} {value!r}; use one of {', '.join(_VOCABULARIES[key])}")
        checked[key] = value
    return checked


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise SearchError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return k


_MARKUP = re.compile(r"(\*\*|__|`|^#+\s|^\s*[-*+]\s|^\s*\d+\.\s)", re.M)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage as plain text, cut at a word boundary."""
    text = " ".join(_MARKUP.sub(" ", text).split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " …"


def search(
    kb: KnowledgeBase, query: str, *, k: int = 10, mode: str = "dense", filters: dict[str, str] | None = None
) -> list[SearchResult]:
    """The k best documents for `query`, ranked by their best passage. With filters, the true
    top-k of the matching documents (not what is left of an unfiltered top-k)."""
    query, k, filters = clean_query(query), check_k(k), check_filters(filters)
    if mode not in MODES:
        raise SearchError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    allowed = kb.store.chunk_ids_matching(filters) if filters else None
    hits = _dense_passages(kb, query, k, allowed)
    return _documents(kb, hits, k)


def _dense_passages(kb: KnowledgeBase, query: str, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    index = kb.index
    total = index.count() if allowed is None else len(allowed)
    if total == 0:
        return []
    vector = kb.embedder.embed_query(query)
    n = min(total, k * 8)
    while True:
        scores, ids = index.search(vector, n, allowed)
        if n >= total or len(_distinct_docs(kb, ids)) >= k:
            return list(zip(ids.tolist(), scores.tolist()))
        n = min(total, n * 4)


def _distinct_docs(kb: KnowledgeBase, chunk_ids: np.ndarray) -> set[str]:
    return {row["doc_id"] for row in kb.store.chunks(chunk_ids).values()}


def _documents(kb: KnowledgeBase, hits: list[tuple[int, float]], k: int) -> list[SearchResult]:
    rows = kb.store.chunks(cid for cid, _ in hits)
    best: dict[str, tuple[int, float]] = {}
    for cid, score in hits:
        doc_id = rows[cid]["doc_id"]
        if doc_id not in best or score > best[doc_id][1]:
            best[doc_id] = (cid, score)
    ranked = sorted(best.items(), key=lambda item: -item[1][1])[:k]
    docs = kb.store.documents(doc_id for doc_id, _ in ranked)
    results = []
    for doc_id, (cid, score) in ranked:
        doc, row = docs[doc_id], rows[cid]
        results.append(SearchResult(
            doc_id=doc_id, title=doc.title, kind=doc.kind, city=doc.city, country=doc.country,
            domains=list(doc.domains), score=round(float(score), 4), snippet=snippet(row["text"]),
            section=row["section"], language=doc.language, sample=doc.sample,
        ))
    return results
