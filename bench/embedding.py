"""Embedding throughput: our embedder in fp32 and bf16 against plain sentence-transformers."""

from __future__ import annotations

import numpy as np

from bench.common import SCIFACT, timed
from indexer import read_corpus
from kb._sentence_transformers import SentenceTransformerEmbedder
from kb.chunking import chunk_practice

SAMPLE = 600  # SciFact passages, the same for every configuration


def sample_passages(embedder) -> list[str]:
    passages: list[str] = []
    for practice in read_corpus(SCIFACT / "corpus.jsonl").practices:
        passages += [c.embedding_text for c in chunk_practice(practice, embedder)]
        if len(passages) >= SAMPLE:
            return passages[:SAMPLE]
    return passages


def run() -> dict:
    fp32 = SentenceTransformerEmbedder(precision="fp32")
    bf16 = SentenceTransformerEmbedder(precision="bf16")
    auto = SentenceTransformerEmbedder(precision="auto")
    passages = sample_passages(fp32)
    model = fp32._model
    model.encode(passages[:64], batch_size=32)  # warm-up: first calls allocate

    baseline, _ = timed(lambda: model.encode(passages, batch_size=32, normalize_embeddings=True, show_progress_bar=False))
    ours_fp32, _ = timed(lambda: fp32.embed(passages))
    bf16._model  # noqa: B018 - load outside the timing
    ours_bf16, _ = timed(lambda: bf16.embed(passages))
    agreement = float(np.min(np.sum(fp32.embed(passages[:200]) * bf16.embed(passages[:200]), axis=1)))
    n = len(passages)
    return {
        "embed_sample_passages": n,
        "embed_baseline_chunks_per_s": round(n / baseline, 1),
        "embed_fp32_chunks_per_s": round(n / ours_fp32, 1),
        "embed_bf16_chunks_per_s": round(n / ours_bf16, 1),
        "embed_chunks_per_s": round(n / (ours_bf16 if auto.precision == "bf16" else ours_fp32), 1),
        "embed_speedup_vs_baseline": round(baseline / (ours_bf16 if auto.precision == "bf16" else ours_fp32), 2),
        "embed_auto_precision": auto.precision,
        "embed_bf16_min_cosine_vs_fp32": round(agreement, 5),
    }
