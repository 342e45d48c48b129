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
    kb("index", "--corpus", str(corpus), "--data", str(data), "--json", check=False, env={"KB_PRECISION": "fp32"})
    out = kb("eval", "--queries", str(queries), "--qrels", str(qrels), "--mode", "dense", "--data", str(data),
             "--json", env={"KB_PRECISION": "fp32"})
    metrics = json.loads(out.stdout)
    rows.append((FP32, "dense", metrics))
    figures["eval_scifact_fp32_dense_ndcg_at_10"] = metrics["ndcg@10"]
    save(figures)
    print(f"{'collection':<10} {'mode':<8} {'queries':>7} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7}")
    for name, mode, m in rows:
        print(f"{name:<10} {mode:<8} {m['queries']:>7} {m['ndcg@10']:>8.4f} {m['recall@100']:>7.4f} {m['mrr@10']:>7.4f}")
    print("\nPublished nDCG@10 on SciFact: all-MiniLM-L6-v2 0.645, BM25 0.665. Run files: bench/out/run-*.txt")


if __name__ == "__main__":
    main()
