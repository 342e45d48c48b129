"""Memory and first requests (issue 29): `kb index`'s peak with and without making the ONNX export,
the export's size, and on a server just started: the first case notes published, the explorer,
partner suggestions and a filter change.

Memory is the peak of the summed resident memory of the command and every process it starts,
sampled every 20 ms (an export made in a process of its own counts with the command that waits
for it). Times are each request's whole time as a client on this machine sees it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.common import OUT, REPO, kb, percentile
from bench.latency import free_port, serve

NOTES = 6  # published one after another after a start; the first is reported alone
REQUESTS = 15  # of each page, after its first


def _tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_tree_mb(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Run `command`; the peak of its process tree's summed RSS in MB."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_rss_kb(p) for p in _tree(proc.pid)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {err[-2000:]}")
    return round(peak / 1024, 1), subprocess.CompletedProcess(command, proc.returncode, out, err)


def _index(data: Path) -> tuple[float, dict]:
    peak, done = peak_tree_mb([sys.executable, "-m", "kb", "index", "--corpus", str(REPO / "corpus"),
                               "--data", str(data), "--json"])
    return peak, json.loads(done.stdout)


def indexing() -> tuple[dict, Path]:
    first, second = OUT / "lean-first", OUT / "lean-second"
    for folder in (first, second):
        shutil.rmtree(folder, ignore_errors=True)
    with_export, report = _index(first)
    second.mkdir(parents=True)
    shutil.copytree(first / "onnx", second / "onnx")  # an export of the same model: not made again
    without_export, _ = _index(second)
    export_mb = sum(f.stat().st_size for f in (first / "onnx").iterdir()) / 1e6
    return {"index_peak_rss_mb_with_export": with_export, "index_peak_rss_mb_without_export": without_export,
            "onnx_export_mb": round(export_mb, 1), "lean_index_passages": report["passages_embedded"]}, first


def _timed(client: httpx.Client, method: str, url: str, **kwargs) -> float:
    start = time.perf_counter()
    client.request(method, url, **kwargs).raise_for_status()
    return (time.perf_counter() - start) * 1000


def first_requests(shipped: Path) -> dict:
    """A copy of `shipped` served by 2 workers; each figure's first request comes right after the
    server first answers (its workers still preparing the explorer's views in the background)."""
    data = OUT / "lean-serve"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(shipped, data)
    token = json.loads(kb("users", "add", "bench-lean-pilot", "--city", "Umeå", "--role", "pilot", "--json",
                          "--data", str(data)).stdout)["token"]
    figures = {}
    for name, method, path, kwargs in (
            ("explorer", "GET", "/explorer", {}),
            ("partners", "POST", "/api/partners",
             {"json": {"challenge": "Our district heating burns coal; we want heat pumps and waste heat instead."}}),
            ("filter", "GET", "/", {"params": {"q": "energy communities", "domain": "energy"},
                                    "headers": {"HX-Request": "true"}}),
            ("publish", "POST", "/api/notes", {"headers": {"Authorization": f"Bearer {token}"}})):
        port = free_port()
        proc = serve(data, port, 2)
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=120) as client:
                times = []
                for i in range(1 + (NOTES - 1 if name == "publish" else REQUESTS)):
                    if name == "publish":
                        kwargs = {**kwargs, "json": {
                            "title": f"Heat pumps in schools, bench note {i} {time.time_ns()}",
                            "challenge": "Twelve schools were heated with oil boilers.",
                            "what_was_done": "Ground-source heat pumps replaced the boilers. " * 12,
                            "results": "Oil use fell to nothing; running costs fell by a third.",
                            "domains": ["energy"]}}
                    times.append(_timed(client, method, url + path, **kwargs))
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
        figures[f"{name}_first_ms_after_start"] = round(times[0], 1)
        figures[f"{name}_later_p50_ms"] = round(percentile(times[1:], 50), 1)
        figures[f"{name}_later_max_ms"] = round(max(times[1:]), 1)
    return figures


def run() -> dict:
    figures, shipped = indexing()
    figures.update(first_requests(shipped))
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
