import math

import pytest

from kb.evaluation import EvaluationError, Query, evaluate, load_qrels, load_queries, mrr_at, ndcg_at, recall_at, write_run


def test_metrics_follow_the_standard_definitions():
    judged = {"a": 2, "b": 1, "c": 0}
    assert ndcg_at(["a", "b"], judged) == pytest.approx(1.0)
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(["b", "a"], judged) == pytest.approx(dcg / idcg)
    assert ndcg_at(["x"] * 10 + ["a"], judged) == 0.0  # beyond the cut-off
    assert recall_at(["a", "x"], judged) == 0.5
    assert mrr_at(["c", "x", "b"], judged) == pytest.approx(1 / 3)
    assert mrr_at(["x"], judged) == 0.0


def test_evaluate_averages_over_judged_queries_and_writes_a_trec_run(tmp_path):
    queries = [Query("1", "q", {}), Query("2", "q", {}), Query("3", "unjudged", {})]
    qrels = {"1": {"a": 1}, "2": {"b": 1}}
    metrics, run = evaluate(queries, qrels, lambda q: [("a", 0.9), ("b", 0.5)])
    assert metrics == {"queries": 2, "ndcg@10": round((1 + 1 / math.log2(3)) / 2, 4), "recall@100": 1.0,
                       "mrr@10": 0.75}
    write_run(run, tmp_path / "run.txt", "test")
    assert (tmp_path / "run.txt").read_text().splitlines()[1] == "1 Q0 b 2 0.500000 test"


def test_bad_files_name_the_line(tmp_path):
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "x"}\n{"text": "no id"}\n')
    with pytest.raises(EvaluationError, match="q.jsonl:2"):
        load_queries(tmp_path / "q.jsonl")
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n1\ta\tmany\n")
    with pytest.raises(EvaluationError, match="qrels.tsv:2"):
        load_qrels(tmp_path / "qrels.tsv")
    (tmp_path / "noheader.tsv").write_text("1\ta\t1\n")
    with pytest.raises(EvaluationError, match="header"):
        load_qrels(tmp_path / "noheader.tsv")
