"""Query latency at 10k, 100k and 1M passages: synthetic stored vectors, real query embeddings.

Synthetic passages reuse the text of real ones (SciFact and the shipped corpus, cut to 60 words)
and their vectors plus a little noise, so vectors and words are distributed like real data.
Each store is built once into bench/out/scale-N and reused by later runs."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from bench.common import OUT, REPO, SCIFACT, percentile
from kb.documents import Chunk, Practice
from kb.embedding import passage_embedder
from kb.knowledge_base import KnowledgeBase
from kb.search import search
from kb.settings import Settings
from kb.store import open_store, store_exists
from kb.vector_index import FaissIndex

SIZES = {k: v for k, v in {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}.items()
         if v <= int(os.environ.get("KB_BENCH_MAX_SIZE", 1_000_000))}
QUERIES = 100
NOISE = 0.03
DOMAINS = ("energy", "buildings", "mobility", "waste-circular", "industry", "green-infrastructure")


def _real_passages() -> tuple[list[str], np.ndarray, str]:
    texts, vectors, model_id = [], [], None
    for name in ("scifact", "shipped"):
        store = open_store(OUT / name)
        (model_id,) = store.counts()["models"]
        snapshot = store.index_snapshot(model_id, with_vectors=True)
        passages = store.passages(snapshot.ids.tolist())
        texts += [" ".join(passages[i].text.split()[:60]) for i in snapshot.ids.tolist()]
        vectors.append(snapshot.vectors)
        store.close()
    return texts, np.vstack(vectors), model_id


PER_DOC = 4  # synthetic passages per synthetic document


def build(size: int, data: Path, texts: list[str], base: np.ndarray, model_id: str) -> None:
    shutil.rmtree(data, ignore_errors=True)
    store = open_store(data)
    rng = np.random.default_rng(size)
    for start in range(0, size, 50_000):  # one transaction per 50,000 passages
        rows = np.arange(start, min(size, start + 50_000))
        vectors = base[rows % len(base)] + NOISE * rng.standard_normal((len(rows), base.shape[1]), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with store.write() as tx:
            for first in range(0, len(rows), PER_DOC):
                number = int(rows[first]) // PER_DOC
                practice = Practice(f"s{number}", f"Synthetic practice {number}", "portal_resource", " ",
                                    domains=(DOMAINS[number % 6],), language="en")
                chunks = [Chunk(j, None, texts[int(i) % len(texts)], texts[int(i) % len(texts)])
                          for j, i in enumerate(rows[first:first + PER_DOC])]
                tx.put_document(practice, chunks, vectors[first:first + PER_DOC], model_id, "")
    store.close()


def _queries() -> list[str]:
    texts = []
    for path in (REPO / "corpus" / "eval" / "queries.jsonl", SCIFACT / "queries.jsonl"):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts[:QUERIES]


def _latency(fn, queries) -> tuple[float, float]:
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), percentile(times, 95)


def run() -> dict:
    texts, base, model_id = _real_passages()
    # the model of the stored vectors (the default one): another model would see an empty index
    embedder = passage_embedder(Settings.from_env(data=str(OUT)))
    assert embedder.model_id == model_id, (embedder.model_id, model_id)
    queries = _queries()
    figures: dict = {}
    start = time.perf_counter()
    for label, size in SIZES.items():
        data = OUT / f"scale-{label}"
        store_ok = store_exists(data) and open_store(data).passage_count(model_id) == size
        if not store_ok:
            t = time.perf_counter()
            build(size, data, texts, base, model_id)
            figures[f"scale_build_s_{label}"] = round(time.perf_counter() - t, 1)
        kb = KnowledgeBase(data, embedder=embedder, settings=Settings.from_env(data=str(data)))
        t = time.perf_counter()
        kb.refresh_index()  # the index kind chosen automatically for this size
        figures[f"index_kind_{label}"] = kb.index.kind
        figures[f"index_load_s_{label}"] = round(time.perf_counter() - t, 1)
        # real query embeddings, aligned as a search aligns them, and cached before any timing
        vectors = {q: kb.queries.vector(q) for q in queries}
        assert kb.index.count() == size, (kb.index.count(), size)
        for mode in ("dense", "keyword", "hybrid"):
            p50, p95 = _latency(lambda q: search(kb, q, k=10, mode=mode, correct=False), queries)
            figures[f"{mode}_p50_ms_{label}"], figures[f"{mode}_p95_ms_{label}"] = round(p50, 2), round(p95, 2)
        if kb.index.kind == "ivf":  # compare with exact search over the same vectors
            snapshot = kb.store.index_snapshot(model_id, with_vectors=True)
            exact = FaissIndex.build(snapshot.ids, snapshot.vectors, "flat")
            del snapshot
            approximate = kb.index
            figures[f"ivf_recall_at_10_{label}"] = round(float(np.mean(
                [len(set(exact.search(vectors[q], 10)[1]) & set(approximate.search(vectors[q], 10)[1])) / 10
                 for q in queries])), 4)
            figures[f"ivf_search_p50_ms_{label}"] = round(_latency(lambda q: approximate.search(vectors[q], 10), queries)[0], 2)
            figures[f"flat_search_p50_ms_{label}"] = round(_latency(lambda q: exact.search(vectors[q], 10), queries)[0], 2)
            del exact
        else:
            figures[f"flat_search_p50_ms_{label}"] = round(_latency(lambda q: kb.index.search(vectors[q], 10), queries)[0], 2)
        kb.close()
    figures["scale_seconds"] = round(time.perf_counter() - start, 1)
    return figures
