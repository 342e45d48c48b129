"""`make eval`: retrieval quality, for the default model (multilingual-e5-small) and
all-MiniLM-L6-v2, on SciFact, NFCorpus and each slice of corpus/eval (dev: what choices were
tuned on; test: held out), in every search mode; then fusion compared, weak-match flags, and
spelling corrections. Indexes each collection into bench/out first (incrementally)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.common import OUT, REPO, SHARED, kb, save
from bench.fusion import compare
from bench.slices import report
from kb.evaluation import load_qrels, load_queries, select
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings

BEIR = {name: (SHARED / "benchmarks" / name / "corpus.jsonl", SHARED / "benchmarks" / name / "queries.jsonl",
               SHARED / "benchmarks" / name / "qrels" / "test.tsv") for name in ("scifact", "nfcorpus")}
CORPUS = (REPO / "corpus", REPO / "corpus" / "eval" / "queries.jsonl", REPO / "corpus" / "eval" / "qrels.tsv")
SLICES = ("documents", "own_words", "languages", "typos")
MODELS = {"e5": {}, "minilm": {"KB_MODEL": "all-MiniLM-L6-v2"}}  # name: environment
MODES = ("dense", "keyword", "hybrid")


def data_dir(model: str, collection: str) -> Path:
    return OUT / (collection if model == "e5" else f"{collection}-{model}")


def evaluate(model: str, collection: str, queries: Path, qrels: Path, extra: tuple[str, ...] = ()) -> dict:
    results = {}
    for mode in MODES:
        out = kb("eval", "--queries", str(queries), "--qrels", str(qrels), "--mode", mode, "--json",
                 "--data", str(data_dir(model, collection)), *extra, env=MODELS[model])
        results[mode] = json.loads(out.stdout)
    return results


def rows_of(model: str) -> list[tuple[str, str, dict]]:
    rows = []
    for name, (corpus, queries, qrels) in BEIR.items():
        kb("index", "--corpus", str(corpus), "--data", str(data_dir(model, name)), "--json", check=False,
           env=MODELS[model])
        rows.append((name, "test", evaluate(model, name, queries, qrels)))
    corpus, queries, qrels = CORPUS
    kb("index", "--corpus", str(corpus), "--data", str(data_dir(model, "shipped")), "--json", check=False,
       env=MODELS[model])
    for slice_ in SLICES:
        for split in ("dev", "test"):
            rows.append((f"corpus/{slice_}", split, evaluate(model, "shipped", queries, qrels,
                                                             ("--slice", slice_, "--split", split))))
    for split in ("dev", "test"):  # every query, the no-answer ones included: the weak-match figures
        rows.append(("corpus/all", split, evaluate(model, "shipped", queries, qrels, ("--split", split))))
    return rows


def fusion_table(model: str) -> list[tuple[str, dict]]:
    os.environ.update(MODELS[model])
    table = []
    for name, (_, queries, qrels) in [*BEIR.items(), ("shipped", CORPUS)]:
        data = data_dir(model, name)
        base = KnowledgeBase(data, settings=Settings.from_env(data=str(data)))
        loaded, judged = load_queries(queries), load_qrels(qrels)
        groups = {name: loaded} if name != "shipped" else {
            f"corpus/{s}/{sp}": select(loaded, s, sp) for s in SLICES for sp in ("dev", "test")}
        for group, items in groups.items():
            table.append((group, compare(base, items, judged)))
        base.close()
    for variable in MODELS[model]:
        os.environ.pop(variable)
    return table


def main() -> None:
    figures = {}
    print(f"{'model':<7} {'collection':<20} {'split':<5} {'mode':<8} {'queries':>7} {'nDCG@10':>8} {'R@100':>7}")
    for model in MODELS:
        for collection, split, by_mode in rows_of(model):
            for mode, m in by_mode.items():
                print(f"{model:<7} {collection:<20} {split:<5} {mode:<8} {m['queries']:>7} {m['ndcg@10']:>8.4f} "
                      f"{m['recall@100']:>7.4f}")
                key = f"eval_{model}_{collection.replace('/', '_')}_{split}_{mode}"
                figures[f"{key}_ndcg_at_10"], figures[f"{key}_recall_at_100"] = m["ndcg@10"], m["recall@100"]
            if collection == "corpus/all":
                weak = by_mode["hybrid"]["weak_match"]
                print(f"        weak match ({split}): no-answer queries flagged {weak['no_answer_flagged']} "
                      f"of {weak['no_answer_queries']}, answerable flagged {weak['answerable_flagged']} "
                      f"of {weak['answerable_queries']}")
                figures[f"eval_{model}_weak_{split}"] = weak
            if collection == "corpus/typos":
                figures[f"eval_{model}_typos_{split}_corrected"] = by_mode["hybrid"]["corrected"]
    print("\nFusion compared (nDCG@10; keyword weight for fixed; adaptive is in use):")
    for model in MODELS:
        for group, scores in fusion_table(model):
            print(f"{model:<7} {group:<28} " + "  ".join(f"{name} {value:.3f}" for name, value in scores.items()))
            figures[f"fusion_{model}_{group.replace('/', '_')}"] = scores
    print("\nAcross languages, parity, paragraphs (e5, shipped corpus; bench/slices.py):")
    slices = report(data_dir("e5", "shipped"))
    print(json.dumps(slices, indent=1))
    figures["eval_e5_slices"] = slices
    save(figures)
    print("\nPublished nDCG@10: SciFact BM25 0.665, all-MiniLM-L6-v2 0.645; NFCorpus BM25 0.325, MiniLM 0.316.")


if __name__ == "__main__":
    main()
