"""Knowledge gaps: what twins ask that the knowledge base answers badly, grouped by meaning.

The searches of a period that were weak matches, or made from the search page with no result
opened, are counted per text; the most asked texts are grouped by their query vectors (the
model's, aligned across languages, so that a need asked in Swedish and in Greek falls together)
by SciPy's hierarchical clustering, average linkage under a cosine distance, cut at DISTANCE
(the same partition as scikit-learn's AgglomerativeClustering, whose import alone takes 1.7 s). Each group
is labelled by its own most asked words, and placed near the practices and pilots closest to
its centre: whom to ask for a case note on it."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from kb.documents import words
from kb.search import by_document, dense_passages, stopwords
from kb.store import AskedText

if TYPE_CHECKING:
    from kb.core import Core

# Two groups join while their texts are on average closer than this (cosine distance of the
# aligned query vectors); chosen on tests/kb/judged/gap_needs_dev.json, judged on ..._test.json.
DISTANCE = 0.18
MAX_TEXTS = 1500  # the most asked texts are grouped; rarer ones are counted in `others`
EXAMPLES = 5
NEAREST = 5  # practices looked at around a group's centre
PLACED = 50  # the most asked groups placed near practices and pilots (the page lists these)
CACHED = 16  # periods kept, each for one state of the log and the knowledge base


@dataclass(frozen=True)
class Gap:
    id: str  # stable while the group holds the same texts
    label: str  # its most asked text
    words: tuple[str, ...]  # its most frequent words, stopwords of each text's language left out
    searches: int
    weak: int
    texts: int  # distinct texts
    languages: tuple[tuple[str, int], ...]  # (language, searches), most first
    examples: tuple[str, ...]
    domains: tuple[str, ...] = ()  # of the practices nearest to it
    practices: tuple[tuple[str, str], ...] = ()  # (id, title) nearest to it
    pilots: tuple[str, ...] = ()  # the pilot cities of those practices
    asked: tuple[str, ...] = field(default=(), repr=False)  # every text of the group, most asked first

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "words": list(self.words), "searches": self.searches,
                "weak": self.weak, "texts": self.texts, "languages": dict(self.languages),
                "examples": list(self.examples), "domains": list(self.domains),
                "nearest_practices": [{"id": i, "title": t} for i, t in self.practices], "pilots": list(self.pilots)}


@dataclass(frozen=True)
class Gaps:
    since: str
    until: str
    gaps: list[Gap]
    searches: int  # gap searches in the period
    others: int = 0  # of them, searches of texts too rare to be grouped
    state: tuple = field(default=(), compare=False)

    def to_json(self) -> dict:
        return {"since": self.since, "until": self.until, "searches": self.searches, "ungrouped": self.others,
                "gaps": [g.to_json() for g in self.gaps]}


class GapFinder:
    """The gaps of a period, found once per state of the log and of the knowledge base."""

    def __init__(self, kb: Core):
        self.kb = kb
        self._cache: dict[tuple, Gaps] = {}
        self._lock = threading.Lock()
        # What changes less often than the counts: the grouping of the last set of texts, and
        # each group's place among the practices (per state of the knowledge base).
        self._grouping: tuple[frozenset[str], dict[str, int]] = (frozenset(), {})
        self._places: dict[tuple[str, int], list[str]] = {}
        self._known: dict[tuple[str, str], np.ndarray] = {}  # (model, text hash) -> the text's vector

    def find(self, since: str, until: str) -> Gaps:
        state = (since, until, self.kb.store.search_log_state(), self.kb.store.version())
        with self._lock:
            cached = self._cache.get(state)
        if cached is not None:
            return cached
        found = self._find(since, until)
        with self._lock:
            if len(self._cache) >= CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[state] = found
        return found

    def _find(self, since: str, until: str) -> Gaps:
        grouped, total = self.kb.store.asked_texts(since, until, MAX_TEXTS)
        if not grouped:
            return Gaps(since, until, [], 0)
        vectors = self._vectors(grouped)
        texts = frozenset(a.text_hash for a in grouped)
        known_texts, known_labels = self._grouping
        if known_texts == texts:  # the same texts, counted again: the same groups
            labels = np.array([known_labels[a.text_hash] for a in grouped])
        else:
            labels = cluster(vectors)
            self._grouping = (texts, {a.text_hash: label for a, label in zip(grouped, labels)})
        counts = np.array([a.count for a in grouped])
        order = sorted(np.unique(labels), key=lambda g: (-counts[labels == g].sum(), grouped[np.argmax(labels == g)].text))
        gaps = [self._gap([a for a, mine in zip(grouped, labels == g) if mine], vectors[labels == g], rank < PLACED)
                for rank, g in enumerate(order)]
        return Gaps(since, until, gaps, total, total - sum(a.count for a in grouped))

    def _vectors(self, asked: list[AskedText]) -> np.ndarray:
        """The texts' query vectors: logged with the search, or embedded now (a keyword-only
        search has none) and kept."""
        model = self.kb.embedder.model_id
        found = {a.text_hash: self._known[model, a.text_hash] for a in asked if (model, a.text_hash) in self._known}
        found.update(self.kb.store.search_vectors(model, [a.text_hash for a in asked if a.text_hash not in found]))
        missing = {a.text_hash: self.kb.queries.vector(a.text) for a in asked if a.text_hash not in found}
        if missing:
            with self.kb.store.write(documents=False) as tx:
                tx.save_search_vectors(model, missing)
            found.update(missing)
        if len(self._known) > 4 * MAX_TEXTS:
            self._known.clear()
        self._known.update({(model, h): v for h, v in found.items()})
        return np.stack([found[a.text_hash] for a in asked]).astype(np.float32)

    def _gap(self, members: list[AskedText], vectors: np.ndarray, placed: bool) -> Gap:
        searches = sum(a.count for a in members)
        languages = Counter()
        counted = Counter()
        for a in members:
            languages[a.language or "?"] += a.count
            skip = _stopwords(a.language)
            counted.update({w: a.count for w in set(words(a.text)) if w not in skip and len(w) > 2})
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        texts = sorted(a.text for a in members)
        gap_id = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        practices = self._nearest(gap_id, centre) if placed else []
        found = self.kb.store.documents(practices)
        docs = [found[i] for i in practices if i in found]  # nearest first
        domains = Counter(d for doc in docs for d in doc.domains)
        pilots = dict.fromkeys(doc.city for doc in docs if doc.city and self._is_pilot(doc.city))
        return Gap(id=gap_id,
                   label=members[0].text, words=tuple(w for w, _ in counted.most_common(4)),
                   searches=searches, weak=sum(a.weak for a in members), texts=len(members),
                   languages=tuple(languages.most_common()), examples=tuple(a.text for a in members[:EXAMPLES]),
                   domains=tuple(d for d, _ in domains.most_common(3)),
                   practices=tuple((doc.id, doc.title) for doc in docs), pilots=tuple(pilots),
                   asked=tuple(a.text for a in members))

    def _nearest(self, gap_id: str, centre: np.ndarray) -> list[str]:
        key = (gap_id, self.kb.store.version())
        if key not in self._places:
            hits = dense_passages(self.kb, centre, NEAREST * 4, None)
            if len(self._places) > 4 * MAX_TEXTS:
                self._places.clear()
            self._places[key] = [d for d, _, _ in by_document(hits, self.kb.owners([i for i, _ in hits]))[:NEAREST]]
        return self._places[key]

    def _is_pilot(self, name: str) -> bool:
        city = self.kb.store.city(name)
        return city is not None and city.role == "pilot"


@cache
def _stopwords(language: str | None) -> frozenset[str]:
    """The words a label leaves out: the query's (kb/search/stopwords.py) and Stopwords ISO's
    whole list for the language, English when unsure ("without", "how" name no need)."""
    import stopwordsiso

    language = language or "en"
    return stopwords(language) | (frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language)
                                  else frozenset())


def cluster(vectors: np.ndarray, distance: float = DISTANCE) -> np.ndarray:
    """A group number per vector: average linkage under the cosine distance, cut at `distance`."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage  # 0.3 s to import: the server does it at start
    from scipy.spatial.distance import squareform

    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    distances = (distances + distances.T) / 2  # exactly symmetric, as a condensed matrix needs
    return fcluster(linkage(squareform(distances, checks=False), "average"), distance, "distance")


def load_clustering() -> None:
    """Import the clustering library now (the server, at start) rather than at the first gaps page."""
    import scipy.cluster.hierarchy  # noqa: F401
    import scipy.spatial.distance  # noqa: F401
