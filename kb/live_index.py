"""The vector index in memory, kept in step with the store across processes."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from kb.store import Cursor, Store
from kb.vector_index import IndexFiles, VectorIndex, build_index, choose_kind


@dataclass(frozen=True)
class IndexState:
    # "loaded" (the saved index matched the store), "snapshot" (the published one did), "rebuilt"
    # (from stored vectors), "current" (nothing changed), or "caught-up" (with what another
    # process wrote)
    status: str
    count: int
    store_version: int


class LiveIndex:
    """At first use the saved index is loaded if its manifest agrees with the store, else the
    published snapshot if there is one and it agrees (app servers of a shared store publish
    theirs in one folder, KB_INDEX_SNAPSHOTS), otherwise the index is rebuilt from the stored
    vectors (no embedding), saved and published. Later, it catches up with what other processes
    wrote: new passages from the store, deletions from its log."""

    def __init__(self, store: Store, files: IndexFiles, requested_kind: str = "auto",
                 snapshots: IndexFiles | None = None):
        self.store = store
        self.files = files
        self.snapshots = snapshots
        self.requested_kind = requested_kind
        self._index: VectorIndex | None = None
        self._model_id: str | None = None
        self._version = -1
        self._cursor = Cursor()
        self._owners: dict[int, str] = {}  # passage id -> document id, for every indexed passage
        self._lock = threading.Lock()  # one refresh at a time; searches run on several threads

    def refresh(self, model_id: str) -> IndexState:
        """Make the in-memory index of `model_id` match the store."""
        version = self.store.version()
        if self._index is not None and self._model_id == model_id and self._version == version:
            return IndexState("current", self._index.count(), version)
        with self._lock:
            if self._index is not None and self._model_id == model_id:
                if self._version == self.store.version():
                    return IndexState("current", self._index.count(), self._version)
                if self._catch_up(model_id):
                    return IndexState("caught-up", self._index.count(), self._version)
            return self._load_or_rebuild(model_id)

    def index(self, model_id: str) -> VectorIndex:
        self.refresh(model_id)
        return self._index

    def save(self, model_id: str) -> None:
        """Save the in-memory index (after a catch-up) unless the saved one is as recent, and
        publish it as the snapshot unless the published one is."""
        state = self.refresh(model_id)
        identity = self.store.identity()
        for files in filter(None, (self.files, self.snapshots)):
            with files.lock():
                manifest = files.manifest()
                if manifest is None or manifest.store != identity or manifest.store_version < state.store_version:
                    files.save(self._index, model_id, state.store_version, identity)

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
            found.update(self.store.passage_owners(missing))
        return found

    def _load_or_rebuild(self, model_id: str) -> IndexState:
        with self.files.lock():  # processes starting together: one rebuilds, the others load its work
            return self._load_or_rebuild_locked(model_id)

    def _load_or_rebuild_locked(self, model_id: str) -> IndexState:
        identity = self.store.identity()
        snapshot = self.store.index_snapshot(model_id, with_vectors=False)
        state = (model_id, identity, snapshot.version, snapshot.count)
        index, status = self._saved(self.files, *state), "loaded"
        if index is None and self.snapshots is not None:
            with self.snapshots.lock():
                index = self._saved(self.snapshots, *state)
            if index is not None:
                self.files.save(index, model_id, snapshot.version, identity)
                status = "snapshot"
        if index is None:
            snapshot = self.store.index_snapshot(model_id, with_vectors=True)
            index = build_index(snapshot.ids, snapshot.vectors, choose_kind(snapshot.count, self.requested_kind))
            self.files.save(index, model_id, snapshot.version, identity)
            if self.snapshots is not None:
                with self.snapshots.lock():
                    self.snapshots.save(index, model_id, snapshot.version, identity)
            status = "rebuilt"
        self._index, self._model_id, self._version = index, model_id, snapshot.version
        self._cursor, self._owners = snapshot.cursor, snapshot.owners
        return IndexState(status, index.count(), snapshot.version)

    def _saved(self, files: IndexFiles, model_id: str, identity: str, version: int, count: int) -> VectorIndex | None:
        """The index saved in `files` if it was built from this state of the store."""
        manifest = files.manifest()
        if manifest is None or not manifest.describes(model_id, identity, version, count,
                                                      choose_kind(count, self.requested_kind)):
            return None
        return files.load(manifest)

    def _catch_up(self, model_id: str) -> bool:
        """Apply the passages added and deleted since this index was current; False if the
        result does not match the store (then the caller rebuilds)."""
        changes = self.store.changes_since(self._cursor, model_id)
        index = self._index
        index.remove(changes.deleted_ids)
        for passage_id in changes.deleted_ids.tolist():
            self._owners.pop(passage_id, None)
        if changes.added_vectors is not None:
            if changes.added_vectors.shape[1] != index.dim:
                return False
            index.add(changes.added_ids, changes.added_vectors)
            self._owners.update(zip(changes.added_ids.tolist(), changes.added_owners))
        self._version, self._cursor = changes.version, changes.cursor
        return index.count() == changes.count
