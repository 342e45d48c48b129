"""A query's words carried into English, for its keyword ranking. BM25 can only match words the
documents hold, and most of them are written in English: a Swedish or Polish query shares
almost no word with them. A multilingual model places a word beside its translations ("fossila"
beside "fossil", "zmniejszyć" beside "reduce", "λιγνίτη" beside "lignite"), so each word of a
query in another language (stop words aside) is looked for among the English words the documents
hold, embedded as queries by the same model, and the nearest joins the keyword ranking (a
query's words are embedded in one batch: one call of the query encoder, not one per word). Only
for a model that reads many languages (`Embedder.multilingual`).

The English words are those of the store's vocabulary that an English dictionary knows; their
vectors are kept in the data folder (`english-words.npz`, per model) and a word is embedded once:
`kb index` and a server's start embed what the documents brought, later notes' words are added
when the store has changed and the table is older than REBUILD_AFTER_S. On corpus/eval's
queries in other languages, hybrid nDCG@10 0.374 → 0.443 (dev) and 0.435 → 0.515 (held out),
with the analysis per language already in place."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb.search.spelling import REBUILD_AFTER_S, english_words
from kb.search.stopwords import STOPWORDS

if TYPE_CHECKING:
    from kb.core import Core

FILE = "english-words.npz"
MIN_LENGTH = 3  # shorter English words are mostly function words and abbreviations
CACHE_SIZE = 4096  # queries' words translated, kept until the table changes


@dataclass(frozen=True)
class Table:
    words: tuple[str, ...]
    vectors: np.ndarray  # float32, one normalised row per word

    def nearest(self, vectors: np.ndarray) -> list[str]:
        return [self.words[i] for i in np.argmax(vectors @ self.vectors.T, axis=1)]


class WordTranslator:
    """The English words of one knowledge base's documents, with their vectors."""

    def __init__(self, kb: Core):
        self.kb = kb
        self._table: Table | None = None
        self._translated: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._built_at, self._version = 0.0, -1
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.kb.embedder.multilingual

    def prepare(self) -> None:
        """The table made now (and kept in the data folder), where the model reads many languages."""
        if self.available:
            self.table()

    def english(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """The nearest English word of the documents to each of `words` (in input order, repeats
        dropped; the words of one query embedded in one batch); () when the model reads one
        language only."""
        if not words or not self.available:
            return ()
        table = self.table()
        if not table.words:
            return ()
        key = tuple(dict.fromkeys(words))  # embedded together, so a query reads alike in every process
        found = self._translated.get(key)
        if found is None:
            found = tuple(dict.fromkeys(table.nearest(self.kb.embedder.embed_queries(key))))
            with self._lock:
                if len(self._translated) >= CACHE_SIZE:
                    self._translated = {}
                self._translated[key] = found
        return found

    def table(self) -> Table:
        version = self.kb.store.version()
        stale = self._table is None or (version != self._version and time.monotonic() - self._built_at
                                        > REBUILD_AFTER_S)
        if stale:
            with self._lock:
                if self._table is None or self._version != version:
                    self._table = self._build()
                    self._translated = {}
                    self._built_at, self._version = time.monotonic(), version
        return self._table

    def _build(self) -> Table:
        """The saved table, with the documents' new English words embedded and saved too."""
        known = english_words()
        wanted = sorted(w for w in self.kb.store.vocabulary()
                        if len(w) >= MIN_LENGTH and w in known and w not in STOPWORDS)
        words, vectors = self._read()
        row = {w: i for i, w in enumerate(words)}
        missing = [w for w in wanted if w not in row]
        if missing:
            row.update((w, len(words) + i) for i, w in enumerate(missing))
            words, vectors = words + missing, np.vstack([vectors, self._embed(missing).astype(np.float16)])
            self._save(words, vectors)
        return Table(tuple(wanted), vectors[[row[w] for w in wanted]].astype(np.float32))

    def _embed(self, words: list[str]) -> np.ndarray:
        """Each word embedded alone, so that its vector does not depend on the words that came
        with it (an int8 encoder's batch moves vectors a little)."""
        return np.array([self.kb.embedder.embed_query(w) for w in words], dtype=np.float32)

    @property
    def _path(self):
        return self.kb.data / FILE

    def _read(self) -> tuple[list[str], np.ndarray]:
        """The saved words and their vectors (float16), if saved for this model."""
        nothing = ([], np.zeros((0, self.kb.embedder.dim), dtype=np.float16))
        try:
            with np.load(self._path, allow_pickle=False) as saved:
                if str(saved["model"]) != self.kb.embedder.model_id:
                    return nothing
                return saved["words"].tolist(), saved["vectors"].astype(np.float16)
        except (OSError, ValueError, KeyError):  # none yet, or unreadable: embedded again
            return nothing

    def _save(self, words: list[str], vectors: np.ndarray) -> None:
        temporary = self._path.with_name(f"{FILE}.{os.getpid()}.{threading.get_ident()}.npz")
        try:
            np.savez(temporary, model=np.array(self.kb.embedder.model_id), words=np.array(words), vectors=vectors)
            os.replace(temporary, self._path)
        except OSError:  # a read-only folder: kept in this process only
            temporary.unlink(missing_ok=True)
