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


def run() -> dict:
    figures = {}
    scifact = OUT / "scifact"
    shutil.rmtree(scifact, ignore_errors=True)
    report = index(SCIFACT / "corpus.jsonl", scifact)
    figures.update({
        "scifact_documents": report["added"],
        "scifact_passages": report["passages_embedded"],
        "scifact_index_s": report["seconds"],
        "scifact_index_chunks_per_s": round(report["passages_embedded"] / report["seconds"], 1),
    })

    shipped = OUT / "shipped"
    shutil.rmtree(shipped, ignore_errors=True)
    report = index(REPO / "corpus", shipped)
    figures.update({
        "shipped_documents": report["added"],
        "shipped_passages": report["passages_embedded"],
        "shipped_index_chunks_per_s": round(report["passages_embedded"] / report["seconds"], 1),
    })
    reindex, _ = timed(lambda: index(REPO / "corpus", shipped))
    figures["reindex_unchanged_shipped_s"] = round(reindex, 2)

    corpus_300, data_300 = three_hundred_documents(), OUT / "data-300"
    shutil.rmtree(data_300, ignore_errors=True)
    first = index(corpus_300, data_300)
    reindex_300, _ = timed(lambda: index(corpus_300, data_300))
    figures["reindex_unchanged_300_docs"] = first["added"]
    figures["reindex_unchanged_300_s"] = round(reindex_300, 2)
    return figures
