"""Indexing: the whole SciFact collection, the shipped corpus, and re-indexing unchanged corpora."""

from __future__ import annotations

import json
import shutil

from bench.common import OUT, REPO, SCIFACT, kb, timed


def index(corpus, data) -> dict:
    return json.loads(kb("index", "--corpus", str(corpus), "--data", str(data), "--json", check=False).stdout)


def three_hundred_documents():
    """The shipped corpus topped up to 300 documents with SciFact abstracts."""
    folder = OUT / "corpus-300"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(REPO / "corpus", folder, ignore=shutil.ignore_patterns("eval"))
    count = sum(1 for _ in folder.rglob("*.md"))
    lines = (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[: 300 - count]
    (folder / "extra.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def fresh_index(name: str, corpus) -> tuple[dict, object]:
    """Index `corpus` into an empty bench/out/NAME; the figures of that first run."""
    data = OUT / name
    shutil.rmtree(data, ignore_errors=True)
    report = index(corpus, data)
    return {
        f"{name}_documents": report["added"],
        f"{name}_passages": report["passages_embedded"],
        f"{name}_index_s": report["seconds"],
        f"{name}_index_chunks_per_s": round(report["passages_embedded"] / report["seconds"], 1),
    }, data


def run() -> dict:
    figures, _ = fresh_index("scifact", SCIFACT / "corpus.jsonl")
    shipped_figures, shipped = fresh_index("shipped", REPO / "corpus")
    figures.update(shipped_figures)
    reindex, _ = timed(lambda: index(REPO / "corpus", shipped))
    figures["reindex_unchanged_shipped_s"] = round(reindex, 2)

    corpus_300, data_300 = three_hundred_documents(), OUT / "data-300"
    shutil.rmtree(data_300, ignore_errors=True)
    first = index(corpus_300, data_300)
    reindex_300, _ = timed(lambda: index(corpus_300, data_300))
    figures["reindex_unchanged_300_docs"] = first["added"]
    figures["reindex_unchanged_300_s"] = round(reindex_300, 2)
    return figures
