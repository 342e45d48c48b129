"""The vector index interface: inner-product search over passage vectors keyed by passage id.

The index is derived: it is built from the store's vectors and can be deleted at any time."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    dim: int
    kind: str  # written to the manifest, so that `IndexFiles.load` reads the file back

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids), best first; with `allowed`, the exact top-k among those ids."""

    def count(self) -> int: ...

    def to_bytes(self) -> bytes: ...
