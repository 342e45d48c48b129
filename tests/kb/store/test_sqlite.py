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


def test_a_store_indexed_by_porter_is_indexed_again_in_each_passages_language(tmp_path):
    """Migration 14: the keyword index made again as kb/documents/analysis.py reads passages."""
    from kb.documents import stems
    from tests.kb.store.test_contract import doc, put

    store = SqliteStore(tmp_path / "kb.sqlite3")
    put(store, doc("sv", "Fjärrvärmen utan fossila bränslen.", language="sv"))
    store.close()
    with closing(sqlite3.connect(tmp_path / "kb.sqlite3")) as db:  # as schema 13 left it
        db.executescript("DROP TABLE chunks_fts; CREATE VIRTUAL TABLE chunks_fts USING fts5(title, section, text, "
                         "tokenize = 'porter unicode61 remove_diacritics 2'); INSERT INTO chunks_fts (rowid, title, "
                         "section, text) SELECT c.id, d.title, coalesce(c.section, ''), c.text FROM chunks c "
                         "JOIN documents d ON d.id = c.doc_id; DROP INDEX chunks_language; "
                         "ALTER TABLE chunks DROP COLUMN language; ALTER TABLE users DROP COLUMN language; "
                         "PRAGMA user_version = 13;")
    store = SqliteStore(tmp_path / "kb.sqlite3")
    assert len(store.keyword_passages(stems(["fjärrvärme"], "sv"), 10)) == 1
    store.close()


def test_passages_stored_before_they_had_a_language_take_their_documents(tmp_path):
    """Migration 15: each passage's language, filled as it was analysed (its document's, English
    in the English summary), and the accounts' interface language, none chosen."""
    from kb.documents import stems
    from tests.kb.store.test_contract import doc, put

    store = SqliteStore(tmp_path / "kb.sqlite3")
    put(store, doc("sv", "## Bakgrund\nFjärrvärmen utan fossila bränslen.\n\n"
                         "## In English (summary by the author)\nDistrict heating without fossil fuels.", language="sv"))
    with store.write(documents=False) as tx:
        tx.add_user("ann", None, "admin")
    store.close()
    with closing(sqlite3.connect(tmp_path / "kb.sqlite3")) as db:  # as schema 14 left it
        db.executescript("DROP INDEX chunks_language; ALTER TABLE chunks DROP COLUMN language; "
                         "ALTER TABLE users DROP COLUMN language; PRAGMA user_version = 14;")
    store = SqliteStore(tmp_path / "kb.sqlite3")
    assert [(p.section, p.language) for p in store.passages_of("sv")] == [
        ("Bakgrund", "sv"), ("In English (summary by the author)", "en")]
    assert store.user("ann").language is None and store.languages_of(["sv"]) == {"sv": ("sv", "en")}
    assert len(store.keyword_passages(stems(["fjärrvärme"], "sv"), 10)) == 1
    assert len(store.keyword_passages(stems(["fuels"], "en"), 10)) == 1
    store.close()
