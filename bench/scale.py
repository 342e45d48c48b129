"""Query latency at 10k, 100k and 1M passages: synthetic stored vectors, real query embeddings.

Synthetic passages reuse the text of real ones (SciFact and the shipped corpus, cut to 60 words)
and their vectors plus a little noise, so vectors and words are distributed like real data.
Each store is built once into bench/out/scale-N and reused by later runs."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from bench.common import OUT, REPO, SCIFACT, percentile
from kb._sentence_transformers import SentenceTransformerEmbedder
from kb.knowledge_base import KnowledgeBase
from kb.search import search
from kb.settings import Settings
from kb.store import Store
from kb.vector_index import FaissIndex

import os

SIZES = {k: v for k, v in {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}.items()
         if v <= int(os.environ.get("KB_BENCH_MAX_SIZE", 1_000_000))}
QUERIES = 100
NOISE = 0.03
DOMAINS = ("energy", "buildings", "mobility", "waste-circular", "industry", "green-infrastructure")


def _real_passages() -> tuple[list[str], np.ndarray, str]:
    texts, vectors, model_id = [], [], None
    for name in ("scifact", "shipped"):
        store = Store(OUT / name / "kb.sqlite3")
        for text, blob, model_id in store.db.execute("SELECT text, vector, model_id FROM chunks"):
            texts.append(" ".join(text.split()[:60]))
            vectors.append(np.frombuffer(blob, dtype=np.float32))
        store.close()
    return texts, np.vstack(vectors), model_id


def build(size: int, data: Path, texts: list[str], base: np.ndarray, model_id: str) -> None:
    shutil.rmtree(data, ignore_errors=True)
    store = Store(data / "kb.sqlite3")
    rng = np.random.default_rng(size)
    per_doc = 4
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO documents (id, title, kind, domains, body, content_hash, model_id) VALUES (?, ?, ?, ?, '', '', ?)",
            [(f"s{d}", f"Synthetic practice {d}", "portal_resource", json.dumps([DOMAINS[d % 6]]), model_id)
             for d in range(size // per_doc)],
        )
        for start in range(0, size, 50_000):
            rows = np.arange(start, min(size, start + 50_000))
            vectors = base[rows % len(base)] + NOISE * rng.standard_normal((len(rows), base.shape[1]), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            db.executemany(
                "INSERT INTO chunks (id, doc_id, ordinal, section, text, content_hash, model_id, vector) "
                "VALUES (?, ?, ?, NULL, ?, '', ?, ?)",
                [(int(i) + 1, f"s{int(i) // per_doc}", int(i) % per_doc, texts[int(i) % len(texts)], model_id,
                  v.tobytes()) for i, v in zip(rows, vectors)],
            )
            db.executemany("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, '', '', ?)",
                           [(int(i) + 1, texts[int(i) % len(texts)]) for i in rows])
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
    embedder = SentenceTransformerEmbedder()
    queries = _queries()
    vectors = {q: v for q, v in zip(queries, embedder.embed(queries))}
    figures: dict = {}
    start = time.perf_counter()
    for label, size in SIZES.items():
        data = OUT / f"scale-{label}"
        store_ok = (data / "kb.sqlite3").exists() and Store(data / "kb.sqlite3").chunk_count(model_id) == size
        if not store_ok:
            t = time.perf_counter()
            build(size, data, texts, base, model_id)
            figures[f"scale_build_s_{label}"] = round(time.perf_counter() - t, 1)
        kb = KnowledgeBase(data, embedder=embedder, settings=Settings(data=data, model=None, precision="auto"))
        t = time.perf_counter()
        kb.refresh_index()  # the index kind chosen automatically for this size
        figures[f"index_kind_{label}"] = kb.index.kind
        figures[f"index_load_s_{label}"] = round(time.perf_counter() - t, 1)
        kb._query_cache.update(vectors)  # real query embeddings, computed once above
        for mode in ("dense", "keyword", "hybrid"):
            p50, p95 = _latency(lambda q: search(kb, q, k=10, mode=mode), queries)
            figures[f"{mode}_p50_ms_{label}"], figures[f"{mode}_p95_ms_{label}"] = round(p50, 2), round(p95, 2)
        if kb.index.kind == "ivf":  # compare with exact search over the same vectors
            ids, matrix = kb.store.vectors(model_id)
            exact = FaissIndex.build(ids, matrix, "flat")
            del ids, matrix
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
