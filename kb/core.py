"""The core every reading and writing module works on: the store, the embedder and the live
vector index of one data folder, and the one ingest path."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from kb.chunking import chunk_practice, fingerprint
from kb.documents import Practice, with_language
from kb.embedding import Embedder, load_embedder, passage_embedder, with_fast_queries
from kb.embedding.onnx import current
from kb.files import FileStore
from kb.keyword import words
from kb.languages import detect_query
from kb.live_index import IndexState, LiveIndex
from kb.settings import Settings
from kb.spelling import Spelling
from kb.stopwords import STOPWORDS
from kb.store import Transaction, open_store
from kb.vector_index import IndexFiles, VectorIndex

INGEST_GROUP = 128  # documents embedded and committed together
QUERY_CACHE_SIZE = 1024  # query vectors kept, oldest dropped first
# Spelling is corrected only in queries whose language holds at least this share of the
# documents (relative to the most common language): another language's words are not typos.
SPELLING_SHARE = 0.2

Progress = Callable[[int, int], None]  # (documents done, passages embedded) since the last call


class Core:
    def __init__(self, data: Path, embedder: Embedder | None = None, settings: Settings | None = None):
        self.data = Path(data)
        self.settings = settings or Settings.from_env(data=str(data))
        self.store = open_store(self.data, self.settings.store)
        snapshots = IndexFiles(Path(self.settings.index_snapshots)) if self.settings.index_snapshots else None
        self.live = LiveIndex(self.store, IndexFiles(self.data / "index"), self.settings.index, snapshots)
        self._embedder = embedder
        self._query_cache: dict[str, np.ndarray] = {}
        self._query_lock = threading.Lock()
        self._shares: tuple[int, dict[str, float]] = (-1, {})

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

    @staticmethod
    @lru_cache(maxsize=QUERY_CACHE_SIZE)
    def query_language(text: str) -> str | None:
        """The language a query is written in, when detection is sure of it."""
        return detect_query(text)

    def language_share(self, language: str | None) -> float:
        """The documents in `language` relative to the most common language (1 when unknown)."""
        if language is None:
            return 1.0
        version = self.store.version()
        if self._shares[0] != version:
            counts = self.store.document_languages()
            top = max(counts.values(), default=1)
            self._shares = (version, {code: n / top for code, n in counts.items()})
        return self._shares[1].get(language, 0.0)

    @cached_property
    def spelling(self) -> Spelling:
        return Spelling(self.store)

    def word_coverage(self, text: str) -> float:
        """The share of the words of `text` (stop words aside) that occur in the documents."""
        found = [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS] or words(text)
        return len(self.store.known_words(found)) / len(found) if found else 1.0

    def correct_spelling(self, query: str, language: str | None) -> str | None:
        """The query with misspelt words corrected, or None (nothing to correct, or a language
        the knowledge base holds too little of to judge its spelling)."""
        if self.language_share(language) < SPELLING_SHARE:
            return None
        return self.spelling.correct(query)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector, aligned across languages; repeated queries (typing, paging,
        several modes) hit a cache."""
        cached = self._query_cache.get(text)
        if cached is None:
            cached = self.embedder.align_query(self.embedder.embed_query(text), self.query_language(text))
            with self._query_lock:  # the web app searches on several threads
                if len(self._query_cache) >= QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)))
                self._query_cache[text] = cached
        return cached
