"""Shared pieces of the benchmarks: paths, timing, the results file, and a printed table."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
SHARED = REPO.parent / "shared"
SCIFACT = SHARED / "benchmarks" / "scifact"
RESULTS = REPO / "bench" / "results.json"


def kb(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the kb command as a user would, in a fresh process."""
    return subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True, check=check,
                          env={**os.environ, **(env or {})})


def timed(fn, repeat: int = 3) -> tuple[float, list[float]]:
    """Median wall time of `repeat` calls, and every time."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def save(figures: dict) -> None:
    """Merge figures into bench/results.json (one key per figure, units in the key)."""
    current = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    current.update(figures)
    RESULTS.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")


def table(rows: list[tuple[str, str, str]], title: str) -> str:
    width = max(len(r[0]) for r in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{name:<{width}}  {value:>14}  {note}" for name, value, note in rows]
    return "\n".join(lines)
