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

REQUESTS = {1: 200, 8: 400}


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


def _serve(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--data", str(data), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("kb serve did not start")


def _load(url: str, path: str, queries: list[str], clients: int) -> tuple[list[float], float]:
    def one(i: int) -> float:
        with httpx.Client(timeout=30) as client:  # a connection per request, as separate users would
            start = time.perf_counter()
            client.get(url + path, params={"q": queries[i % len(queries)]} if queries else None).raise_for_status()
            return (time.perf_counter() - start) * 1000

    n = REQUESTS[clients]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, range(n)))
    return latencies, n / (time.perf_counter() - start)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def run(data: Path = OUT / "shipped") -> dict:
    port = _port()
    proc = _serve(data, port)
    url = f"http://127.0.0.1:{port}"
    figures = {}
    try:
        queries = _queries()
        _load(url, "/api/search", queries[-50:], 1)  # warm-up with queries not measured below
        offset = 0
        for clients in REQUESTS:
            measured = queries[offset:offset + REQUESTS[clients]]
            offset += REQUESTS[clients]
            latencies, throughput = _load(url, "/api/search", measured, clients)
            floor, _ = _load(url, "/healthz", [], clients)
            figures[f"api_search_p50_ms_c{clients}"] = round(percentile(latencies, 50), 1)
            figures[f"api_search_p95_ms_c{clients}"] = round(percentile(latencies, 95), 1)
            figures[f"api_search_rps_c{clients}"] = round(throughput, 1)
            figures[f"healthz_p50_ms_c{clients}"] = round(percentile(floor, 50), 1)
        figures["serve_peak_rss_mb"] = _peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return figures
