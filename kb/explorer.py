"""The matching team's views: how cities and practices resemble each other."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from kb.core import Core
from kb.partners import PartnerSuggestion, Profile, suggest
from kb.search import search


@dataclass(frozen=True)
class PracticePoint:
    doc_id: str
    title: str
    city: str | None
    domain: str
    x: float
    y: float


def city_similarity(kb: Core) -> tuple[list[str], np.ndarray]:
    """Cosine similarity between cities (each the mean of its practices and notes), ordered by
    average-linkage clustering so that groups of similar cities sit together."""
    ids, vectors = kb.store.document_vectors(kb.embedder.model_id)
    docs = kb.store.documents(ids)
    by_city: dict[str, list[np.ndarray]] = defaultdict(list)
    for doc_id, vector in zip(ids, vectors):
        if docs[doc_id].city and docs[doc_id].kind in ("measure", "case_note"):
            by_city[docs[doc_id].city].append(vector)
    names = sorted(by_city)
    if len(names) < 2:
        return names, np.ones((len(names), len(names)))
    matrix = np.vstack([np.mean(by_city[c], axis=0) for c in names])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    similarity = np.clip(matrix @ matrix.T, -1.0, 1.0)
    order = _cluster_order(1.0 - similarity)
    return [names[i] for i in order], similarity[np.ix_(order, order)]


def _cluster_order(distance: np.ndarray) -> list[int]:
    # scipy takes 0.4 s to import; only this view needs it
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    condensed = squareform(np.clip((distance + distance.T) / 2, 0, None), checks=False)
    return leaves_list(linkage(condensed, method="average", optimal_ordering=True)).tolist()


def practice_map(kb: Core) -> list[PracticePoint]:
    """Every document placed in 2-D by PCA of its vector, coloured later by its first domain."""
    ids, vectors = kb.store.document_vectors(kb.embedder.model_id)
    if len(ids) < 3:
        return []
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ components[:2].T
    docs = kb.store.documents(ids)
    return [PracticePoint(d, docs[d].title, docs[d].city, (docs[d].domains or ("none",))[0], float(x), float(y))
            for d, (x, y) in zip(ids, xy)]


def twin_suggestions(kb: Core, k: int = 3) -> list[tuple[str, str, list[PartnerSuggestion]]]:
    """For each twin city in the profiles: what the knowledge base says it works on (the titles of
    documents that name it), and the pilot cities suggested for that."""
    table = []
    for twin in (c for c in kb.store.cities() if c.role == "twin"):
        naming = sorted({r.title for r in search(kb, f'"{twin.city}"', k=100, mode="keyword").results})[:8]
        if not naming:
            table.append((twin.city, "", []))
            continue
        challenge = "; ".join(naming)
        profile = Profile(twin.city, twin.country, twin.population, twin.domains)
        table.append((twin.city, challenge, suggest(kb, challenge[:2000], profile, k=k).suggestions))
    return table
