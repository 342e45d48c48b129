"""An index on disk: `manifest.json` names the index file it describes, its SHA-256, and what it
was built from (model, dimension, passage count, store version, kind), so it is trusted only
while that matches the store and the file its checksum. Processes that start together take
turns through a lock file: the first builds and saves, the others wait and load."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.vector_index.base import VectorIndex
from kb.vector_index.faiss_index import FaissIndex
from kb.vector_index.numpy_index import NumpyIndex

READERS = {"flat": FaissIndex.from_bytes, "ivf": FaissIndex.from_bytes, "numpy": NumpyIndex.from_bytes}


@dataclass(frozen=True)
class Manifest:
    """What an index file was built from; compared with the store before the index is trusted."""

    model_id: str
    dim: int
    count: int
    store_version: int
    index_file: str
    kind: str = "flat"
    sha256: str = ""  # of the index file; a manifest without one is not trusted
    store: str = ""  # the identity of the store it was built from (Store.identity)

    def describes(self, model_id: str, store: str, version: int, count: int, kind: str) -> bool:
        """Whether the index was built from this state of this store, for this model and kind."""
        return (self.model_id, self.store, self.store_version, self.count, self.kind) == (
            model_id, store, version, count, kind)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class IndexFiles:
    """A save writes a new index file, then swaps the manifest by rename: a crash at any moment
    leaves the previous manifest and the file it names intact."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.manifest_path = directory / "manifest.json"

    def manifest(self) -> Manifest | None:
        try:
            return Manifest(**json.loads(self.manifest_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive use of the index files, between processes (and threads)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def load(self, manifest: Manifest) -> VectorIndex | None:
        """The index the manifest names, or None if it is missing, damaged or not the file recorded."""
        reader = READERS.get(manifest.kind)
        try:
            data = (self.directory / manifest.index_file).read_bytes()
            if not reader or hashlib.sha256(data).hexdigest() != manifest.sha256:
                return None
            index = reader(data)
        except (OSError, RuntimeError, ValueError):
            return None
        if index is None or index.count() != manifest.count or index.dim != manifest.dim:
            return None
        return index

    def save(self, index: VectorIndex, model_id: str, store_version: int, store: str = "") -> Manifest:
        """Write the index and its manifest, and delete older index files; call under `lock()`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = index.to_bytes()
        manifest = Manifest(model_id, index.dim, index.count(), store_version,
                            f"index-{uuid.uuid4().hex[:12]}.{index.kind}", index.kind, hashlib.sha256(data).hexdigest(),
                            store)
        _write_atomically(self.directory / manifest.index_file, data)
        _write_atomically(self.manifest_path, json.dumps(asdict(manifest), indent=2).encode())
        for old in self.directory.glob("index-*"):
            if old.name != manifest.index_file:
                old.unlink(missing_ok=True)
        return manifest
