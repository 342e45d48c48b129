"""Search: from a query and exact filters to documents, each with its best passage.

Three modes: `dense` (the embedding model), `keyword` (FTS5 BM25) and `hybrid` (both, fused
per document; kb/search/ranking.py says how)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from kb.documents import DOCUMENT_KINDS, DOMAINS, FILTER_KEYS, LEVERS, MODULES, Practice, english_title
from kb.files import file_at
from kb.messages import Message
from kb.search.highlight import snippet
from kb.search.paragraphs import Part, fuse_parts, parts_of
from kb.search.query import Query, SearchError
from kb.search.ranking import DEPTH, Hits, Ranking, by_document, dense_passages, fuse
from kb.store import Passage

if TYPE_CHECKING:
    from kb.core import Core

MODES = ("hybrid", "dense", "keyword")
MAX_K = 100
_VOCABULARIES = {"domain": DOMAINS, "lever": LEVERS, "kind": DOCUMENT_KINDS, "module": MODULES}


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
    language: str = "en"  # the document's
    passage_language: str | None = None  # the snippet's: its passage's own language (None: the document's)
    languages: tuple[str, ...] = ()  # every language of the document, its own first: what the language filter finds it by
    sample: bool = False
    levers: tuple[str, ...] = ()
    module: str | None = None
    twins: tuple[str, ...] = ()
    file: str | None = None  # the kept original the passage comes from (kb/files/kept.py) ...
    page: int | None = None  # ... and its page or slide
    title_en: str | None = None  # a document in another language: its title in English, when it gives one
    answers: str | None = None  # of a paragraph-long query, the sentence this result answers best
    strong: bool = True  # above the relevance floor: its best passage is close to the query

    def to_json(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies every value, and this is on every search.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["domains"], data["levers"], data["twins"] = list(self.domains), list(self.levers), list(self.twins)
        data["languages"] = list(self.languages)
        return data


def check_filters(filters: dict[str, str] | None) -> dict[str, str]:
    """Exact filters with known keys and, for controlled vocabularies, known values."""
    checked: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise SearchError(Message("unknown filter %(key)s; use one of %(keys)s", key=repr(key),
                                      keys=", ".join(FILTER_KEYS)))
        if value is None or not str(value).strip():
            continue
        value = str(value).strip()
        if key in _VOCABULARIES and value not in _VOCABULARIES[key]:
            raise SearchError(Message("unknown %(key)s %(value)s; use one of %(values)s", key=key, value=repr(value),
                                      values=", ".join(_VOCABULARIES[key])))
        checked[key] = value
    return checked


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise SearchError(Message("k must be a whole number from 1 to %(max)s, got %(k)s", max=MAX_K, k=repr(k)))
    return k


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SearchError(Message("unknown mode %(mode)s; use one of %(modes)s", mode=repr(mode),
                                  modes=", ".join(MODES)))
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
    english: tuple[str, ...] = ()  # its words carried into English, which its keyword ranking also looked for

    def to_json(self) -> dict:
        return {"query": self.query, "mode": self.mode, "weak_match": self.weak_match, "corrected": self.corrected,
                "language": self.language, "english": list(self.english),
                "results": [r.to_json() for r in self.results]}


def search(kb: Core, query: str | Query, *, k: int = 10, mode: str = "hybrid",
           filters: dict[str, str] | None = None, correct: bool = True) -> SearchResponse:
    """The k best documents for `query`, ranked by their best passages.

    The query is read once (kb/search/query.py: its language, its corrected spelling unless
    `correct` is false, its words, phrases and vector), or given already read; then ranked, then
    presented. Filters are exact and applied inside each ranking, so a filtered search returns
    the true top-k of the matching documents; a "quoted phrase" must appear in the passage."""
    k, mode, filters = check_k(k), check_mode(mode), check_filters(filters)
    if isinstance(query, str):
        query = kb.queries.read(query, correct=correct, dense=mode != "keyword")
    allowed = _allowed(kb, query, filters)
    if allowed is not None and len(allowed) == 0:
        return SearchResponse(query.text, mode, [], True, query.corrected, query.language)
    depth = max(DEPTH, k * 10)
    found = rank(kb, query, depth, mode, filters, allowed)
    fused, rankings, answers = _fused(found, query, mode), [found.dense, found.keyword], {}
    texts = parts_of(query.text)
    if texts:  # a paragraph: its sentences searched too (kb/search/paragraphs.py)
        parts = []
        for text in texts:
            part = kb.queries.read(text, correct=query.corrected is not None, dense=mode != "keyword")
            got = rank(kb, part, depth, mode, filters, allowed)
            parts.append(Part(text, part.vector, _fused(got, part, mode)))
            rankings += [got.dense, got.keyword]
        fused, answers = fuse_parts(fused, query.vector, parts)
    results = _floored(_results(kb, fused[:k], rankings, query.parsed.terms, answers), rankings[0::2],
                       kb.embedder.weak_below, mode)
    weak = query.noise or weak_match(found.dense_hits, results, kb.embedder.weak_below)
    return SearchResponse(query.text, mode, results, weak, query.corrected, query.language,
                          query.english if mode != "dense" else ())


def _fused(found: Rankings, query: Query, mode: str) -> Ranking:
    if mode == "hybrid":
        return fuse(found.dense, found.dense_hits, found.keyword, found.keyword_hits, query.keyword_weight)
    return found.dense or found.keyword


def _allowed(kb: Core, query: Query, filters: dict[str, str]) -> np.ndarray | None:
    """The passages the filters and the query's "quoted phrases" leave (None: all)."""
    allowed = kb.store.passage_ids_matching(filters) if filters else None
    if query.parsed.phrases:
        with_phrases = np.fromiter(kb.store.passages_with_phrases(query.keyword_phrases), dtype=np.int64)
        allowed = with_phrases if allowed is None else np.intersect1d(allowed, with_phrases)
    return allowed


@dataclass(frozen=True)
class Rankings:
    """A query's passages by meaning and by words (best first), and the same grouped by document."""

    dense_hits: Hits
    keyword_hits: Hits
    dense: Ranking
    keyword: Ranking


def rank(kb: Core, query: Query, depth: int, mode: str = "hybrid", filters: dict[str, str] | None = None,
         allowed: np.ndarray | None = None) -> Rankings:
    parsed = query.parsed
    dense = []
    if mode != "keyword" and parsed.text:
        if query.vector is None:
            raise ValueError("a query read for keyword ranking only has no vector to rank by meaning")
        dense = dense_passages(kb, query.vector, depth, allowed)
    keyword = []
    if mode != "dense":
        keyword = kb.store.keyword_passages(query.keyword_terms, depth, filters,
                                            allowed if parsed.phrases else None)
    owners = kb.owners([cid for cid, _ in dense] + [cid for cid, _ in keyword])
    return Rankings(dense, keyword, by_document(dense, owners), by_document(keyword, owners))


def _floored(results: list[SearchResult], dense: list[Ranking], weak_below: float | None,
             mode: str) -> list[SearchResult]:
    """Each result marked strong or not: its best passage is at least as close to the query (or
    to one of its sentences) as the model's floor for a good match. A keyword search has no such
    measure: all its results are strong."""
    if weak_below is None or mode == "keyword":
        return results
    closeness: dict[str, float] = {}
    for ranking in dense:
        for doc, _, score in ranking:
            closeness[doc] = max(score, closeness.get(doc, score))
    return [replace(r, strong=closeness.get(r.doc_id, 0.0) >= weak_below) for r in results]


def weak_match(dense: list[tuple[int, float]], results: list[SearchResult], weak_below: float | None) -> bool:
    """True when no result is a good match: nothing found, or the best passage is less close
    to the query than the model's calibrated `weak_below`."""
    if not results:
        return True
    return weak_below is not None and bool(dense) and dense[0][1] < weak_below


def _results(kb, ranked, rankings, terms, answers: dict[str, str] | None = None) -> list[SearchResult]:
    # The passage shown is the document's best passage in the first ranking that has one
    # (dense, then keyword): the passage closest in meaning to the query.
    passage = {}
    for ranking in reversed(rankings):
        passage.update((doc_id, cid) for doc_id, cid, _ in ranking)
    docs = kb.store.documents(doc_id for doc_id, _, _ in ranked)
    rows = kb.store.passages(passage[doc_id] for doc_id, _, _ in ranked)
    languages = kb.store.languages_of(docs)
    # a document or passage deleted by another process since it was ranked is left out
    return [replace(result(docs[doc_id], rows[passage[doc_id]], score, terms, languages.get(doc_id, ())),
                    answers=(answers or {}).get(doc_id))
            for doc_id, _, score in ranked if doc_id in docs and passage[doc_id] in rows]


def result(doc: Practice, passage: Passage, score: float, terms: tuple[str, ...] = (),
           languages: tuple[str, ...] = ()) -> SearchResult:
    """One result: a document's metadata and one of its passages, as a snippet in the passage's
    language; `languages` are all of the document's (Store.languages_of), its own when not given."""
    plain, marked = snippet(passage.text, terms)
    file, page = file_at(doc.files, passage.section)
    return SearchResult(
        doc_id=doc.id, title=doc.title, kind=doc.kind, city=doc.city, country=doc.country,
        domains=list(doc.domains), score=round(float(score), 6), snippet=plain, highlighted=marked,
        section=passage.section, language=doc.language, passage_language=passage.language or doc.language,
        languages=languages or (doc.language,), sample=doc.sample, levers=doc.levers, module=doc.module, twins=doc.twins,
        file=file, page=page, title_en=english_title(doc.body) if doc.language != "en" else None,
    )
