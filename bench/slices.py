"""The slices of corpus/eval that need more than one nDCG figure, part of `make eval`:
questions across languages by direction (nDCG@10 and the best answer's median rank), the
parity of the own-words queries restated in other languages (per language, against their
English originals), and twins' challenges written as paragraphs (search nDCG@10, partners
hit@5 and MRR). Each by split: dev (what choices were tuned on) and test (held out).

    python -m bench.slices DATA   # a knowledge base indexed from corpus/"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from statistics import median

import numpy as np

from kb.evaluation import evaluate_partners, load_partner_cases, load_qrels, ndcg_at
from kb.knowledge_base import KnowledgeBase
from kb.matching import Profile
from kb.settings import Settings

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "corpus" / "eval"
DIRECTIONS = ("en_to_other", "other_to_en", "other_to_other", "same_language")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ranked(kb: KnowledgeBase, text: str, mode: str = "hybrid") -> list[str]:
    return [r.doc_id for r in kb.search(text, k=100, mode=mode).results]


def _best_rank(ranked: list[str], judged: dict[str, int]) -> int:
    """Where the first fully relevant document stands (101: not in the first 100)."""
    return next((i + 1 for i, doc in enumerate(ranked) if judged.get(doc, 0) >= 2), 101)


def crosslang(kb: KnowledgeBase, qrels: dict, mode: str = "hybrid") -> dict:
    rows: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for q in _lines(EVAL / "queries.jsonl"):
        if q.get("slice") != "crosslang" or q["_id"] not in qrels:
            continue
        ranked = _ranked(kb, q["text"], mode)
        rows.setdefault((q["direction"], q["split"]), []).append(
            (ndcg_at(ranked, qrels[q["_id"]]), _best_rank(ranked, qrels[q["_id"]])))
    return {f"{direction}/{split}": {"queries": len(v), "ndcg@10": round(float(np.mean([n for n, _ in v])), 4),
                                     "median_rank": median(r for _, r in v)}
            for (direction, split), v in sorted(rows.items())}


def parity(kb: KnowledgeBase, qrels: dict, mode: str = "hybrid") -> dict:
    """Per language: the restated queries' mean nDCG@10 over their English originals'."""
    queries = {q["_id"]: q for q in _lines(EVAL / "queries.jsonl")}
    by_language: dict[str, list[tuple[float, float]]] = {}
    for q in queries.values():
        if q.get("slice") != "parity" or not any(g >= 1 for g in qrels.get(q["_id"], {}).values()):
            continue
        original = queries[q["original"]]
        by_language.setdefault(q["lang"], []).append(
            (ndcg_at(_ranked(kb, q["text"], mode), qrels[q["_id"]]),
             ndcg_at(_ranked(kb, original["text"], mode), qrels[original["_id"]])))
    table = {lang: round(sum(r for r, _ in v) / max(sum(o for _, o in v), 1e-9), 3)
             for lang, v in sorted(by_language.items())}
    everything = [pair for v in by_language.values() for pair in v]
    table["all"] = round(sum(r for r, _ in everything) / max(sum(o for _, o in everything), 1e-9), 3)
    return table


def paragraphs(kb: KnowledgeBase, qrels: dict) -> dict:
    cases = [c for c in load_partner_cases(EVAL / "partners.jsonl") if c.slice == "paragraphs"]
    out = {}
    for split in ("dev", "test"):
        chosen = [c for c in cases if c.split == split]
        if not chosen:
            continue
        partners, _ = evaluate_partners(chosen, lambda c: [s.city for s in kb.suggest_partners(
            c.challenge, Profile(c.twin, c.country, c.population), k=10).suggestions])
        ndcgs = [ndcg_at(_ranked(kb, c.challenge), qrels[c.id]) for c in chosen if c.id in qrels]
        out[split] = {**partners, "search_ndcg@10": round(float(np.mean(ndcgs)), 4) if ndcgs else None}
    return out


def report(data: Path) -> dict:
    kb = KnowledgeBase(data, settings=Settings.from_env(data=str(data)))
    try:
        qrels = load_qrels(EVAL / "qrels.tsv")
        return {"crosslang": {mode: crosslang(kb, qrels, mode) for mode in ("dense", "hybrid")},
                "parity": {mode: parity(kb, qrels, mode) for mode in ("dense", "hybrid")},
                "paragraphs": paragraphs(kb, qrels)}
    finally:
        kb.close()


if __name__ == "__main__":
    print(json.dumps(report(Path(sys.argv[1])), indent=1))
