"""The embedder interface: one base class every model backend implements."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


class Embedder(ABC):
    """Base of every embedding model: a backend implements `embed_batch`, `count_tokens`,
    `dim` and `max_tokens`; passages and queries are embedded through `embed` and `embed_query`."""

    model_id: str
    batch_size: int = 32
    # What an ONNX export of the model is made from (kb/embedding/onnx.py); None: not exportable.
    export_key: str | None = None

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def max_tokens(self) -> int:
        """The longest passage, in the model's own tokens (special tokens included), it reads whole."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without special tokens."""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of one batch of passages, shape (len(texts), dim)."""

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 passage vectors, in input order; batches are formed from texts of
        similar length so that little padding is computed. `on_batch(n)` is told after each batch."""
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
        """The normalised vector of a search query."""
        return self.embed([text])[0]

    @property
    def query_runtime(self) -> str:
        """What embeds a query, as `kb info` and the health check report it."""
        return "python"


def sha256_file(path: Path) -> str | None:
    """The file's SHA-256, or None if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()
