"""A deterministic fake model for tests: no weights, no PyTorch."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from kb.embedding.base import Embedder

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder(Embedder):
    """Bag-of-hashed-words vectors: documents sharing words are close. It counts words as tokens."""

    def __init__(self, dim: int = 64, max_tokens: int = 64, model_id: str = "fake-64"):
        self.model_id = model_id
        self._dim = dim
        self._max_tokens = max_tokens
        self.calls = 0
        self.embedded = 0

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
            out[row, -1] += 0.01  # keeps an empty text from being the zero vector
        return out
