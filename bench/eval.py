"""`make eval`: nDCG@10, Recall@100 and MRR@10 for every search mode on SciFact and corpus/eval.

Indexes each collection into bench/out first (incrementally: a second run embeds nothing)."""

from __future__ import annotations

import json

from bench.common import OUT, REPO, SCIFACT, kb, save

COLLECTIONS = {
    "scifact": (SCIFACT / "corpus.jsonl", SCIFACT / "queries.jsonl", SCIFACT / "qrels" / "test.tsv"),
    "corpus": (REPO / "corpus", REPO / "corpus" / "eval" / "queries.jsonl", REPO / "corpus" / "eval" / "qrels.tsv"),
}
MODES = ("dense", "keyword", "hybrid")
# The same SciFact index embedded in fp32: bf16 must leave rankings as they are (nDCG@10 within 0.005).
# Queries are embedded by the int8 ONNX export unless KB_QUERY_ENCODER says otherwise.
FP32 = "scifact-fp32"


def main() -> None:
    rows = []
    figures = {}
    for name, (corpus, queries, qrels) in COLLECTIONS.items():
        data = OUT / ("scifact" if name == "scifact" else "shipped")
        kb("index", "--corpus", str(corpus), "--data", str(data), "--json", check=False)
        for mode in MODES:
            out = kb("eval", "--queries", str(queries), "--qrels", str(qrels), "--mode", mode, "--data", str(data),
                     "--run", str(OUT / f"run-{name}-{mode}.txt"), "--json")
            metrics = json.loads(out.stdout)
            rows.append((name, mode, metrics))
            figures.update({f"eval_{name}_{mode}_{m.replace('@', '_at_')}": v for m, v in metrics.items() if m != "queries"})
    corpus, queries, qrels = COLLECTIONS["scifact"]
    data = OUT / FP32
    fp32 = {"KB_PRECISION": "fp32", "KB_QUERY_ENCODER": "torch"}  # passages and queries
    kb("index", "--corpus", str(corpus), "--data", str(data), "--json", check=False, env=fp32)
    out = kb("eval", "--queries", str(queries), "--qrels", str(qrels), "--mode", "dense", "--data", str(data),
             "--json", env=fp32)
    metrics = json.loads(out.stdout)
    rows.append((FP32, "dense", metrics))
    figures["eval_scifact_fp32_dense_ndcg_at_10"] = metrics["ndcg@10"]
    # Queries embedded by PyTorch instead of the int8 ONNX export: int8 must not change rankings.
    for mode in ("dense", "hybrid"):
        out = kb("eval", "--queries", str(queries), "--qrels", str(qrels), "--mode", mode,
                 "--data", str(OUT / "scifact"), "--json", env={"KB_QUERY_ENCODER": "torch"})
        metrics = json.loads(out.stdout)
        rows.append(("scifact", f"{mode}, torch queries", metrics))
        figures[f"eval_scifact_{mode}_torch_queries_ndcg_at_10"] = metrics["ndcg@10"]
    save(figures)
    print(f"{'collection':<12} {'mode':<20} {'queries':>7} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7}")
    for name, mode, m in rows:
        print(f"{name:<12} {mode:<20} {m['queries']:>7} {m['ndcg@10']:>8.4f} {m['recall@100']:>7.4f} {m['mrr@10']:>7.4f}")
    print("\nPublished nDCG@10 on SciFact: all-MiniLM-L6-v2 0.645, BM25 0.665. Run files: bench/out/run-*.txt")


if __name__ == "__main__":
    main()
