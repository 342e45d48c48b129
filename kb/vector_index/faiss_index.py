"""FAISS: exact (flat) or inverted-file (ivf) inner-product search with stable passage ids."""

from __future__ import annotations

import faiss
import numpy as np

# Cells searched per query. e5's query vectors lie farther from the passages than MiniLM's did,
# so 48 cells (fitted on MiniLM: recall@10 0.998) found 0.90 of the exact top 10 at 100k passages
# and 0.88 at 1M; 256 cells find 0.99 and 0.98 for 3 ms and 19 ms a query (bench/scale.py).
IVF_NPROBE = 256


class FaissIndex:
    """A VectorIndex (kb/vector_index/base.py) on FAISS."""

    def __init__(self, dim: int, index=None, kind: str = "flat"):
        self.dim = dim
        self.kind = kind
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, kind: str = "flat") -> FaissIndex:
        """An index over `vectors`; an IVF index is trained on (a sample of) them first."""
        dim = vectors.shape[1] if len(ids) else 1
        if kind == "ivf" and len(ids) >= 10_000:
            nlist = int(4 * np.sqrt(len(ids)))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = vectors[np.random.default_rng(0).choice(len(ids), min(len(ids), nlist * 64), replace=False)]
            ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
            ivf.nprobe = IVF_NPROBE
            index = cls(dim, ivf, "ivf")
        else:
            index = cls(dim)
        index.add(ids, vectors)
        return index

    @classmethod
    def from_bytes(cls, data: bytes) -> FaissIndex:
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        kind = "ivf" if isinstance(index, faiss.IndexIVF) else "flat"
        if kind == "ivf":
            index.nprobe = IVF_NPROBE
        return cls(index.d, index, kind)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query; with `allowed`, the exact top-k among those ids
        (an IVF index then probes every list, so filtered results stay exact)."""
        k = min(k, self.count() if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            if self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nlist)
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self._index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def count(self) -> int:
        return int(self._index.ntotal)

    def to_bytes(self) -> bytes:
        return faiss.serialize_index(self._index).tobytes()
