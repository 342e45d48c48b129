"""Fusion compared: fixed convex weights, reciprocal rank fusion, and the query-adaptive weight
in use (kb/search/ranking.py), on SciFact, NFCorpus and each slice of corpus/eval, from one set of
rankings per query. Part of `make eval`."""

from __future__ import annotations

import numpy as np

from kb.evaluation import Query, ndcg_at
from kb.knowledge_base import KnowledgeBase
from kb.search import DEPTH, fuse, rank

FIXED = (0.3, 0.4, 0.5, 0.6, 0.7)  # keyword weights
RRF_K = 60


def rrf(dense, keyword, k: int = RRF_K) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in (dense, keyword):
        for position, (doc, _, _) in enumerate(ranking):
            scores[doc] = scores.get(doc, 0.0) + 1 / (k + position + 1)
    return sorted(scores, key=lambda d: -scores[d])


def compare(kb: KnowledgeBase, queries: list[Query], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10 of each way of fusing, over the judged queries."""
    totals: dict[str, list[float]] = {}
    for query in queries:
        if not any(g > 0 for g in qrels.get(query.id, {}).values()):
            continue
        read = kb.queries.read(query.text, correct=False)
        found = rank(kb, read, DEPTH)
        fused = {"dense": [d for d, _, _ in found.dense], "keyword": [d for d, _, _ in found.keyword],
                 "rrf": rrf(found.dense, found.keyword)}
        for weight in FIXED:
            fused[f"fixed {weight}"] = [d for d, _, _ in fuse(found.dense, found.dense_hits, found.keyword,
                                                              found.keyword_hits, weight)]
        fused["adaptive"] = [d for d, _, _ in fuse(found.dense, found.dense_hits, found.keyword, found.keyword_hits,
                                                   read.keyword_weight)]
        for name, ranked in fused.items():
            totals.setdefault(name, []).append(ndcg_at(ranked, qrels[query.id]))
    return {name: round(float(np.mean(values)), 4) for name, values in totals.items()}
