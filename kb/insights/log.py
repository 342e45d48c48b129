"""The search log: what people search for and how it went, never who searched.

Each search through a page or the API is kept with its text, its language, the filters, how many
results, whether it was a weak match, the searcher's role (or "anonymous") and the time. Neither
the account nor the address is kept. A search is named by a random `ref`, so that opening one of
its results marks it clicked; a search made in a logged-in browser session carries a random
`visit`, held only in that session's cookie, so that a practice kept in the session marks its
searches "followed by a kept practice". A search refined while typing takes the place of the one
it refines.

Searches are written by a thread in batches, about once a second, never by the search itself;
a process that dies loses at most that second of log, and nothing else. Searches older than
KB_SEARCH_LOG_DAYS are deleted as the log is written (`kb insights forget` deletes on demand);
with KB_SEARCH_LOG_DAYS=0 nothing is logged."""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from kb.errors import KBError
from kb.store import LoggedSearch, Store

log = logging.getLogger(__name__)

FLUSH_S = 1.0  # how often the thread writes what was logged
PURGE_S = 3600  # how often it deletes what is past its age
MAX_PENDING = 10_000  # searches held while the store refuses writes; older ones are dropped
ROLES = ("anonymous", "twin", "pilot", "matching", "admin")
SOURCES = ("page", "api")


@dataclass(frozen=True)
class Asker:
    """Who asks, as far as the log may know: a role, where the search came from, the session's
    random visit name (a browser session only) and the search it refines while typing."""

    role: str = "anonymous"
    source: str = "api"
    visit: str | None = None
    replaces: str | None = None


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def days_ago(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def new_name() -> str:
    """A random name for a search or a visit: it says nothing of who."""
    return secrets.token_urlsafe(12)


class SearchLog:
    def __init__(self, store: Store, days: int):
        self.store, self.days = store, days
        self._lock = threading.Lock()
        self._searches: list[LoggedSearch] = []
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # (model, text hash) -> the query's vector
        self._clicked: list[str] = []
        self._kept: list[str] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._purged: float | None = None  # when this process last deleted what is past its age

    @property
    def on(self) -> bool:
        return self.days > 0

    def record(self, text: str, *, language: str | None, filters: dict[str, str], mode: str, results: int,
               weak: bool, asker: Asker, vector: np.ndarray | None = None, model_id: str | None = None) -> str | None:
        """Log one search, with the query's vector by `model_id` when it has one; its ref (None
        when the log is off)."""
        if not self.on:
            return None
        ref, digest = new_name(), text_hash(text)
        search = LoggedSearch(ref, now(), text, digest, language, json.dumps(filters, sort_keys=True), mode, results,
                              weak, asker.role if asker.role in ROLES else "anonymous",
                              asker.source if asker.source in SOURCES else "api", asker.visit, asker.replaces)
        with self._lock:
            self._searches.append(search)
            del self._searches[:-MAX_PENDING]
            if vector is not None and model_id:
                self._vectors[model_id, digest] = vector
        self._start()
        return ref

    def clicked(self, ref: str) -> None:
        """A result of the search `ref` was opened."""
        if self.on and ref:
            with self._lock:
                self._clicked.append(ref[:64])
            self._start()

    def kept(self, visit: str | None) -> None:
        """A practice was kept in the browser session `visit`: its searches led somewhere."""
        if self.on and visit:
            with self._lock:
                self._kept.append(visit[:64])
            self._start()

    def flush(self) -> None:
        """Write what is pending now (the thread does it every FLUSH_S; tests and shutdown call it)."""
        with self._lock:
            searches, vectors, clicked, kept = self._searches, self._vectors, self._clicked, self._kept
            self._searches, self._vectors, self._clicked, self._kept = [], {}, [], []
        purge = self.on and (self._purged is None or time.monotonic() - self._purged > PURGE_S)
        if not (searches or clicked or kept or purge):
            return
        try:
            with self.store.write(documents=False) as tx:
                tx.log_searches(searches)
                for model in {model for model, _ in vectors}:
                    tx.save_search_vectors(model, {h: v for (m, h), v in vectors.items() if m == model})
                tx.mark_searches(clicked, kept)
                if purge:
                    tx.forget_searches(days_ago(self.days))
        except KBError as exc:  # the store busy or away: keep them for the next turn
            log.warning("the search log waits for the store: %s", exc)
            with self._lock:
                self._searches[:0], self._clicked[:0], self._kept[:0] = searches, clicked, kept
                self._vectors.update(vectors)
            return
        if purge:
            self._purged = time.monotonic()

    def forget(self, before: str | None) -> int:
        """Delete the searches made before `before` (all of them: None); how many."""
        self.flush()
        with self.store.write(documents=False) as tx:
            return tx.forget_searches(before)

    def close(self) -> None:
        """Write what is pending, the thread stopped first (never while the store closes);
        nothing is logged after."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        self.days = 0

    def _start(self) -> None:
        if self._thread is not None or not self.on or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_S):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the log must never stop searching; say why and go on
                log.exception("the search log could not be written")
