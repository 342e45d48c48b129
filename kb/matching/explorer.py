"""The matching team's explorer: for each twin, what it works on, its current pilots and the
pilots its challenge suggests; twins against pilots as a heatmap; and Europe as a map.

Everything here is computed once per state of the knowledge base (its version and the pairings)
and kept: a visit costs a lookup, not the 100 searches behind it. It is kept in the data folder
too (`explorer-view.pickle`), so the workers of one server, and a server started again, read it
instead of each computing it: `kb serve` finds it before its workers start."""

from __future__ import annotations

import os
import pickle
import threading
from dataclasses import dataclass

import numpy as np

from kb.core import Core
from kb.matching.geography import Outline, extent, outlines, project
from kb.matching.pairings import Pairings
from kb.matching.partners import PartnerSuggestion, Profile, suggest
from kb.search import search
from kb.store import City, Pairing

SUGGESTED = 5  # pilots suggested per twin
CHALLENGE_DOCUMENTS = 8  # documents about a twin that make up its challenge


@dataclass(frozen=True)
class TwinRow:
    twin: City
    challenge: str  # what the knowledge base says the twin works on: titles of documents about it
    current: tuple[str, ...]  # the pilots it is paired with
    suggested: tuple[PartnerSuggestion, ...]


@dataclass(frozen=True)
class Heatmap:
    """Twins (rows) against pilots (columns): how strongly each pilot's documented practice
    matches each twin's challenge (0: no matching practice). Pilots are ordered so that pilots
    matching the same twins stand together."""

    twins: tuple[str, ...]
    pilots: tuple[str, ...]
    scores: np.ndarray
    pilot_domains: dict[str, frozenset[str]]

    def for_domain(self, domain: str | None) -> Heatmap:
        """Only the pilots working in `domain` (all when None) that match at least one twin."""
        keep = [i for i, p in enumerate(self.pilots)
                if (not domain or domain in self.pilot_domains[p]) and self.scores[:, i].any()]
        return Heatmap(self.twins, tuple(self.pilots[i] for i in keep), self.scores[:, keep], self.pilot_domains)


@dataclass(frozen=True)
class Place:
    city: str
    country: str
    role: str
    lat: float
    lon: float
    x: float  # km, projected (kb/matching/geography.py)
    y: float


@dataclass(frozen=True)
class EuropeMap:
    extent: tuple[float, float, float, float]
    outlines: tuple[Outline, ...]
    places: tuple[Place, ...]  # the pilots and twins with coordinates
    pairings: tuple[Pairing, ...]


@dataclass(frozen=True)
class ExplorerView:
    key: tuple  # the knowledge base's state it was computed from
    twins: tuple[TwinRow, ...]
    heatmap: Heatmap
    map: EuropeMap


class Explorer:
    """The view, cached per state of the knowledge base."""

    def __init__(self, kb: Core, pairings: Pairings):
        self.kb, self.pairings = kb, pairings
        self.saved = kb.data / "explorer-view.pickle"
        self._view: ExplorerView | None = None
        self._lock = threading.Lock()

    def view(self) -> ExplorerView:
        key = (self.kb.store.version(), tuple(self.pairings.all()))
        view = self._view
        if view is None or view.key != key:
            with self._lock:  # one computation at a time; later callers find it done
                if self._view is None or self._view.key != key:
                    self._view = self._read(key) or self._save(_compute(self.kb, key))
                view = self._view
        return view

    def _read(self, key: tuple) -> ExplorerView | None:
        """The saved view, if it was computed from this state (written by this data folder's own
        processes, as its store is)."""
        try:
            view = pickle.loads(self.saved.read_bytes())
        except Exception:  # noqa: BLE001 - missing, half-written by an older version, unreadable: computed again
            return None
        return view if isinstance(view, ExplorerView) and view.key == key else None

    def _save(self, view: ExplorerView) -> ExplorerView:
        temporary = self.saved.with_name(f"{self.saved.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            temporary.write_bytes(pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(temporary, self.saved)
        except OSError:  # a read-only folder: kept in this process only
            temporary.unlink(missing_ok=True)
        return view


def _compute(kb: Core, key: tuple) -> ExplorerView:
    cities = kb.store.cities()
    pilots = [c for c in cities if c.role == "pilot"]
    pairings = key[1]
    rows, scores = [], []
    for twin in (c for c in cities if c.role == "twin"):
        challenge = twin_challenge(kb, twin.city)
        current = tuple(p.pilot for p in pairings if p.twin == twin.city)
        # the challenge is the documents' own titles: nothing to correct
        ranked = suggest(kb, challenge[:2000], Profile(twin.city, twin.country, twin.population), k=100,
                         correct=False).suggestions if challenge else []
        rows.append(TwinRow(twin, challenge, current, tuple(ranked[:SUGGESTED])))
        score_of = {s.city: s.score for s in ranked}
        scores.append([score_of.get(p.city, 0.0) for p in pilots])
    matrix = np.array(scores, dtype=float).reshape(len(rows), len(pilots))
    order = _cluster_order(matrix.T) if len(pilots) > 2 and matrix.any() else list(range(len(pilots)))
    domains = _pilot_domains(kb, pilots)
    heatmap = Heatmap(tuple(r.twin.city for r in rows), tuple(pilots[i].city for i in order), matrix[:, order], domains)
    places = tuple(Place(c.city, c.country, c.role, c.lat, c.lon, *project(c.lat, c.lon)) for c in cities
                   if c.role in ("pilot", "twin") and c.lat is not None and c.lon is not None)
    return ExplorerView(key, tuple(rows), heatmap, EuropeMap(extent(), outlines(), places, pairings))


def twin_challenge(kb: Core, twin: str) -> str:
    """What the knowledge base says a twin works on: the titles of the documents about it (its
    own, and those that name it)."""
    own = [d.title for d in kb.store.documents_of_city(twin)]
    naming = [r.title for r in search(kb, f'"{twin}"', k=20, mode="keyword", correct=False).results]
    return "; ".join(list(dict.fromkeys(own + naming))[:CHALLENGE_DOCUMENTS])


def _pilot_domains(kb: Core, pilots: list[City]) -> dict[str, frozenset[str]]:
    """Each pilot's domains: its profile's and its documents'."""
    return {p.city: frozenset(p.domains) | {d for doc in kb.store.documents_of_city(p.city) for d in doc.domains}
            for p in pilots}


def _cluster_order(rows: np.ndarray) -> list[int]:
    """An order of the rows in which similar ones stand together (average linkage, cosine)."""
    # scipy takes 0.4 s to import; only this view needs it
    from scipy.cluster.hierarchy import leaves_list, linkage

    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = np.where(norms > 0, rows / np.maximum(norms, 1e-12), 0.0)
    return leaves_list(linkage(unit, method="average", metric="euclidean", optimal_ordering=True)).tolist()
