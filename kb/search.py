"""Search: from a query and exact filters to documents, each with its best passage.

Three modes: `dense` (the embedding model), `keyword` (FTS5 BM25) and `hybrid` (both, fused
per document; see DENSE_WEIGHT for how and why)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from kb.core import Core
from kb.documents import Practice
from kb.errors import Invalid
from kb.highlight import snippet
from kb.keyword import parse_query
from kb.store import Passage
from kb.vocab import DOCUMENT_KINDS, DOMAINS, FILTER_KEYS, LEVERS

MODES = ("hybrid", "dense", "keyword")
MAX_QUERY = 1000
MAX_K = 100
# Each mode ranks this many passages (at least) before they are grouped into documents.
DEPTH = 200
# Hybrid fusion: a convex combination of min-max normalised scores, DENSE_WEIGHT * dense +
# (1 - DENSE_WEIGHT) * keyword. Chosen by `make eval` over reciprocal rank fusion (k = 10..100)
# and other weights: 0.4 was best or within 0.001 of best on both SciFact and corpus/eval
# (README, "Search quality"). Scores are normalised between the best passage and the
# DEPTH-th passage of each ranking, so a document's score does not depend on k.
DENSE_WEIGHT = 0.4
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_VOCABULARIES = {"domain": DOMAINS, "lever": LEVERS, "kind": DOCUMENT_KINDS}


class SearchError(Invalid):
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
    highlighted: str = ""  # the snippet as HTML: escaped, query words in <mark>
    section: str | None = None
    language: str = "en"
    sample: bool = False
    levers: tuple[str, ...] = ()

    def to_json(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies every value, and this is on every search.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["domains"], data["levers"] = list(self.domains), list(self.levers)
        return data


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


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SearchError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def search(
    kb: Core, query: str, *, k: int = 10, mode: str = "hybrid", filters: dict[str, str] | None = None
) -> list[SearchResult]:
    """The k best documents for `query`, ranked by their best passages.

    Filters are exact and applied inside each ranking, so a filtered search returns the true
    top-k of the matching documents; a "quoted phrase" must appear in the passage."""
    query, k, mode, filters = clean_query(query), check_k(k), check_mode(mode), check_filters(filters)
    parsed = parse_query(query)
    allowed = None
    if filters:
        allowed = kb.store.passage_ids_matching(filters)
    if parsed.phrases:
        with_phrases = np.fromiter(kb.store.passages_with_phrases(parsed.phrases), dtype=np.int64)
        allowed = with_phrases if allowed is None else np.intersect1d(allowed, with_phrases)
    if allowed is not None and len(allowed) == 0:
        return []

    depth = max(DEPTH, k * 10)
    dense = _dense_passages(kb, dense_text(query), depth, allowed) if mode != "keyword" else []
    keyword = []
    if mode != "dense":
        keyword = kb.store.keyword_passages(parsed.keyword_terms, depth, filters, allowed if parsed.phrases else None)
    owners = kb.owners([cid for cid, _ in dense] + [cid for cid, _ in keyword])
    rankings = [_by_document(hits, owners) for hits in (dense, keyword)]
    if mode == "hybrid":
        fused = fuse(rankings[0], _bounds(dense), rankings[1], _bounds(keyword))
    else:
        fused = rankings[0] or rankings[1]
    return _results(kb, fused[:k], rankings, parsed.terms)


def dense_text(query: str) -> str:
    """The text the embedding model reads for `query`, so that a caller can embed it ahead
    (`kb.embed_query`) where that suits it better, e.g. off a web server's event loop."""
    query = clean_query(query)
    return parse_query(query).text or query


def _bounds(hits: list[tuple[int, float]]) -> tuple[float, float]:
    """(high, low) for normalising a ranking: its best and its DEPTH-th passage score."""
    if not hits:
        return 1.0, 0.0
    return hits[0][1], hits[min(len(hits), DEPTH) - 1][1]


def fuse(dense, dense_bounds, keyword, keyword_bounds) -> list[tuple[str, int, float]]:
    """Convex combination of min-max normalised document scores (missing from a ranking: 0)."""
    def normalised(ranking, bounds) -> dict[str, float]:
        high, low = bounds
        span = high - low
        return {doc: (max(0.0, (score - low) / span) if span > 0 else 1.0) for doc, _, score in ranking}

    d, kw = normalised(dense, dense_bounds), normalised(keyword, keyword_bounds)
    scores = {doc: DENSE_WEIGHT * d.get(doc, 0.0) + (1 - DENSE_WEIGHT) * kw.get(doc, 0.0) for doc in d.keys() | kw.keys()}
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(doc_id, -1, score) for doc_id, score in ranked]


def _dense_passages(kb: Core, text: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    index = kb.index
    if (index.count() if allowed is None else len(allowed)) == 0:
        return []
    scores, ids = index.search(kb.embed_query(text), depth, allowed)
    return list(zip(ids.tolist(), scores.tolist()))


def _by_document(hits: Iterable[tuple[int, float]], owners: dict[int, str]) -> list[tuple[str, int, float]]:
    """Passage hits grouped by document: (doc id, best passage id, best score), best first."""
    best: dict[str, tuple[int, float]] = {}
    for cid, score in hits:
        doc_id = owners.get(cid)  # None: deleted by another process since it was ranked
        if doc_id is None:
            continue
        if doc_id not in best or score > best[doc_id][1]:
            best[doc_id] = (cid, score)
    return sorted(((d, c, s) for d, (c, s) in best.items()), key=lambda x: (-x[2], x[0]))


def _results(kb, ranked, rankings, terms) -> list[SearchResult]:
    # The passage shown is the document's best passage in the first ranking that has one
    # (dense, then keyword): the passage closest in meaning to the query.
    passage = {}
    for ranking in reversed(rankings):
        passage.update((doc_id, cid) for doc_id, cid, _ in ranking)
    docs = kb.store.documents(doc_id for doc_id, _, _ in ranked)
    rows = kb.store.passages(passage[doc_id] for doc_id, _, _ in ranked)
    # a document or passage deleted by another process since it was ranked is left out
    return [result(docs[doc_id], rows[passage[doc_id]], score, terms) for doc_id, _, score in ranked
            if doc_id in docs and passage[doc_id] in rows]


def result(doc: Practice, passage: Passage, score: float, terms: tuple[str, ...] = ()) -> SearchResult:
    """One result: a document's metadata and one of its passages, as a snippet."""
    plain, marked = snippet(passage.text, terms)
    return SearchResult(
        doc_id=doc.id, title=doc.title, kind=doc.kind, city=doc.city, country=doc.country,
        domains=list(doc.domains), score=round(float(score), 6), snippet=plain, highlighted=marked,
        section=passage.section, language=doc.language, sample=doc.sample, levers=doc.levers,
    )
