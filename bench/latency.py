"""/api/search latency and throughput against a real `kb serve`, at several concurrency levels."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import OUT, REPO, SCIFACT, percentile

REQUESTS = {1: 150, 8: 400, 32: 640}
WORKERS = 2  # one server process per core


def _queries() -> list[str]:
    """Distinct queries, so that the query-embedding cache never answers: the worst case."""
    texts = []
    for path in (REPO / "corpus" / "eval" / "queries.jsonl", SCIFACT / "queries.jsonl"):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(t[:900] for t in texts))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--data", str(data), "--port", str(port),
                             "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
                            start_new_session=True)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, 9)
    raise RuntimeError("kb serve did not start")


def _load(url: str, path: str, queries: list[str], clients: int, n: int) -> tuple[list[float], float]:
    """n requests from `clients` concurrent users, each with its own keep-alive connection."""
    def user(c: int) -> list[float]:
        times = []
        with httpx.Client(timeout=30) as client:
            for i in range(c, n, clients):
                start = time.perf_counter()
                client.get(url + path, params={"q": queries[i % len(queries)]} if queries else None).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
        return times

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for times in pool.map(user, range(clients)) for t in times]
    return latencies, n / (time.perf_counter() - start)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _rss_mb(pid: int) -> float:
    """Peak RSS of a server and its worker processes, in MB."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return round(sum(_peak_rss_mb(p) for p in pids), 1)


def run(data: Path = OUT / "shipped") -> dict:
    """Two workloads: distinct queries (every query embedded anew: the worst case) and repeated
    ones (the 92 eval queries recurring, as when people refine filters or share a search)."""
    queries = _queries()
    repeated = queries[:92]
    figures = {}
    for workers in (1, WORKERS):
        port = _port()
        proc = _serve(data, port, workers)
        url = f"http://127.0.0.1:{port}"
        try:
            _load(url, "/api/search", queries[-60:], 4, 60)  # warm-up, with queries not measured below
            offset = 0
            for clients in ((1,) if workers == 1 else REQUESTS):
                n = REQUESTS[clients]
                suffix = f"c{clients}" if workers == WORKERS else f"c{clients}_w1"
                distinct, rps = _load(url, "/api/search", queries[offset:offset + n], clients, n)
                offset += n
                again, rps_again = _load(url, "/api/search", repeated, clients, n)
                floor, _ = _load(url, "/healthz", [], clients, n)
                figures[f"api_search_p50_ms_{suffix}"] = round(percentile(distinct, 50), 1)
                figures[f"api_search_p95_ms_{suffix}"] = round(percentile(distinct, 95), 1)
                figures[f"api_search_rps_{suffix}"] = round(rps, 1)
                figures[f"api_search_repeated_p50_ms_{suffix}"] = round(percentile(again, 50), 1)
                figures[f"api_search_repeated_p95_ms_{suffix}"] = round(percentile(again, 95), 1)
                figures[f"healthz_p50_ms_{suffix}"] = round(percentile(floor, 50), 1)
            figures[f"serve_peak_rss_mb_w{workers}"] = _rss_mb(proc.pid)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
    return figures
