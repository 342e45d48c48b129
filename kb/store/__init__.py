"""The store: the single source of truth, and the only place in the project that holds SQL.

`open_store` picks the backend; `kb/store/base.py` is the interface every backend implements."""

from __future__ import annotations

from pathlib import Path

from kb.store.base import (
    Changes, City, Cursor, IndexSnapshot, NoteRecord, NoteVersion, Pairing, Passage, PlanComment, PlanRecord,
    ShortlistItem, Store, StoredDocument, Transaction, UserRecord,
)
from kb.store.sqlite import SqliteStore

STORE_FILE = "kb.sqlite3"  # the SQLite store's file inside a data folder

__all__ = [
    "STORE_FILE", "Changes", "City", "Cursor", "IndexSnapshot", "NoteRecord", "NoteVersion", "Pairing", "Passage", "PlanComment",
    "PlanRecord", "ShortlistItem", "Store",
    "StoredDocument", "Transaction", "UserRecord", "open_store", "store_exists",
]


def open_store(data: Path) -> Store:
    """The store of the data folder `data`."""
    return SqliteStore(Path(data) / STORE_FILE)


def store_exists(data: Path) -> bool:
    return (Path(data) / STORE_FILE).exists()
