"""Practices that resemble a document: the nearest documents to its mean passage vector."""

from __future__ import annotations

from kb.core import Core
from kb.errors import NotFound
from kb.messages import Message
from kb.search import SearchResult, check_k, result


class UnknownDocument(NotFound):
    """No document has this id."""

    def __init__(self, doc_id: str):
        super().__init__(Message("no document has the id %(id)s", id=repr(doc_id)))


def similar(kb: Core, doc_id: str, k: int = 10) -> list[SearchResult]:
    """The k documents closest to `doc_id`, each with the passage closest to it."""
    k = check_k(k)
    if kb.store.document(doc_id) is None:
        raise UnknownDocument(doc_id)
    ids, vectors = kb.store.document_vectors(kb.model_id, [doc_id])
    if not ids:
        return []
    vector = vectors[0]
    index = kb.index
    depth = min(index.count(), max(200, k * 20))
    best: dict[str, tuple[int, float]] = {}
    while True:
        scores, ids = index.search(vector, depth)
        owners = kb.owners(ids.tolist())
        for cid, score in zip(ids.tolist(), scores.tolist()):
            other = owners.get(cid)  # None: deleted by another process since it was ranked
            if other is not None and other != doc_id and (other not in best or score > best[other][1]):
                best[other] = (cid, score)
        if len(best) >= k or depth >= index.count():
            break
        depth = min(index.count(), depth * 4)
    ranked = sorted(best.items(), key=lambda item: (-item[1][1], item[0]))[:k]
    docs = kb.store.documents(d for d, _ in ranked)
    rows = kb.store.passages(cid for _, (cid, _) in ranked)
    languages = kb.store.languages_of(docs)
    return [result(docs[other], rows[cid], score, languages=languages.get(other, ())) for other, (cid, score) in ranked
            if other in docs and cid in rows]
