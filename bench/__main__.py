"""`make bench`: indexing throughput, embedding throughput against plain sentence-transformers,
re-index time, and /api/search latency; printed as one table and saved to bench/results.json."""

from __future__ import annotations

from bench import embedding, indexing, latency
from bench.common import OUT, RESULTS, save, table

ROWS = [
    ("scifact_documents", "SciFact documents indexed", ""),
    ("scifact_index_chunks_per_s", "SciFact kb index, passages/s", "whole pipeline: read, chunk, embed, store"),
    ("shipped_index_chunks_per_s", "Shipped corpus kb index, passages/s", ""),
    ("embed_baseline_chunks_per_s", "Plain sentence-transformers fp32, passages/s", "baseline, same run"),
    ("embed_fp32_chunks_per_s", "Our embedder fp32, passages/s", ""),
    ("embed_bf16_chunks_per_s", "Our embedder bf16, passages/s", ""),
    ("embed_speedup_vs_baseline", "Speed-up of the precision in use", "x baseline"),
    ("embed_bf16_min_cosine_vs_fp32", "bf16 vs fp32, lowest cosine", ""),
    ("reindex_unchanged_shipped_s", "Re-index unchanged shipped corpus, s", "median of 3, whole command"),
    ("reindex_unchanged_300_s", "Re-index unchanged 300 documents, s", "median of 3, whole command"),
    ("api_search_p50_ms_c1", "/api/search p50 ms, 1 client", "distinct queries, no cache"),
    ("api_search_p95_ms_c1", "/api/search p95 ms, 1 client", ""),
    ("api_search_p50_ms_c8", "/api/search p50 ms, 8 clients", ""),
    ("api_search_p95_ms_c8", "/api/search p95 ms, 8 clients", ""),
    ("api_search_rps_c8", "/api/search requests/s, 8 clients", ""),
    ("healthz_p50_ms_c1", "/healthz p50 ms, 1 client", "server floor, same run"),
    ("serve_peak_rss_mb", "Server peak RSS, MB", "shipped corpus"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {}
    for name, part in (("indexing", indexing), ("embedding", embedding), ("latency", latency)):
        print(f"[bench] {name} …", flush=True)
        figures.update(part.run())
        save(figures)
    rows = [(label, str(figures[key]), note) for key, label, note in ROWS if key in figures]
    print()
    print(table(rows, "make bench"))
    print(f"\nAll figures: {RESULTS.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
