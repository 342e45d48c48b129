"""Sync a corpus into the knowledge base: embed what is new or changed, drop what left."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from kb.core import Core
from kb.documents import fingerprint
from kb.live_index import IndexState
from kb.matching import is_added

from indexer.sources import Corpus


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages_embedded: int = 0
    seconds: float = 0.0
    index: IndexState | None = None
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
            "unchanged": self.unchanged, "passages_embedded": self.passages_embedded,
            "seconds": round(self.seconds, 2), "index": asdict(self.index) if self.index else None,
            "errors": self.errors,
        }


class _Bar:
    """tqdm over documents, with documents and passages per second in its postfix."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="doc", disable=not enabled, dynamic_ncols=True, leave=True)
        self.start = time.perf_counter()
        self.docs = 0
        self.passages = 0

    def __call__(self, docs: int, passages: int) -> None:
        self.docs += docs
        self.passages += passages
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{self.docs / elapsed:.1f} docs/s, {self.passages / elapsed:.1f} chunks/s")
        self.bar.update(docs)

    def close(self) -> None:
        self.bar.close()


def sync(kb: Core, corpus: Corpus, *, progress: bool = False, rebuild: bool = False) -> SyncReport:
    """Bring the store and index in line with `corpus`.

    Documents whose file failed to load keep their previously indexed version; documents that
    did not come from a corpus file (published notes) are never removed by a sync."""
    started = time.perf_counter()
    report = SyncReport(errors=[str(e) for e in corpus.errors])
    stored = kb.store.stored_documents()
    model_id = kb.model_id
    todo = []
    for practice in corpus.practices:
        before = stored.get(practice.id)
        if before is None:
            report.added.append(practice.id)
        elif rebuild or before.content_hash != fingerprint(practice) or before.model_id != model_id:
            report.updated.append(practice.id)
        else:
            report.unchanged += 1
            continue
        todo.append(practice)

    present = {p.id for p in corpus.practices}
    report.removed = sorted(
        doc_id for doc_id, doc in stored.items()
        if doc.path is not None and doc_id not in present and doc.path not in corpus.failed_paths
    )

    for ref, original in corpus.originals.items():  # before the documents that link to them
        if not kb.files.has(ref):
            kb.files.keep(ref, original.read_bytes())
    if todo:
        bar = _Bar(len(todo), progress)
        try:
            report.passages_embedded = kb.ingest(todo, progress=bar)
        finally:
            bar.close()
    kb.remove(report.removed)
    if corpus.cities is not None:
        # cities taken in between syncs (kb cities add) stay, unless the corpus now profiles them
        listed = {c.city.casefold() for c in corpus.cities}
        cities = corpus.cities + [c for c in kb.store.cities() if is_added(c) and c.city.casefold() not in listed]
        if sorted(cities, key=_name) != sorted(kb.store.cities(), key=_name):
            with kb.store.write() as tx:  # a new store version: views cached per version see the cities
                tx.replace_cities(cities)
    report.index = kb.refresh_index()
    kb.save_index()
    report.seconds = time.perf_counter() - started
    return report


def _name(city) -> str:
    return city.city
