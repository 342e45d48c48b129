"""`kb backup` and `kb restore` timed as a person runs them (whole commands), for the shipped
corpus and the 100,000 passages of the scale part, against a plain copy of the data folder made
in the same run (what stopping the server and copying by hand would cost)."""

from __future__ import annotations

import json
import shutil
import statistics
import time

from bench.common import OUT, kb

SETS = {"shipped": OUT / "shipped", "100k": OUT / "scale-100k"}


def run() -> dict:
    figures = {}
    for label, data in SETS.items():
        if not (data / "kb.sqlite3").exists():
            continue
        work = OUT / f"backup-{label}"
        copies, backups, restores = [], [], []
        for _ in range(3):
            shutil.rmtree(work, ignore_errors=True)
            start = time.perf_counter()
            shutil.copytree(data, work / "copy")
            copies.append(time.perf_counter() - start)
            start = time.perf_counter()
            made = json.loads(kb("backup", str(work / "backups"), "--json", "--data", str(data)).stdout)
            backups.append(time.perf_counter() - start)
            start = time.perf_counter()
            kb("restore", made["backup"], "--data", str(work / "restored"))
            restores.append(time.perf_counter() - start)
        figures[f"backup_s_{label}"] = round(statistics.median(backups), 2)
        figures[f"restore_s_{label}"] = round(statistics.median(restores), 2)
        figures[f"backup_mb_{label}"] = round(made["bytes"] / 1e6, 1)
        figures[f"backup_vs_folder_copy_{label}"] = round(statistics.median(backups) / statistics.median(copies), 2)
        shutil.rmtree(work, ignore_errors=True)
    return figures
