"""Embedding throughput: all-MiniLM-L6-v2 in fp32 and bf16 against plain sentence-transformers,
and multilingual-e5-small (the default) as it runs, for passages (batches) and for single
queries (PyTorch against the ONNX Runtime exports)."""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

from bench.common import OUT, REPO, SCIFACT, timed
from indexer import read_corpus
from kb.documents import chunk_practice
from kb.embedding import with_fast_queries
from kb.embedding.e5 import E5Embedder
from kb.embedding.onnx import OnnxEncoder
from kb.embedding.sentence_transformers import SentenceTransformerEmbedder

SAMPLE = 600  # SciFact passages, the same for every configuration
ROUNDS = 3  # timings of each configuration; the median is kept


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

    bf16.precision  # noqa: B018 - load and convert the weights outside the timing
    runs = {
        "baseline": lambda: model.encode(passages, batch_size=32, normalize_embeddings=True, show_progress_bar=False),
        "fp32": lambda: fp32.embed(passages),
        "bf16": lambda: bf16.embed(passages),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):  # interleaved, so that a slow spell of a shared machine hits all alike
        for name, embed in runs.items():
            times[name].append(timed(embed, repeat=1)[0])
    baseline, ours_fp32, ours_bf16 = (statistics.median(times[name]) for name in runs)
    agreement = float(np.min(np.sum(fp32.embed(passages[:200]) * bf16.embed(passages[:200]), axis=1)))
    n = len(passages)
    onnx = with_fast_queries(fp32, OUT / "onnx", "fp32").queries
    onnx_batches, _ = timed(lambda: [onnx.encode(passages[i:i + 32]) for i in range(0, n, 32)], repeat=1)
    return {
        **_queries(model, fp32),
        **_e5(),
        "embed_onnx_fp32_chunks_per_s": round(n / onnx_batches, 1),
        "embed_sample_passages": n,
        "embed_baseline_chunks_per_s": round(n / baseline, 1),
        "embed_fp32_chunks_per_s": round(n / ours_fp32, 1),
        "embed_bf16_chunks_per_s": round(n / ours_bf16, 1),
        "embed_chunks_per_s": round(n / (ours_bf16 if auto.precision == "bf16" else ours_fp32), 1),
        "embed_speedup_vs_baseline": round(baseline / (ours_bf16 if auto.precision == "bf16" else ours_fp32), 2),
        "embed_auto_precision": auto.precision,
        "embed_bf16_min_cosine_vs_fp32": round(agreement, 5),
    }


def _e5() -> dict:
    """multilingual-e5-small as the knowledge base runs it: passages in the precision chosen
    (bf16 where it agrees), queries by its ONNX exports, one at a time on one thread."""
    import torch

    embedder = E5Embedder()
    passages = sample_passages(embedder)
    embedder.embed(passages[:32])  # warm-up, and the precision chosen
    seconds = statistics.median(timed(lambda: embedder.embed(passages), repeat=1)[0] for _ in range(ROUNDS))
    with_fast_queries(embedder, OUT / "onnx-e5", "int8")
    # as an app server embeds a case note's passages: the fp32 export, no PyTorch
    exported = OnnxEncoder.load(OUT / "onnx-e5", embedder, "fp32")
    onnx_seconds = statistics.median(timed(lambda: [exported.encode(passages[i:i + 8], embedder.passage_prefix)
                                                    for i in range(0, len(passages), 8)], repeat=1)[0]
                                     for _ in range(ROUNDS))
    queries = [json.loads(line)["text"] for line in (REPO / "corpus" / "eval" / "queries.jsonl").open()]
    reference = embedder.reference_queries(queries)
    figures = {"e5_embed_chunks_per_s": round(len(passages) / seconds, 1), "e5_embed_precision": embedder.precision,
               "e5_embed_onnx_fp32_chunks_per_s": round(len(passages) / onnx_seconds, 1),
               "e5_embed_sample_passages": len(passages)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"  # read by ONNX Runtime when a session is made
    try:
        figures["e5_query_embed_torch_p50_ms"] = _median_ms(embedder.embed_query, queries)
        for variant in ("fp32", "int8"):
            encoder = OnnxEncoder.load(OUT / "onnx-e5", embedder, variant)
            figures[f"e5_query_embed_{variant}_p50_ms"] = _median_ms(lambda q, e=encoder: e.encode([q]), queries)
            vectors = np.vstack([encoder.encode([q]) for q in queries])
            figures[f"e5_query_{variant}_min_cosine_vs_fp32"] = round(float(np.min(np.sum(vectors * reference, axis=1))), 5)
    finally:
        torch.set_num_threads(threads)
        os.environ.pop("OMP_NUM_THREADS")
    return figures


def _queries(model, fp32: SentenceTransformerEmbedder) -> dict:
    """Median time to embed one query, one at a time as a search does, on one thread (as
    each server worker does)."""
    import torch

    queries = [json.loads(line)["text"] for line in (REPO / "corpus" / "eval" / "queries.jsonl").open()]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    os_threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # read by ONNX Runtime when a session is made
    try:
        encoders = {variant: OnnxEncoder.load(OUT / "onnx", fp32, variant)
                    for variant in ("fp32", "int8")}
        reference = fp32.embed(queries)
        figures = {"query_embed_baseline_p50_ms": _median_ms(
            lambda q: model.encode([q], normalize_embeddings=True, show_progress_bar=False), queries)}
        for variant, encoder in encoders.items():
            figures[f"query_embed_{variant}_p50_ms"] = _median_ms(lambda q, e=encoder: e.encode([q]), queries)
            vectors = np.vstack([encoder.encode([q]) for q in queries])
            agreement = float(np.min(np.sum(vectors * reference, axis=1)))
            figures[f"query_{variant}_min_cosine_vs_fp32"] = round(agreement, 5)
    finally:
        torch.set_num_threads(threads)
        if os_threads is None:
            os.environ.pop("OMP_NUM_THREADS")
        else:
            os.environ["OMP_NUM_THREADS"] = os_threads
    figures["query_embed_speedup_vs_baseline"] = round(
        figures["query_embed_baseline_p50_ms"] / figures["query_embed_int8_p50_ms"], 2)
    return figures


def _median_ms(embed, queries: list[str]) -> float:
    for query in queries[:10]:  # warm-up
        embed(query)
    times = []
    for query in queries:
        start = time.perf_counter()
        embed(query)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)
