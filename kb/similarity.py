"""Practices that resemble a document: the nearest documents to its mean passage vector."""

from __future__ import annotations

import numpy as np

from kb.knowledge_base import KnowledgeBase
from kb.search import SearchResult, check_k, result


class UnknownDocument(KeyError):
    """No document has this id."""


def document_vector(kb: KnowledgeBase, doc_id: str) -> np.ndarray | None:
    """The normalised mean of a document's passage vectors (None if it has none)."""
    rows = kb.store.db.execute(
        "SELECT vector FROM chunks WHERE doc_id = ? AND model_id = ?", (doc_id, kb.embedder.model_id)
    ).fetchall()
    if not rows:
        return None
    mean = np.mean([np.frombuffer(r[0], dtype=np.float32) for r in rows], axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def similar(kb: KnowledgeBase, doc_id: str, k: int = 10) -> list[SearchResult]:
    """The k documents closest to `doc_id`, each with the passage closest to it."""
    k = check_k(k)
    if kb.store.get_document(doc_id) is None:
        raise UnknownDocument(doc_id)
    vector = document_vector(kb, doc_id)
    if vector is None:
        return []
    index = kb.index
    depth = min(index.count(), max(200, k * 20))
    best: dict[str, tuple[int, float]] = {}
    while True:
        scores, ids = index.search(vector, depth)
        owners = kb.owners(ids.tolist())
        for cid, score in zip(ids.tolist(), scores.tolist()):
            other = owners[cid]
            if other != doc_id and (other not in best or score > best[other][1]):
                best[other] = (cid, score)
        if len(best) >= k or depth >= index.count():
            break
        depth = min(index.count(), depth * 4)
    ranked = sorted(best.items(), key=lambda item: (-item[1][1], item[0]))[:k]
    docs = kb.store.documents(d for d, _ in ranked)
    rows = kb.store.chunks(cid for _, (cid, _) in ranked)
    return [result(docs[other], rows[cid], score) for other, (cid, score) in ranked]
