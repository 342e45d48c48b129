"""Two app servers on this machine over one PostgreSQL store (issue 18), against one server
with two workers over SQLite measured in the same run: /api/search throughput and latency at 8
and 32 clients (new queries), how soon a note published on one server is found on the other,
and what a new server's index costs: a rebuild from stored vectors against a snapshot load."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.common import OUT, REPO, SCIFACT, kb, percentile
from bench.latency import SCRIPT, WRK, free_port, serve, texts_of, write_paths
from kb.live_index import LiveIndex
from kb.store import open_store
from kb.vector_index import IndexFiles

ROUNDS = 3
SECONDS = 5
NOTES = 20


def _serve(data: Path, workers: int, store: str = "") -> tuple[subprocess.Popen, str]:
    port = free_port()
    return serve(data, port, workers, store), f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


def _wrk_all(urls: list[str], paths: Path, clients: int) -> dict:
    """wrk against every server at once, the clients split evenly; requests/s summed, p50 the
    mean of the servers' medians, p95 the worst."""
    runs = [subprocess.Popen([WRK, "-t1", f"-c{clients // len(urls)}", f"-d{SECONDS}s", "--timeout", "10s", "-s",
                              str(SCRIPT), url], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PATHS": str(paths), "START": str(i * 5000)})
            for i, url in enumerate(urls)]
    results = [json.loads(run.communicate()[0].strip().splitlines()[-1]) for run in runs]
    if any(r["errors"] for r in results):
        raise RuntimeError(f"wrk saw errors: {results}")
    return {"rps": sum(r["requests"] / r["seconds"] for r in results),
            "p50_ms": sum(r["p50_ms"] for r in results) / len(results), "p95_ms": max(r["p95_ms"] for r in results)}


def _replica(root: Path, shipped: Path) -> Path:
    folder = root / f"replica-{free_port()}"
    folder.mkdir()
    shutil.copytree(shipped / "onnx", folder / "onnx")  # the query encoder's export depends on the model alone
    return folder


def _load(configs: dict, paths: Path, warm_up: Path) -> dict:
    """Each configuration on fresh servers, warmed up with other queries than those measured,
    so that every measured query is new to the server that answers it."""
    figures = {}
    for name, start in configs.items():
        for clients in (8, 32):
            rounds = []
            for _ in range(ROUNDS):
                procs, urls = start()
                try:
                    _wrk_all(urls, warm_up, 4)  # the first requests load the query encoder
                    rounds.append(_wrk_all(urls, paths, clients))
                finally:
                    for proc in procs:
                        _stop(proc)
            for stat in ("p50_ms", "p95_ms", "rps"):
                value = sorted(r[stat] for r in rounds)[ROUNDS // 2]
                figures[f"{name}_api_search_{stat.replace('_ms', '')}{'_ms' if 'ms' in stat else ''}_c{clients}"] = \
                    round(value, 1)
    return figures


def _catch_up_ms(a: str, b: str, token: str) -> list[float]:
    delays = []
    with httpx.Client(timeout=60) as client:
        for i in range(NOTES):
            marker = f"qzxbenchcatchup{i}x{time.time_ns()}"
            body = {"title": f"Bench note {i} {marker}", "challenge": "Schools burn oil.",
                    "what_was_done": f"Heat pumps were installed ({marker}).", "domains": ["energy"]}
            response = client.post(a + "/api/notes", json=body, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            note_id, published = response.json()["id"], time.perf_counter()
            while True:
                results = client.get(b + "/api/search", params={"q": marker, "k": 1}).json()["results"]
                if results and results[0]["doc_id"] == note_id:
                    break
                time.sleep(0.005)
            delays.append((time.perf_counter() - published) * 1000)
    return delays


def _index_costs(url: str, root: Path) -> dict:
    """A new server's index: rebuilt from the stored vectors, or loaded from the published snapshot."""
    store = open_store(root / "costs", url)
    (model_id,) = store.counts()["models"]
    snapshots = IndexFiles(root / "snapshots")
    times = {}
    for status in ("rebuilt", "snapshot"):
        folder = root / f"costs-{status}"
        started = time.perf_counter()
        state = LiveIndex(store, IndexFiles(folder), "auto", snapshots).refresh(model_id)
        times[status] = time.perf_counter() - started
        assert state.status == status, state
    store.close()
    return {"replica_index_rebuild_s": round(times["rebuilt"], 3), "replica_index_snapshot_load_s":
            round(times["snapshot"], 3), "replica_index_passages": state.count}


def run(shipped: Path = OUT / "shipped") -> dict:
    sys.path.insert(0, str(REPO))
    from tests.pg_cluster import Cluster  # the same throwaway cluster the tests use

    root = OUT / "replicas"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    cluster = Cluster(free_port())
    try:
        url = cluster.new_database()
        kb("store", "copy", "--data", str(shipped), "--to", url, env={"KB_STORE": ""})
        paths = write_paths("replicas", "/api/search", texts_of(SCIFACT / "queries.jsonl"))
        warm_up = write_paths("replicas-warm-up", "/api/search", texts_of(REPO / "corpus" / "eval" / "queries.jsonl"))

        def sqlite():
            proc, address = _serve(shipped, 2)
            return [proc], [address]

        def postgres():
            started = [_serve(_replica(root, shipped), 1, url) for _ in range(2)]
            return [p for p, _ in started], [u for _, u in started]

        figures = _load({"sqlite_w2": sqlite, "replicas2": postgres}, paths, warm_up)
        first, second = _replica(root, shipped), _replica(root, shipped)
        credentials = json.loads(kb("users", "add", "bench-pilot", "--city", "Umeå", "--role", "pilot", "--json",
                                    "--data", str(first), env={"KB_STORE": url}).stdout)
        (a, a_url), (b, b_url) = _serve(first, 1, url), _serve(second, 1, url)
        try:
            delays = _catch_up_ms(a_url, b_url, credentials["token"])
        finally:
            _stop(a)
            _stop(b)
        figures["replica_catch_up_p50_ms"] = round(percentile(delays, 50), 1)
        figures["replica_catch_up_max_ms"] = round(max(delays), 1)
        scale = OUT / "scale-100k"
        if scale.exists():  # bench/scale.py's synthetic 100k passages, when it has run
            big = cluster.new_database()
            kb("store", "copy", "--data", str(scale), "--to", big, env={"KB_STORE": ""})
            figures.update({f"{k}_100k": v for k, v in _index_costs(big, root / "100k").items()})
        figures.update(_index_costs(url, root / "shipped"))
    finally:
        cluster.destroy()
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
