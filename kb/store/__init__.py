"""The store: the single source of truth, and the only place in the project that holds SQL.

`open_store` picks the backend; `kb/store/base.py` is the interface every backend implements."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from kb.store.base import (
    AskedText, Changes, City, Cursor, Digest, Event, IndexSnapshot, Meeting, NoteRecord, NoteVersion, Pairing, Passage, PlanComment, PlanRecord,
    LoggedSearch, SearchDay, ShortlistItem, Store, StoredDocument, Transaction, UserRecord,
)
from kb.store.sqlite import SqliteStore

STORE_FILE = "kb.sqlite3"  # the SQLite store's file inside a data folder

__all__ = [
    "STORE_FILE", "AskedText", "Changes", "City", "Cursor", "Digest", "Event", "IndexSnapshot", "LoggedSearch", "Meeting", "NoteRecord", "NoteVersion", "Pairing", "Passage", "PlanComment",
    "PlanRecord", "SearchDay", "ShortlistItem", "Store",
    "StoredDocument", "Transaction", "UserRecord", "describe", "open_store", "store_exists",
]


def open_store(data: Path, url: str = "") -> Store:
    """The store at `url` (postgresql://…, shared by app servers whose own data folder is
    `data`), or without one the SQLite store in the data folder `data`."""
    if url:
        from kb.store.postgres import PostgresStore  # psycopg is loaded only where it is used

        return PostgresStore(url, Path(data))
    return SqliteStore(Path(data) / STORE_FILE)


def store_exists(data: Path, url: str = "") -> bool:
    """Whether there is a knowledge base to serve (a database at `url` is found by connecting)."""
    return bool(url) or (Path(data) / STORE_FILE).exists()


def describe(url: str) -> str:
    """A database's address without its password, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}{parts.path}"
