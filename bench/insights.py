"""The search log's cost and the insights' speed: /api/search with the log on against off in the
same run (rounds alternate, each on a fresh server), and the knowledge gaps page over 100,000
logged searches: its first view 5 s after a start (the server finds them in the background as it
starts; found from nothing they take about 0.4 s), later ones (kept), and the
first after a new search (counted again; the grouping and the nearest practices kept while the
texts are the same)."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
from pathlib import Path

import httpx

from bench.common import OUT, REPO
from bench.latency import free_port, serve, texts_of, wrk, write_paths

ROUNDS = 5
SEARCHES = 100_000
TEXTS = 1_200  # distinct texts among them: the eval queries, restated


def _search_p50(data: Path, days: str, clients: int, paths: Path) -> float:
    os.environ["KB_SEARCH_LOG_DAYS"] = days
    try:
        port = free_port()
        proc = serve(data, port, 2)
    finally:
        del os.environ["KB_SEARCH_LOG_DAYS"]
    try:
        url = f"http://127.0.0.1:{port}"
        wrk(url, paths, 4, seconds=2)
        return wrk(url, paths, clients)["p50_ms"]
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def log_on_against_off(data: Path) -> dict:
    paths = write_paths("insights", "/api/search", texts_of(REPO / "corpus" / "eval" / "queries.jsonl"))
    figures = {}
    for clients in (1, 8):
        on, off = [], []
        for n in range(ROUNDS):  # which goes first alternates too: a fresh machine favours neither
            for days in ("0", "180") if n % 2 == 0 else ("180", "0"):
                (off if days == "0" else on).append(_search_p50(data, days, clients, paths))
        figures[f"search_log_off_p50_ms_c{clients}"] = round(statistics.median(off), 2)
        figures[f"search_log_on_p50_ms_c{clients}"] = round(statistics.median(on), 2)
        figures[f"search_log_on_vs_off_c{clients}"] = round(statistics.median(on) / statistics.median(off), 3)
    return figures


def _seed(data: Path) -> str:
    """100,000 searches of the last 90 days, half of them weak, with their texts' vectors as the
    log keeps them (written by the searches themselves); a matching team account's API token."""
    from kb.insights import days_ago, new_name, text_hash
    from kb.knowledge_base import KnowledgeBase
    from kb.settings import Settings
    from kb.store import LoggedSearch

    kb = KnowledgeBase.open(Settings.from_env(data=str(data)))
    base = texts_of(REPO / "corpus" / "eval" / "queries.jsonl")
    texts = [f"{text} {suffix}".strip() for suffix in ("", "please", "in our city", "how to") for text in base][:TEXTS]
    draw = random.Random(30)
    weights = [1 / (rank + 1) for rank in range(len(texts))]  # some needs far more asked than others
    rows = []
    for text in draw.choices(texts, weights, k=SEARCHES):
        rows.append(LoggedSearch(new_name(), days_ago(draw.randint(0, 89)), text, text_hash(text), "en", "{}",
                                 "hybrid", 20, draw.random() < 0.5, draw.choice(["twin", "anonymous", "pilot"]), "api"))
    with kb.store.write(documents=False) as tx:
        tx.log_searches(rows)
        tx.save_search_vectors(kb.embedder.model_id, {text_hash(t): kb.queries.vector(t) for t in set(texts)})
    token = kb.accounts.add("bench-team", "matching").token
    kb.close()
    return token


def gaps_page(data: Path) -> dict:
    work = OUT / "insights-100k"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(data, work)
    token = _seed(work)
    port = free_port()
    proc = serve(work, port, 1)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            time.sleep(5)  # a person comes later than the first millisecond: the server finds them at start
            start = time.perf_counter()
            first = client.get("/api/insights/gaps")
            first.raise_for_status()
            first_ms = (time.perf_counter() - start) * 1000
            later = []
            for _ in range(20):
                start = time.perf_counter()
                client.get("/api/insights/gaps").raise_for_status()
                later.append((time.perf_counter() - start) * 1000)
            changed = []  # after a new search: the counts again, the grouping kept when its texts are
            for n in range(5):
                client.get("/api/search", params={"q": f"heat pumps for schools {n}"}).raise_for_status()
                time.sleep(1.5)  # the log is written about once a second
                start = time.perf_counter()
                client.get("/api/insights/gaps").raise_for_status()
                changed.append((time.perf_counter() - start) * 1000)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return {"gaps_first_ms_100k": round(first_ms, 1), "gaps_p50_ms_100k": round(statistics.median(later), 1),
            "gaps_after_a_search_p50_ms_100k": round(statistics.median(changed), 1),
            "gaps_groups_100k": len(first.json()["gaps"])}


def run(data: Path = OUT / "shipped") -> dict:
    return {**log_on_against_off(data), **gaps_page(data)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
