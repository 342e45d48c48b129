"""`make bench`: indexing throughput, embedding throughput against plain sentence-transformers,
re-index time, /api/search latency, app servers sharing a PostgreSQL store, backups and restores,
the search log's cost and the knowledge gaps page, memory and a server's first requests;
printed as one table and saved to bench/results.json."""

from __future__ import annotations

from bench import backups, embedding, indexing, insights, latency, lean, replicas, scale
from bench.common import OUT, RESULTS, save, table

ROWS = [
    ("scifact_documents", "SciFact documents indexed", ""),
    ("scifact_index_chunks_per_s", "SciFact kb index, passages/s", "whole pipeline: read, chunk, embed, store"),
    ("shipped_index_chunks_per_s", "Shipped corpus kb index, passages/s", "default model"),
    ("explorer_p50_ms", "/explorer p50 ms, from cache", "after the first request"),
    ("embed_baseline_chunks_per_s", "Plain sentence-transformers fp32, passages/s", "baseline, same run"),
    ("embed_fp32_chunks_per_s", "all-MiniLM-L6-v2 fp32, passages/s", ""),
    ("embed_bf16_chunks_per_s", "all-MiniLM-L6-v2 bf16, passages/s", ""),
    ("embed_speedup_vs_baseline", "Speed-up of the precision in use", "x baseline"),
    ("embed_bf16_min_cosine_vs_fp32", "bf16 vs fp32, lowest cosine", ""),
    ("reindex_unchanged_shipped_s", "Re-index unchanged shipped corpus, s", "median of 3, whole command"),
    ("reindex_unchanged_300_s", "Re-index unchanged 300 documents, s", "median of 3, whole command"),
    ("embed_onnx_fp32_chunks_per_s", "ONNX Runtime fp32, passages/s", "not used for passages: slower"),
    ("e5_embed_chunks_per_s", "multilingual-e5-small (default), passages/s", "SciFact passages of up to 510 tokens"),
    ("e5_embed_onnx_fp32_chunks_per_s", "multilingual-e5-small by its fp32 export, passages/s",
     "an app server's case notes (no PyTorch)"),
    ("e5_query_embed_torch_p50_ms", "e5 query embedding p50 ms, PyTorch", "one thread"),
    ("e5_query_embed_fp32_p50_ms", "e5 query embedding p50 ms, ONNX Runtime fp32", ""),
    ("e5_query_embed_int8_p50_ms", "e5 query embedding p50 ms, ONNX Runtime int8", "in use"),
    ("e5_query_int8_min_cosine_vs_fp32", "e5 int8 query vs fp32, lowest cosine", "302 eval queries"),
    ("query_embed_baseline_p50_ms", "MiniLM query embedding p50 ms, sentence-transformers", "baseline; one thread"),
    ("query_embed_fp32_p50_ms", "MiniLM query embedding p50 ms, ONNX Runtime fp32", ""),
    ("query_embed_int8_p50_ms", "MiniLM query embedding p50 ms, ONNX Runtime int8", ""),
    ("query_embed_speedup_vs_baseline", "Query embedding speed-up, int8", "x baseline"),
    ("query_int8_min_cosine_vs_fp32", "int8 query vs fp32, lowest cosine", "92 eval queries"),
    *[(f"{mode}_{stat}_ms_{size}", f"{mode.capitalize()} search {stat} ms, {size} passages",
       "index: " + ("flat" if size == "10k" else "ivf") if mode == "dense" and stat == "p50" else "")
      for size in ("10k", "100k", "1m") for mode in ("dense", "keyword", "hybrid") for stat in ("p50", "p95")],
    ("flat_search_p50_ms_1m", "Exact FAISS search p50 ms, 1M", "baseline for the ivf index"),
    ("ivf_search_p50_ms_1m", "IVF FAISS search p50 ms, 1M", ""),
    ("ivf_recall_at_10_100k", "IVF recall@10 vs exact, 100k", ""),
    ("ivf_recall_at_10_1m", "IVF recall@10 vs exact, 1M", ""),
    ("api_search_p50_ms_c1_w1", "/api/search p50 ms, 1 client, 1 worker", "distinct queries"),
    *[(f"api_search_{kind}{stat}_ms_c{c}", f"/api/search {stat} ms, {c} clients{', repeated' if kind else ''}",
       f"2 workers; {'92 queries recurring' if kind else 'distinct queries'}; median of {latency.ROUNDS} rounds")
      for c in (1, 8, 32) for kind in ("", "repeated_") for stat in ("p50", "p95")],
    *[(f"api_search_rps_c{c}", f"/api/search requests/s, {c} clients", "distinct queries") for c in (1, 8, 32)],
    ("healthz_p50_ms_c8", "/healthz p50 ms, 8 clients", "server floor, same run"),
    ("serve_peak_rss_mb_w1", "Server peak RSS MB, 1 worker", "shipped corpus"),
    ("serve_peak_rss_mb_w2", "Server peak RSS MB, 2 workers", "both processes"),
    *[(f"{name}_api_search_{stat}_c{c}", f"/api/search {stat.replace('_', ' ')}, {c} clients, {label}", note)
      for c in (8, 32) for name, label, note in (
          ("sqlite_w2", "SQLite", "baseline, same run: one server, 2 workers"),
          ("replicas2", "PostgreSQL", "two app servers, 1 worker each, one PostgreSQL"))
      for stat in ("p50_ms", "p95_ms", "rps")],
    ("replica_catch_up_p50_ms", "Note on one server found on the other, p50 ms", f"{replicas.NOTES} notes"),
    ("replica_catch_up_max_ms", "Note on one server found on the other, max ms", ""),
    ("replica_index_rebuild_s_100k", "New server's index rebuilt from stored vectors, s", "100k passages"),
    ("replica_index_snapshot_load_s_100k", "New server's index from the published snapshot, s", "100k passages"),
    *[(f"{name}_{label}", f"{title}, {label}", note) for label in ("shipped", "100k") for name, title, note in (
        ("backup_s", "kb backup, s", "whole command, median of 3"), ("restore_s", "kb restore, s", "index rebuilt"),
        ("backup_mb", "Backup size, MB", ""), ("backup_vs_folder_copy", "Backup time / copying the data folder", "x"))],
    *[(f"search_log_{state}_p50_ms_c{c}", f"/api/search p50 ms, {c} client{'s' if c > 1 else ''}, search log {state}",
       "2 workers; recurring queries; median of 3 alternating rounds") for c in (1, 8) for state in ("off", "on")],
    *[(f"search_log_on_vs_off_c{c}", f"Search log on / off, {c} client{'s' if c > 1 else ''}", "x") for c in (1, 8)],
    ("gaps_first_ms_100k", "Knowledge gaps, first view 5 s after a start, ms", "100,000 logged searches"),
    ("gaps_p50_ms_100k", "Knowledge gaps, later views p50 ms", "kept per state of the log"),
    ("gaps_after_a_search_p50_ms_100k", "Knowledge gaps, first view after a new search, p50 ms", "counted again"),
    ("index_peak_rss_mb_with_export", "kb index peak MB, making the ONNX export", "shipped corpus; all its processes"),
    ("index_peak_rss_mb_without_export", "kb index peak MB, export already made", "shipped corpus"),
    ("onnx_export_mb", "ONNX export folder, MB", "both variants"),
    *[(f"{name}_{stat}", f"{label}, {title}", note if stat.startswith("first") else "")
      for name, label, note in (("publish", "First case note (API)", "2 workers, just started"),
                                ("explorer", "/explorer", "2 workers, just started"),
                                ("partners", "POST /api/partners", "2 workers, just started"),
                                ("filter", "A filter change (htmx)", "2 workers, just started"))
      for stat, title in (("first_ms_after_start", "first after a start, ms"), ("later_p50_ms", "later p50 ms"),
                          ("later_max_ms", "later max ms"))],
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {}
    for name, part in (("indexing", indexing), ("embedding", embedding), ("scale", scale), ("latency", latency),
                       ("replicas", replicas), ("backups", backups), ("insights", insights), ("lean", lean)):
        print(f"[bench] {name} …", flush=True)
        figures.update(part.run())
        save(figures)
    rows = [(label, str(figures[key]), note) for key, label, note in ROWS if key in figures]
    print()
    print(table(rows, "make bench"))
    print(f"\nAll figures: {RESULTS.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
