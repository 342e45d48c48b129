"""The core every reading and writing module works on: the store, the embedder, the live vector
index and the query reader (kb/search/query.py) of one data folder, and the one ingest path."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.documents import Practice, chunk_practice, fingerprint, with_language
from kb.embedding import Embedder, load_embedder, passage_embedder, with_fast_queries
from kb.embedding.onnx import current
from kb.files import FileStore
from kb.live_index import IndexState, LiveIndex
from kb.search import QueryReader
from kb.settings import Settings
from kb.store import Transaction, open_store
from kb.vector_index import IndexFiles, VectorIndex

INGEST_GROUP = 128  # documents embedded and committed together

Progress = Callable[[int, int], None]  # (documents done, passages embedded) since the last call


class Core:
    def __init__(self, data: Path, embedder: Embedder | None = None, settings: Settings | None = None):
        self.data = Path(data)
        self.settings = settings or Settings.from_env(data=str(data))
        self.store = open_store(self.data, self.settings.store)
        snapshots = IndexFiles(Path(self.settings.index_snapshots)) if self.settings.index_snapshots else None
        self.live = LiveIndex(self.store, IndexFiles(self.data / "index"), self.settings.index, snapshots)
        self._embedder = embedder

    @classmethod
    def open(cls, settings: Settings):
        return cls(settings.data, settings=settings)

    def close(self) -> None:
        self.store.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings, self.onnx_dir)
        return self._embedder

    def session_secret(self) -> bytes:
        """The key that signs session cookies, shared by every app server of the store."""
        return self.store.secret("session")

    @cached_property
    def files(self) -> FileStore:
        """The originals of indexed files (PDFs, attachments), downloadable from result links."""
        return FileStore(self.data / "files", self.store)

    @property
    def onnx_dir(self) -> Path:
        return self.data / "onnx"

    # -- writing -----------------------------------------------------------------------------

    def ingest(self, practices: Sequence[Practice], progress: Progress | None = None,
               also: Callable[[Transaction], None] | None = None) -> int:
        """The one way documents enter the knowledge base (corpus files, case notes): chunk,
        embed (passages whose text and model are unchanged reuse their stored vectors), and
        write documents, passages and vectors in one transaction per INGEST_GROUP documents,
        so an interrupted run keeps what it finished. A document that does not say its language
        has it detected. `also(tx)` runs inside the transaction of the last group: a caller's
        own rows commit with its documents. Returns the number of passages embedded."""
        embedder, model_id, embedded = self.embedder, self.embedder.model_id, 0
        for start in range(0, len(practices), INGEST_GROUP):
            # the fingerprint of the document as its source gave it, so an unchanged source is skipped
            group = [(fingerprint(p), with_language(p)) for p in practices[start:start + INGEST_GROUP]]
            chunked = [(p, chunk_practice(p, embedder)) for _, p in group]
            known = self.store.reusable_vectors((c.content_hash for _, cs in chunked for c in cs), model_id)
            todo = {c.content_hash: c.embedding_text for _, cs in chunked for c in cs if c.content_hash not in known}
            fresh = embedder.embed(list(todo.values()), on_batch=(lambda n: progress(0, n)) if progress else None)
            vectors = {**known, **dict(zip(todo, fresh))}
            embedded += len(todo)
            with self.store.write() as tx:
                for (source, _), (practice, chunks) in zip(group, chunked):
                    matrix = np.array([vectors[c.content_hash] for c in chunks]).reshape(len(chunks), -1)
                    tx.put_document(practice, chunks, matrix, model_id, source)
                if also and start + INGEST_GROUP >= len(practices):
                    also(tx)
            if progress:
                progress(len(group), 0)
        return embedded

    def remove(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            with self.store.write() as tx:
                tx.remove_documents(doc_ids)

    def prepare_queries(self) -> str:
        """Make the fastest query path this model has (its ONNX export, made once and then
        reused); what will embed queries."""
        variant = self.settings.query_encoder
        if self._embedder is None and variant != "torch":  # nothing loaded (nothing was embedded):
            key = passage_embedder(self.settings).export_key  # a current export is named, not loaded
            if key is not None and current(self.onnx_dir, key, variant) is not None:
                return f"onnxruntime {variant}"
        self._embedder = with_fast_queries(self.embedder, self.onnx_dir, variant)
        return self._embedder.query_runtime

    # -- the vector index --------------------------------------------------------------------

    @cached_property
    def model_id(self) -> str:
        """The model whose vectors this knowledge base searches; known without loading it (a
        process that only checks the index, like `kb serve` before its workers, stays small)."""
        return self._embedder.model_id if self._embedder is not None else passage_embedder(self.settings).model_id

    def refresh_index(self) -> IndexState:
        return self.live.refresh(self.model_id)

    def save_index(self) -> None:
        self.live.save(self.model_id)

    @property
    def index(self) -> VectorIndex:
        return self.live.index(self.model_id)

    def owners(self, passage_ids: Iterable[int]) -> dict[int, str]:
        return self.live.owners(passage_ids)

    # -- queries -----------------------------------------------------------------------------

    @cached_property
    def queries(self) -> QueryReader:
        """Reads queries against this knowledge base (kb/search/query.py), keeping its caches."""
        return QueryReader(self)
