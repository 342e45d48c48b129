"""The embedder interface: one base class every model backend implements."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np


# How much of a query language's direction is taken out. On the dev half of corpus/eval with
# multilingual-e5-small: other-language queries, dense nDCG@10 0.319 -> 0.358 at 0.5 (0.363 at
# 0.75, 0.339 at 1.0); queries written to match a document in their own language lose at 0.75 and
# more (0.632 -> 0.644 at 0.5, 0.630 at 0.75, 0.614 at 1.0): 0.5.
LANGUAGE_ALIGNMENT = 0.5


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


class Embedder(ABC):
    """Base of every embedding model: a backend implements `embed_batch`, `count_tokens`,
    `dim` and `max_tokens`; passages and queries are embedded through `embed` and `embed_query`."""

    model_id: str
    batch_size: int = 32
    # What an ONNX export of the model is made from (kb/embedding/onnx.py); None: not exportable.
    export_key: str | None = None
    onnx_keep_fp32: tuple[str, ...] = ()  # node names (regular expressions) its int8 export leaves in fp32
    # Its attention heads, for ONNX Runtime's optimiser to fuse each layer's attention into one
    # operator (which the int8 variant quantises whole); 0: left as the trace wrote it.
    onnx_heads: int = 0
    query_prefix: str = ""  # what the model reads before a query
    passage_prefix: str = ""  # and before a passage
    # The best passage's cosine below which a query has no good match (calibrated on judged
    # no-answer queries, README "Search quality"); None: never judged weak by its score alone.
    weak_below: float | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model is in this process's memory (a backend keeps it in `_model`)."""
        return "_model" in self.__dict__

    def release(self) -> None:
        """Let go of the model (it is loaded again if asked for)."""
        self.__dict__.pop("_model", None)
        give_back_memory()

    @property
    def language_shifts(self) -> dict[str, np.ndarray]:
        """Per language (ISO 639-1), the direction by which the model's query vectors in that
        language differ from English ones on the same sentences; empty for an English-only model."""
        return {}

    def align_query(self, vector: np.ndarray, language: str | None, strength: float = LANGUAGE_ALIGNMENT) -> np.ndarray:
        """A query vector with part of its language's direction taken out, so that it meets
        documents by what it asks, not by the language it asks in (README, "Search quality")."""
        shift = self.language_shifts.get(language or "en")
        if shift is None:
            return vector
        aligned = vector - strength * shift
        return aligned / max(float(np.linalg.norm(aligned)), 1e-12)

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
        """Normalised float32 passage vectors, in input order. `on_batch(n)` is told after each batch."""
        return in_batches(self.embed_batch, texts, self.batch_size, self.dim, on_batch)

    def embed_query(self, text: str) -> np.ndarray:
        """The normalised vector of a search query."""
        return self.embed([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors of several search queries, in input order (in one batch where the
        runtime has one: close to, not exactly, each alone's)."""
        return np.array([self.embed_query(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    @property
    def multilingual(self) -> bool:
        """Whether the model places a text and its translations together (kb/search/translation.py)."""
        return False

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


def padded(rows: Sequence[Sequence[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of several texts as one (batch, longest) int64 array padded with `pad`, and its mask."""
    ids = np.full((len(rows), max(map(len, rows))), pad, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, tokens in enumerate(rows):
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
    return ids, mask


def in_batches(embed_batch: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], size: int, dim: int,
               on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Normalised vectors of `texts` by `embed_batch`, in input order; batches of `size` are
    formed from texts of similar length so that little padding is computed."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        out[idx] = embed_batch([texts[i] for i in idx])
        if on_batch:
            on_batch(len(idx))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def give_back_memory() -> None:
    """Collect garbage and return the freed heap to the system (glibc keeps it otherwise: the
    ONNX tools' copies of a model stay resident after they are freed); nothing elsewhere."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere): what bf16 and int8 can use."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return frozenset()
    return frozenset(flag for line in lines if line.startswith(("flags", "Features"))
                     for flag in line.split(":", 1)[1].split())
