"""Retrieval evaluation with the standard definitions: nDCG@10 (graded gains), Recall@100, MRR@10."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class EvaluationError(ValueError):
    """A queries or qrels file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    filters: dict[str, str]
    slice: str = ""  # how it was written: documents, own_words, languages, typos, no_answer
    split: str = ""  # dev (choices may be tuned on it) or test (held out)
    lang: str = "en"
    no_answer: bool = False  # judged: nothing in the corpus answers it
    corrected: str | None = None  # a typo query as its writer meant it


def _read_jsonl(path: Path, build: Callable[[dict], object], needs: str) -> list:
    """One item per non-blank line; a line that is not JSON, or lacks a field, names itself."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(build(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{number}: {needs} ({exc})") from exc
    return items


def load_queries(path: Path) -> list[Query]:
    return _read_jsonl(
        path, lambda r: Query(str(r["_id"]), r["text"], dict(r.get("filters") or {}), r.get("slice", ""),
                              r.get("split", ""), r.get("lang", "en"), bool(r.get("no_answer")), r.get("corrected")),
        "not a query line with _id and text",
    )


def select(items: list, slice_: str | None = None, split: str | None = None) -> list:
    """The queries (or partner cases) of one slice and split; None means all."""
    return [q for q in items if slice_ in (None, q.slice) and split in (None, q.split)]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV with a header: query-id, corpus-id, score."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        header = next(rows, None)
        if header is None or [h.strip() for h in header[:3]] != ["query-id", "corpus-id", "score"]:
            raise EvaluationError(f"{path}:1: expected the header query-id, corpus-id, score")
        for number, row in enumerate(rows, start=2):
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
            except (IndexError, ValueError) as exc:
                raise EvaluationError(f"{path}:{number}: expected query-id<TAB>corpus-id<TAB>score") from exc
    return qrels


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if judged.get(d, 0) > 0), 0.0)


Searcher = Callable[[Query], list[tuple[str, float]]]


def evaluate(queries: list[Query], qrels: dict[str, dict[str, int]], searcher: Searcher) -> tuple[dict, dict]:
    """Mean metrics over the queries that have judgements, and the run {query id: [(doc, score)]}."""
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q.id, {}).values())]
    run: dict[str, list[tuple[str, float]]] = {}
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for query in judged:
        run[query.id] = searcher(query)
        ranked = [doc for doc, _ in run[query.id]]
        totals["ndcg@10"] += ndcg_at(ranked, qrels[query.id])
        totals["recall@100"] += recall_at(ranked, qrels[query.id])
        totals["mrr@10"] += mrr_at(ranked, qrels[query.id])
    n = max(len(judged), 1)
    return {"queries": len(judged), **{m: round(v / n, 4) for m, v in totals.items()}}, run


def weak_match_rates(queries: list[Query], qrels: dict[str, dict[str, int]], flagged: dict[str, bool]) -> dict:
    """How often queries judged to have no answer were flagged weak, and how often queries with
    a directly answering document (grade 2) were."""
    no_answer = [flagged[q.id] for q in queries if q.no_answer and q.id in flagged]
    answerable = [flagged[q.id] for q in queries if q.id in flagged and 2 in qrels.get(q.id, {}).values()]
    rate = lambda values: round(sum(values) / len(values), 4) if values else None  # noqa: E731
    return {"no_answer_queries": len(no_answer), "no_answer_flagged": rate(no_answer),
            "answerable_queries": len(answerable), "answerable_flagged": rate(answerable)}


def write_run(run: dict[str, list[tuple[str, float]]], path: Path, name: str) -> None:
    """A TREC run file: query-id Q0 doc-id rank score run-name."""
    with open(path, "w", encoding="utf-8") as f:
        for qid, ranked in run.items():
            for rank, (doc_id, score) in enumerate(ranked, start=1):
                f.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {name}\n")


@dataclass(frozen=True)
class PartnerCase:
    """A twin's challenge and the pilot cities a matching team would pair it with, best first."""

    id: str
    twin: str
    challenge: str
    pilots: tuple[str, ...]
    country: str | None = None
    population: int | None = None
    slice: str = ""
    split: str = ""
    weak: bool = False  # judged: no pilot's practice fits


def load_partner_cases(path: Path) -> list[PartnerCase]:
    return _read_jsonl(
        path, lambda r: PartnerCase(str(r["_id"]), r["twin"], r["challenge"], tuple(r["pilots"]),
                                    r.get("country"), r.get("population"), r.get("slice", ""), r.get("split", ""),
                                    bool(r.get("weak"))),
        "needs _id, twin, challenge and pilots",
    )


def evaluate_partners(cases: list[PartnerCase], suggester: Callable[[PartnerCase], list[str]]) -> tuple[dict, dict]:
    """hit@1, hit@5 and MRR of suggested pilot cities against the expected ones (cases judged
    weak, with no fitting pilot, are left out)."""
    hits1 = hits5 = reciprocal = 0.0
    run = {}
    cases = [c for c in cases if c.pilots]
    for case in cases:
        ranked = suggester(case)
        run[case.id] = ranked
        first = next((i for i, city in enumerate(ranked) if city in case.pilots), None)
        hits1 += first == 0
        hits5 += first is not None and first < 5
        reciprocal += 1 / (first + 1) if first is not None else 0.0
    n = max(len(cases), 1)
    return {"challenges": len(cases), "hit@1": round(hits1 / n, 4), "hit@5": round(hits5 / n, 4),
            "mrr": round(reciprocal / n, 4)}, run
