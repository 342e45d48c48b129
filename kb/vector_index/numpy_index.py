"""Exact search in NumPy: a second implementation of the vector index, small enough to trust,
against which the FAISS one is checked (tests/kb/test_vector_index.py)."""

from __future__ import annotations

import io

import numpy as np


class NumpyIndex:
    kind = "numpy"

    def __init__(self, dim: int):
        self.dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.remove(np.asarray(ids))
            self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
            self._vectors = np.vstack([self._vectors, np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)])

    def remove(self, ids: np.ndarray) -> None:
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._ids, self._vectors = self._ids[keep], self._vectors[keep]

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(self._ids)) if allowed is None else np.flatnonzero(np.isin(self._ids, allowed))
        scores = self._vectors[rows] @ np.asarray(query, dtype=np.float32).reshape(-1)
        order = np.lexsort((self._ids[rows], -scores))[:max(k, 0)]  # ties: the smaller id first
        return scores[order].astype(np.float32), self._ids[rows][order]

    def count(self) -> int:
        return len(self._ids)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, ids=self._ids, vectors=self._vectors)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NumpyIndex:
        arrays = np.load(io.BytesIO(data))
        index = cls(arrays["vectors"].shape[1])
        index._ids, index._vectors = arrays["ids"], arrays["vectors"]
        return index
