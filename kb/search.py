"""Search: from a query and exact filters to documents, each with its best passage.

Three modes: `dense` (the embedding model), `keyword` (FTS5 BM25) and `hybrid` (both, fused
per document; kb/ranking.py says how)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

import numpy as np

from kb.core import Core
from kb.documents import Practice
from kb.errors import Invalid
from kb.files import file_at
from kb.highlight import snippet
from kb.keyword import ParsedQuery, parse_query
from kb.ranking import DEPTH, Hits, Ranking, by_document, dense_passages, fuse, keyword_weight
from kb.store import Passage
from kb.vocab import DOCUMENT_KINDS, DOMAINS, FILTER_KEYS, LEVERS, MODULES

MODES = ("hybrid", "dense", "keyword")
MAX_QUERY = 1000
MAX_K = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_VOCABULARIES = {"domain": DOMAINS, "lever": LEVERS, "kind": DOCUMENT_KINDS, "module": MODULES}


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
    module: str | None = None
    twins: tuple[str, ...] = ()
    file: str | None = None  # the kept original the passage comes from (kb/files.py) ...
    page: int | None = None  # ... and its page or slide

    def to_json(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies every value, and this is on every search.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["domains"], data["levers"], data["twins"] = list(self.domains), list(self.levers), list(self.twins)
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


@dataclass(frozen=True)
class SearchResponse:
    """What a search answers: the results, whether any of them is a good match, and the query
    as searched when a misspelt word was corrected."""

    query: str
    mode: str
    results: list[SearchResult]
    weak_match: bool = False
    corrected: str | None = None  # the query searched instead of `query`
    language: str | None = None  # the query's language, when sure

    def to_json(self) -> dict:
        return {"query": self.query, "mode": self.mode, "weak_match": self.weak_match, "corrected": self.corrected,
                "language": self.language, "results": [r.to_json() for r in self.results]}


def search(kb: Core, query: str, *, k: int = 10, mode: str = "hybrid", filters: dict[str, str] | None = None,
           correct: bool = True) -> SearchResponse:
    """The k best documents for `query`, ranked by their best passages.

    Filters are exact and applied inside each ranking, so a filtered search returns the true
    top-k of the matching documents; a "quoted phrase" must appear in the passage. A misspelt
    word is corrected first (unless `correct` is false), and the response says so."""
    query, k, mode, filters = clean_query(query), check_k(k), check_mode(mode), check_filters(filters)
    language = kb.query_language(query)
    corrected = kb.correct_spelling(query, language) if correct and '"' not in query else None
    parsed = parse_query(corrected or query)
    allowed = None
    if filters:
        allowed = kb.store.passage_ids_matching(filters)
    if parsed.phrases:
        with_phrases = np.fromiter(kb.store.passages_with_phrases(parsed.phrases), dtype=np.int64)
        allowed = with_phrases if allowed is None else np.intersect1d(allowed, with_phrases)
    if allowed is not None and len(allowed) == 0:
        return SearchResponse(query, mode, [], True, corrected, language)

    found = rank(kb, parsed, max(DEPTH, k * 10), mode, filters, allowed)
    if mode == "hybrid":
        coverage = kb.word_coverage(corrected or query)
        fused = fuse(found.dense, found.dense_hits, found.keyword, found.keyword_hits,
                     keyword_weight(kb.language_share(language), coverage))
    else:
        fused = found.dense or found.keyword
    rankings = [found.dense, found.keyword]
    results = _results(kb, fused[:k], rankings, parsed.terms)
    # a query of which the knowledge base knows no word, in no language it can tell, is noise ("xqzzv")
    noise = language is None and kb.word_coverage(corrected or query) == 0
    weak = noise or weak_match(found.dense_hits, results, kb.embedder.weak_below)
    return SearchResponse(query, mode, results, weak, corrected, language)


@dataclass(frozen=True)
class Rankings:
    """A query's passages by meaning and by words (best first), and the same grouped by document."""

    dense_hits: Hits
    keyword_hits: Hits
    dense: Ranking
    keyword: Ranking


def rank(kb: Core, parsed: ParsedQuery, depth: int, mode: str = "hybrid", filters: dict[str, str] | None = None,
         allowed: np.ndarray | None = None) -> Rankings:
    dense = dense_passages(kb, kb.embed_query(parsed.text), depth, allowed) if mode != "keyword" and parsed.text else []
    keyword = []
    if mode != "dense":
        keyword = kb.store.keyword_passages(parsed.keyword_terms, depth, filters, allowed if parsed.phrases else None)
    owners = kb.owners([cid for cid, _ in dense] + [cid for cid, _ in keyword])
    return Rankings(dense, keyword, by_document(dense, owners), by_document(keyword, owners))


def weak_match(dense: list[tuple[int, float]], results: list[SearchResult], weak_below: float | None) -> bool:
    """True when no result is a good match: nothing found, or the best passage is less close
    to the query than the model's calibrated `weak_below`."""
    if not results:
        return True
    return weak_below is not None and bool(dense) and dense[0][1] < weak_below


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
    file, page = file_at(doc.files, passage.section)
    return SearchResult(
        doc_id=doc.id, title=doc.title, kind=doc.kind, city=doc.city, country=doc.country,
        domains=list(doc.domains), score=round(float(score), 6), snippet=plain, highlighted=marked,
        section=passage.section, language=doc.language, sample=doc.sample, levers=doc.levers, module=doc.module, twins=doc.twins,
        file=file, page=page,
    )
