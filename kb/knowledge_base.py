"""The knowledge base: the store, the embedder and the vector index, composed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.chunking import chunk_practice
from kb.documents import Practice
from kb.embedder import Embedder, load_embedder
from kb.settings import Settings
from kb.store import Store
from kb.vector_index import FaissIndex, IndexFiles, choose_kind

INGEST_GROUP = 128  # documents embedded and committed together
QUERY_CACHE_SIZE = 1024  # query vectors kept, oldest dropped first


@dataclass(frozen=True)
class IndexState:
    # "loaded" (the saved index matched the store), "rebuilt" (from stored vectors), "current"
    # (nothing changed), or "caught-up" (with what another process wrote)
    status: str
    count: int
    store_version: int


Progress = Callable[[int, int], None]  # (documents done, passages embedded) since the last call


class KnowledgeBase:
    """Everything a command or a route needs, opened from one data folder."""

    def __init__(self, data: Path, embedder: Embedder | None = None, settings: Settings | None = None):
        self.data = Path(data)
        self.settings = settings or Settings.from_env(data=str(data))
        self.store = Store(self.data / "kb.sqlite3")
        self.index_files = IndexFiles(self.data / "index")
        self._embedder = embedder
        self._index: FaissIndex | None = None
        self._index_version = -1
        self._last_chunk = self._last_deletion = 0  # how far the in-memory index has read the store
        self._owners: dict[int, str] = {}  # passage id -> document id, for every indexed passage
        self._query_cache: dict[str, np.ndarray] = {}
        self._query_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeBase:
        return cls(settings.data, settings=settings)

    def close(self) -> None:
        self.store.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.precision, self.data / "onnx",
                                           self.settings.query_encoder)
        return self._embedder

    # -- writing -----------------------------------------------------------------------------

    def ingest(self, practices: Sequence[Practice], progress: Progress | None = None) -> None:
        """Chunk, embed and store documents; passages whose text and model are unchanged reuse
        their stored vectors. Commits every INGEST_GROUP documents, so an interrupted run keeps
        what it finished."""
        model_id = self.embedder.model_id
        for start in range(0, len(practices), INGEST_GROUP):
            group = practices[start:start + INGEST_GROUP]
            chunked = [(p, chunk_practice(p, self.embedder)) for p in group]
            known = self.store.reusable_vectors((c.content_hash for _, cs in chunked for c in cs), model_id)
            todo = {c.content_hash: c.embedding_text for _, cs in chunked for c in cs if c.content_hash not in known}
            fresh = self.embedder.embed(
                list(todo.values()), on_batch=(lambda n: progress(0, n)) if progress else None
            )
            vectors = {h: v for h, v in zip(todo, fresh)}
            vectors.update((h, np.frombuffer(b, dtype=np.float32)) for h, b in known.items())
            self.store.write_documents(
                [(p, cs, np.array([vectors[c.content_hash] for c in cs]).reshape(len(cs), -1)) for p, cs in chunked],
                model_id,
            )
            if progress:
                progress(len(group), 0)

    def remove(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self.store.delete_documents(doc_ids)

    # -- the vector index --------------------------------------------------------------------

    def refresh_index(self) -> IndexState:
        """Make the in-memory index match the store. At first use: load the saved index if its
        manifest agrees with the store, otherwise rebuild it from the stored vectors (no
        embedding) and save it. Later: catch up with what other processes wrote since."""
        version = self.store.version()
        if self._index is not None and self._index_version == version:
            return IndexState("current", self._index.count(), version)
        if self._index is not None and self._catch_up():
            return IndexState("caught-up", self._index.count(), self._index_version)
        return self._load_or_rebuild()

    def save_index(self) -> None:
        """Save the in-memory index (after a catch-up) unless the saved one is as recent."""
        state = self.refresh_index()
        manifest = self.index_files.manifest()
        if manifest is None or manifest.store_version != state.store_version:
            self.index_files.save(self._index, self.embedder.model_id, state.store_version)

    def _load_or_rebuild(self) -> IndexState:
        model_id = self.embedder.model_id
        manifest = self.index_files.manifest()
        with self.store.snapshot() as db:
            version = self.store.version()
            count = self.store.chunk_count(model_id)
            last_chunk, last_deletion = _cursors(db)
            kind = choose_kind(count, self.settings.index)
            if (
                manifest is not None
                and (manifest.model_id, manifest.store_version, manifest.count, manifest.kind)
                == (model_id, version, count, kind)
                and (index := self.index_files.load(manifest)) is not None
            ):
                status = "loaded"
            else:
                ids, matrix = self.store.vectors(model_id)
                status = "rebuilt"
            owners = _owners(db.execute("SELECT id, doc_id FROM chunks WHERE model_id = ?", (model_id,)))
        if status == "rebuilt":
            index = FaissIndex.build(ids, matrix, kind)
            self.index_files.save(index, model_id, version)
        self._index, self._index_version, self._owners = index, version, owners
        self._last_chunk, self._last_deletion = last_chunk, last_deletion
        return IndexState(status, index.count(), version)

    def _catch_up(self) -> bool:
        """Apply the passages added and deleted since this index was current; False if the
        result does not match the store (then the caller rebuilds)."""
        model_id = self.embedder.model_id
        with self.store.snapshot() as db:
            version = self.store.version()
            added = db.execute(
                "SELECT id, doc_id, vector FROM chunks WHERE id > ? AND model_id = ? ORDER BY id",
                (self._last_chunk, model_id),
            ).fetchall()
            deleted = [r[0] for r in db.execute("SELECT chunk_id FROM deleted_chunks WHERE seq > ?",
                                                (self._last_deletion,))]
            expected = self.store.chunk_count(model_id)
            last_chunk, last_deletion = _cursors(db)
        index = self._index
        index.remove(np.array(deleted, dtype=np.int64))
        for chunk_id in deleted:
            self._owners.pop(chunk_id, None)
        if added:
            vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in added])
            if vectors.shape[1] != index.dim:
                return False
            index.add(np.array([r[0] for r in added], dtype=np.int64), vectors)
            self._owners.update(_owners(added))
        self._index_version, self._last_chunk, self._last_deletion = version, last_chunk, last_deletion
        return index.count() == expected

    @property
    def index(self) -> FaissIndex:
        self.refresh_index()
        return self._index

    def owners(self, passage_ids: Iterable[int]) -> dict[int, str]:
        """The document of each passage, from memory for indexed passages (ranking asks for
        hundreds per search), from the store for any written since the last refresh."""
        found, missing = {}, []
        for passage_id in passage_ids:
            if (doc_id := self._owners.get(passage_id)) is not None:
                found[passage_id] = doc_id
            else:
                missing.append(passage_id)
        if missing:
            found.update(self.store.chunk_owners(missing))
        return found

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; repeated queries (typing, paging, several modes) hit a cache."""
        cached = self._query_cache.get(text)
        if cached is None:
            cached = self.embedder.embed_query(text)
            with self._query_lock:  # the web app embeds on worker threads
                if len(self._query_cache) >= QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)))
                self._query_cache[text] = cached
        return cached

    # -- reading -----------------------------------------------------------------------------

    def info(self) -> dict:
        """Counts, model and index state, for `kb info` and the health check."""
        counts = self.store.counts()
        manifest = self.index_files.manifest()
        version = self.store.version()
        index_state = "missing"
        if manifest is not None:
            current = manifest.store_version == version and manifest.model_id == self.embedder.model_id
            index_state = "current" if current else "stale (rebuilt from stored vectors on next use)"
        return {
            "data": str(self.data),
            "model": self.embedder.model_id,
            "query_runtime": self.embedder.query_runtime,
            "store_version": version,
            "index": {"state": index_state, **({"count": manifest.count, "dim": manifest.dim} if manifest else {})},
            **counts,
        }


def _owners(rows: Iterable) -> dict[int, str]:
    """{passage id: document id} from (id, doc_id, ...) rows; one string per document."""
    names: dict[str, str] = {}
    return {row[0]: names.setdefault(row[1], row[1]) for row in rows}


def _cursors(db) -> tuple[int, int]:
    """The newest passage id and the newest deletion in the store."""
    last_chunk = db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
    last_deletion = db.execute("SELECT coalesce(max(seq), 0) FROM deleted_chunks").fetchone()[0]
    return last_chunk, last_deletion
