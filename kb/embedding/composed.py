"""A model with its ONNX export: the export embeds queries, and passages where it pays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.embedding.base import Embedder, in_batches
from kb.embedding.onnx import OnnxEncoder, current
from kb.embedding.sentence_transformers import cpu_has_bf16

# Passages embedded at once from which the model's own runtime is loaded, where the CPU has bf16:
# PyTorch in bf16 embedded SciFact abstracts 1.7x as fast as the fp32 export here (7.6 against
# 4.4 a second), and loading it (about 5 s) pays back from about this many.
BULK = 64
PASSAGE_BATCH = 8  # passages per run of the fp32 export: no faster at 32, and a quarter of the memory


class Exported(Embedder):
    """Queries, and token counts for chunking, by `queries` (ONNX Runtime, int8 by default:
    fastest for one short text). Passages by the fp32 export, in a session made for each call
    (0.14 s; its activations, some 200 MB for eight long passages, go with it): an app server
    never loads PyTorch, so a pilot's first case note does not wait for it, and holds no memory
    for passages between notes. A corpus sync's many passages go to the backend's own model
    where that is faster (see BULK); the two agree to a cosine of 0.9999."""

    def __init__(self, backend: Embedder, queries: OnnxEncoder, directory: Path):
        self.backend = backend
        self.queries = queries
        self.directory = directory
        self.model_id = backend.model_id
        self.weak_below = backend.weak_below

    @property
    def dim(self) -> int:
        return self.queries.dim

    @property
    def max_tokens(self) -> int:
        return self.queries.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.queries.feeds.count_tokens(text)

    @cached_property
    def _fp32_manifest(self) -> dict | None:
        """The fp32 variant's manifest, checked (its 86 MB hashed) once, not at every note."""
        return current(self.directory, self.backend.export_key, "fp32")

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        if self.backend.loaded or (len(texts) >= BULK and cpu_has_bf16()):
            return self.backend.embed(texts, on_batch)
        if self.queries.variant == "fp32":
            fp32 = self.queries
        elif self._fp32_manifest is None:  # the fp32 variant is gone from the export folder
            return self.backend.embed(texts, on_batch)
        else:  # the same feeds as the queries': the tokenizer is not read again
            fp32 = OnnxEncoder(self.directory, self._fp32_manifest, "fp32", self.queries.feeds, lean=True)
        prefix = self.backend.passage_prefix
        return in_batches(lambda batch: fp32.encode(batch, prefix), texts, PASSAGE_BATCH, self.dim, on_batch)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries.encode([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.queries.encode(texts) if texts else np.zeros((0, self.dim), dtype=np.float32)

    @property
    def multilingual(self) -> bool:
        return self.backend.multilingual

    @property
    def query_runtime(self) -> str:
        return self.queries.runtime

    @property
    def language_shifts(self) -> dict[str, np.ndarray]:
        return self.backend.language_shifts
