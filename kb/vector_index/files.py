"""An index on disk: `manifest.json` names the index file it describes and what it was built
from (model, dimension, passage count, store version, kind), so it is trusted only while that
matches the store."""

from __future__ import annotations

import json
import os
import uuid
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

    def load(self, manifest: Manifest) -> VectorIndex | None:
        reader = READERS.get(manifest.kind)
        try:
            index = reader((self.directory / manifest.index_file).read_bytes()) if reader else None
        except (OSError, RuntimeError, ValueError):
            return None
        if index is None or index.count() != manifest.count or index.dim != manifest.dim:
            return None
        return index

    def save(self, index: VectorIndex, model_id: str, store_version: int) -> Manifest:
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(model_id, index.dim, index.count(), store_version,
                            f"index-{uuid.uuid4().hex[:12]}.{index.kind}", index.kind)
        _write_atomically(self.directory / manifest.index_file, index.to_bytes())
        _write_atomically(self.manifest_path, json.dumps(asdict(manifest), indent=2).encode())
        for old in self.directory.glob("index-*"):
            if old.name != manifest.index_file:
                old.unlink(missing_ok=True)
        return manifest
