"""Rankings and their fusion: passages by meaning and by words, grouped into documents, fused.

Fusion is a convex combination of min-max normalised document scores; what adapts to the query
is how much the words may count. BM25 can only help when the query and the documents share a
language: a Swedish query over a mostly English knowledge base matches a few Swedish documents
by their words, whatever they are about. So the keyword weight is KEYWORD_WEIGHT times the
share of the knowledge base written in the query's language (1 when the language is unsure), or
the fourth power of the share of its words the documents hold (a few shared words are not
enough; on the dev half of the other-language queries, squares gave hybrid 0.360 against dense
0.368, fourth powers 0.369), whichever is larger; a query whose words were carried into English
(kb/search/translation.py) shares them with the documents as an English query does, and gets
KEYWORD_WEIGHT. `make eval` and README, "Search quality", give the figures against fixed
weights, RRF and weights that follow how much the two rankings agree (tried, left out)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kb.core import Core

# Each mode ranks this many passages (at least) before they are grouped into documents.
DEPTH = 200
# The keyword weight for a query in the knowledge base's main language. With multilingual-e5-
# small, 0.5 was best on SciFact (0.726) and NFCorpus (0.346) and within 0.005 of best on the
# dev half of corpus/eval, where a fixed weight cannot serve queries in other languages.
KEYWORD_WEIGHT = 0.5

Hits = list[tuple[int, float]]  # (passage id, score), best first
Ranking = list[tuple[str, int, float]]  # (document id, its best passage id, its score), best first


def dense_passages(kb: Core, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> Hits:
    index = kb.index
    if (index.count() if allowed is None else len(allowed)) == 0:
        return []
    scores, ids = index.search(vector, depth, allowed)
    return list(zip(ids.tolist(), scores.tolist()))


def by_document(hits: Iterable[tuple[int, float]], owners: dict[int, str]) -> Ranking:
    """Passage hits grouped by document, each with its best passage."""
    best: dict[str, tuple[int, float]] = {}
    for cid, score in hits:
        doc_id = owners.get(cid)  # None: deleted by another process since it was ranked
        if doc_id is None:
            continue
        if doc_id not in best or score > best[doc_id][1]:
            best[doc_id] = (cid, score)
    return sorted(((d, c, s) for d, (c, s) in best.items()), key=lambda x: (-x[2], x[0]))


def keyword_weight(language_share: float, coverage: float = 1.0, named: float = 0.0, english: bool = False) -> float:
    """How much BM25 counts for a query whose language holds `language_share` of the documents
    (relative to the most common language; 1 for the main language or an unsure detection),
    whose words the documents hold in the share `coverage`, and whose words name the programme's
    terms (kb/search/glossary.py, looked for in every language) in the share `named`: a query in
    a rare language still counts its words when the documents have them (names, terms, markers)
    and when they name terms the glossary carries into the documents' languages. A query whose
    words were carried into `english` (kb/search/translation.py) counts them as an English query's."""
    return KEYWORD_WEIGHT * max(0.0, min(1.0, max(language_share, coverage ** 4, named, float(english))))


def fuse(dense: Ranking, dense_hits: Hits, keyword: Ranking, keyword_hits: Hits, weight: float) -> Ranking:
    """weight * keyword + (1 - weight) * dense, each normalised between its best passage and its
    DEPTH-th, so that a document's score does not depend on k (missing from a ranking: 0)."""
    d, kw = _normalised(dense, dense_hits), _normalised(keyword, keyword_hits)
    scores = {doc: (1 - weight) * d.get(doc, 0.0) + weight * kw.get(doc, 0.0) for doc in d.keys() | kw.keys()}
    return [(doc, -1, score) for doc, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def _normalised(ranking: Ranking, hits: Hits) -> dict[str, float]:
    if not hits:
        return {}
    high, low = hits[0][1], hits[min(len(hits), DEPTH) - 1][1]
    span = high - low
    return {doc: (max(0.0, (score - low) / span) if span > 0 else 1.0) for doc, _, score in ranking}
