"""What only the SQLite backend promises: its file, its migrations, WAL."""

import sqlite3
import time
from contextlib import closing

import pytest

from kb.errors import Busy
from kb.store.sqlite import BUSY_TIMEOUT_S, RETRY_AFTER_S, SqliteStore
from kb.store.sqlite_migrations import MIGRATIONS


def test_a_new_store_is_migrated_and_in_wal_mode(tmp_path):
    SqliteStore(tmp_path / "kb.sqlite3").close()
    with closing(sqlite3.connect(tmp_path / "kb.sqlite3")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteStore(tmp_path / "kb.sqlite3")  # reopening runs no migration twice
    assert again.version() == 0
    again.close()


def test_a_write_while_another_process_holds_the_lock_is_refused_as_busy_and_reads_go_on(tmp_path):
    store = SqliteStore(tmp_path / "kb.sqlite3")
    holder = sqlite3.connect(tmp_path / "kb.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(Busy) as refused:
            with store.write(documents=False) as tx:
                tx.add_user("ann", None, "admin")
        waited = time.monotonic() - started
        assert refused.value.data["retry_after"] == RETRY_AFTER_S
        assert BUSY_TIMEOUT_S * 0.9 <= waited < BUSY_TIMEOUT_S * 3
        started = time.monotonic()
        assert store.users() == [] and store.version() == 0  # a read does not wait for the writer
        assert time.monotonic() - started < waited / 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with store.write(documents=False) as tx:
        tx.add_user("ann", None, "admin")
    assert [u.username for u in store.users()] == ["ann"]
    store.close()
