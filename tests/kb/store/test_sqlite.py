"""What only the SQLite backend promises: its file, its migrations, WAL."""

import sqlite3
from contextlib import closing

from kb.store.sqlite import SqliteStore
from kb.store.sqlite_migrations import MIGRATIONS


def test_a_new_store_is_migrated_and_in_wal_mode(tmp_path):
    SqliteStore(tmp_path / "kb.sqlite3").close()
    with closing(sqlite3.connect(tmp_path / "kb.sqlite3")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteStore(tmp_path / "kb.sqlite3")  # reopening runs no migration twice
    assert again.version() == 0
    again.close()
