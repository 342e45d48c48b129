"""/api/search latency and throughput against a real `kb serve`, at several concurrency levels.

The load comes from wrk (C, one thread, keep-alive connections), so the load generator takes
little of the two cores it shares with the server; each client sends its next request as soon
as the previous one is answered."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.common import OUT, REPO, SCIFACT

CLIENTS = (1, 8, 32)
SECONDS = 5  # per measurement
ROUNDS = 5  # measurements per figure, each on a freshly started server; the median is kept
WORKERS = 2  # one server process per core
WRK = "/usr/bin/wrk"
SCRIPT = REPO / "bench" / "wrk.lua"


def write_paths(name: str, path: str, texts: list[str]) -> Path:
    out = OUT / f"latency-{name}.txt"
    out.write_text("".join(f"{path}?{urlencode({'q': t[:900]})}\n" for t in dict.fromkeys(texts)), encoding="utf-8")
    return out


def texts_of(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data: Path, port: int, workers: int, store: str = "") -> subprocess.Popen:
    """`kb serve` of `data` (over the PostgreSQL store `store`, if given), once it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--data", str(data), "--port", str(port),
                             "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "KB_STORE": store})
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, 9)
    raise RuntimeError("kb serve did not start")


def wrk(url: str, paths: Path, clients: int, seconds: float = SECONDS, start: int = 0) -> dict:
    out = subprocess.run([WRK, "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), url],
                         capture_output=True, text=True, check=True, env={**os.environ, "PATHS": str(paths),
                                                                          "START": str(start)})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} errors against {url}")
    result["rps"] = result["requests"] / result["seconds"]
    return result


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb(pid: int) -> float:
    """Peak RSS of a server and its worker processes, in MB."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return round(sum(_peak_rss_mb(p) for p in pids), 1)


def _explorer_ms(url: str, times: int = 20) -> float:
    """Median time of /explorer after its first request (which computes the view), one client."""
    with httpx.Client(timeout=120) as client:
        client.get(url + "/explorer").raise_for_status()
        durations = []
        for _ in range(times):
            start = time.perf_counter()
            client.get(url + "/explorer").raise_for_status()
            durations.append((time.perf_counter() - start) * 1000)
    return sorted(durations)[times // 2]


def _median(values: list[float]) -> float:
    return round(sorted(values)[len(values) // 2], 1)


def _measure(data: Path, workers: int, clients: int, distinct: Path, repeated: Path, health: Path) -> dict:
    """One round on a fresh server: warm-up with the recurring queries, then distinct queries
    (none seen before: every one is embedded), recurring ones, and the /healthz floor."""
    port = free_port()
    proc = serve(data, port, workers)
    url = f"http://127.0.0.1:{port}"
    try:
        wrk(url, repeated, 4, seconds=2)
        result = {"distinct": wrk(url, distinct, clients), "repeated": wrk(url, repeated, clients),
                  "health": wrk(url, health, clients, seconds=2), "rss": _rss_mb(proc.pid),
                  "explorer": _explorer_ms(url)}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    return result


def run(data: Path = OUT / "shipped") -> dict:
    if not Path(WRK).exists():
        raise RuntimeError("wrk is missing: make bench installs it (scripts/ensure-debian.sh)")
    distinct = write_paths("distinct", "/api/search", texts_of(SCIFACT / "queries.jsonl"))
    repeated = write_paths("repeated", "/api/search", texts_of(REPO / "corpus" / "eval" / "queries.jsonl"))
    health = OUT / "latency-health.txt"
    health.write_text("/healthz\n")
    figures = {}
    for workers, levels in ((1, (1,)), (WORKERS, CLIENTS)):
        for clients in levels:
            rounds = [_measure(data, workers, clients, distinct, repeated, health) for _ in range(ROUNDS)]
            suffix = f"c{clients}" if workers == WORKERS else f"c{clients}_w1"
            for kind, prefix in (("distinct", "api_search_"), ("repeated", "api_search_repeated_")):
                figures[f"{prefix}p50_ms_{suffix}"] = _median([r[kind]["p50_ms"] for r in rounds])
                figures[f"{prefix}p95_ms_{suffix}"] = _median([r[kind]["p95_ms"] for r in rounds])
            figures[f"api_search_rps_{suffix}"] = _median([r["distinct"]["rps"] for r in rounds])
            figures[f"healthz_p50_ms_{suffix}"] = _median([r["health"]["p50_ms"] for r in rounds])
            figures[f"serve_peak_rss_mb_w{workers}"] = max(r["rss"] for r in rounds)
            figures["explorer_p50_ms"] = _median([r["explorer"] for r in rounds])
    figures["api_search_rounds"] = ROUNDS
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
