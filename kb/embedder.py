"""Embedders turn text into normalised vectors; one base class, a real model and a fake for tests."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


class Embedder(ABC):
    """Base of every embedding model: subclasses implement `embed_batch` and `count_tokens`."""

    model_id: str
    batch_size: int = 32

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def max_tokens(self) -> int:
        """The longest input, in the model's own tokens (special tokens included), it reads whole."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without special tokens."""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for one batch, shape (len(texts), dim)."""

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors, in input order; batches are formed from texts of similar
        length so that little padding is computed. `on_batch(n)` is told after each batch."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            out[idx] = self.embed_batch([texts[i] for i in idx])
            if on_batch:
                on_batch(len(idx))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def prepare_queries(self) -> str:
        """Prepare the fastest way this model has to embed queries (made once, then reused);
        what will embed them."""
        return self.query_runtime

    @property
    def query_runtime(self) -> str:
        """What embeds a query, as `kb info` and the health check report it."""
        return "python"


_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder(Embedder):
    """Deterministic bag-of-hashed-words vectors: documents sharing words are close.

    Fast and dependency-free, for tests; it counts words as tokens."""

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


def load_embedder(model: str | None = None, precision: str = "auto", onnx_dir: Path | None = None,
                  query_encoder: str = "int8") -> Embedder:
    """The configured sentence-transformers model, loaded lazily on first use; queries are
    embedded by its ONNX export in `onnx_dir` when there is one (see `prepare_queries`)."""
    from kb._sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model, precision=precision, onnx_dir=onnx_dir, query_encoder=query_encoder)
