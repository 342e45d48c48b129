"""An embedder made of two parts: one model embeds passages, an exported copy embeds queries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kb.embedding.base import Embedder
from kb.embedding.onnx import OnnxQueryEncoder


class FastQueries(Embedder):
    """Passages by `passages` (PyTorch, in batches, where it is fastest); queries, and token
    counts for chunking, by `queries` (ONNX Runtime: fastest for one short text, and no PyTorch
    to load in a process that only searches)."""

    def __init__(self, passages: Embedder, queries: OnnxQueryEncoder):
        self.passages = passages
        self.queries = queries
        self.model_id = passages.model_id
        self.batch_size = passages.batch_size
        self.weak_below = passages.weak_below

    @property
    def dim(self) -> int:
        return self.queries.dim

    @property
    def max_tokens(self) -> int:
        return self.queries.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.queries.count_tokens(text)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.passages.embed_batch(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries.encode([text])[0]

    @property
    def query_runtime(self) -> str:
        return self.queries.runtime

    @property
    def language_shifts(self) -> dict[str, np.ndarray]:
        return self.passages.language_shifts
