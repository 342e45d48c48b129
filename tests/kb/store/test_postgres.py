"""What only the PostgreSQL backend promises: a store shared by app servers, each with a local
keyword mirror that ranks as SQLite does, serial writes, and a clear refusal while the database
is away. Against a real server (tests/pg_cluster.py)."""

import sqlite3
import time

import psycopg
import pytest

from kb.documents import stems
from kb.errors import Busy, Unavailable
from kb.files import FileStore, reference
from kb.store.postgres import MIRROR_FILE, LOCK_TIMEOUT_S, RETRY_AFTER_S, WRITE_LOCK, PostgresStore
from kb.store.copy import copy_store
from kb.store.postgres_migrations import MIGRATIONS
from kb.store.sqlite import SqliteStore
from tests.conftest import DOCS, free_port
from tests.kb.store.test_contract import EMB, doc, put

TEXTS = [
    ("heat", "District heating burns coal; large heat pumps replace the coal boilers.", ["energy"]),
    ("bus", "Free buses cut car trips in the centre.", ["mobility"]),
    ("pumps", "Heat pumps in schools, and heating networks fed by waste heat.", ["energy", "buildings"]),
    ("coal", "Coal, coal and coal: the plant closes in 2030.", ["energy"]),
    ("bikes", "Cargo bikes deliver parcels; no coal, no diesel.", ["mobility"]),
]


@pytest.fixture
def url(pg_cluster):
    return pg_cluster.new_database()


def test_keyword_and_dense_rankings_equal_the_sqlite_stores(url, tmp_path):
    sqlite, postgres = SqliteStore(tmp_path / "kb.sqlite3"), PostgresStore(url, tmp_path / "app")
    for store in (sqlite, postgres):
        put(store, *(doc(i, text, domains=domains) for i, text, domains in TEXTS))
        with store.write() as tx:
            tx.remove_documents(["bus"])
        put(store, doc("bus", "Free buses and heat.", domains=["mobility"]))

    def by_document(store, ranking):
        owners = store.passage_owners([pid for pid, _ in ranking])
        return [(owners[pid], round(score, 9)) for pid, score in ranking]

    for terms, filters in [(["coal"], None), (["heat", "pump"], None), (["heat"], {"domain": "energy"}),
                           (["heat", "coal", "bus"], {"domain": "mobility"}), (["diesel"], None)]:
        assert by_document(postgres, postgres.keyword_passages(terms, 10, filters)) == \
            by_document(sqlite, sqlite.keyword_passages(terms, 10, filters))
    assert postgres.passages_with_phrases([["heat pump"]]) == sqlite.passages_with_phrases([["heat pump"]])
    mine, theirs = (s.index_snapshot(EMB.model_id, with_vectors=True) for s in (postgres, sqlite))
    assert (mine.ids == theirs.ids).all() and (mine.vectors == theirs.vectors).all() and mine.owners == theirs.owners
    assert postgres.vocabulary() == sqlite.vocabulary()
    sqlite.close()
    postgres.close()


def test_a_second_app_server_sees_every_write_of_the_first(url, tmp_path):
    first, second = PostgresStore(url, tmp_path / "one"), PostgresStore(url, tmp_path / "two")
    assert second.keyword_passages(["coal"], 10) == []
    put(first, doc("a", "Coal boilers close."))
    assert [second.passage_owners([p])[p] for p, _ in second.keyword_passages(["coal"], 10)] == ["a"]
    put(first, doc("a", "Heat pumps only."), doc("b", "Coal again.", domains=["energy"]))
    assert [second.passage_owners([p])[p] for p, _ in second.keyword_passages(["coal"], 10)] == ["b"]
    assert len(second.keyword_passages(["coal"], 10, {"domain": "energy"})) == 1
    with first.write() as tx:
        tx.remove_documents(["b"])
    assert second.keyword_passages(["coal"], 10) == [] and len(second.keyword_passages(["pump"], 10)) == 1
    first.close()
    second.close()


def test_a_mirror_made_by_another_analysis_of_words_starts_over(url, tmp_path):
    store = PostgresStore(url, tmp_path)
    put(store, doc("a", "Fjärrvärmen utan fossila bränslen.", language="sv"))
    assert len(store.keyword_passages(stems(["fjärrvärme"], "sv"), 10)) == 1
    store.close()
    mirror = sqlite3.connect(tmp_path / MIRROR_FILE)  # as an older version left it: Porter, no analysis named
    mirror.executescript("DELETE FROM state WHERE key = 'analysis'; DROP TABLE chunks_fts; CREATE VIRTUAL TABLE "
                         "chunks_fts USING fts5(title, section, text, tokenize = 'porter unicode61');")
    mirror.close()
    again = PostgresStore(url, tmp_path)
    assert len(again.keyword_passages(stems(["fjärrvärme"], "sv"), 10)) == 1
    again.close()


def test_a_mirror_of_another_database_starts_over(pg_cluster, tmp_path):
    one = PostgresStore(pg_cluster.new_database(), tmp_path)
    put(one, doc("a", "Coal boilers close."))
    assert len(one.keyword_passages(["coal"], 10)) == 1
    one.close()
    other = PostgresStore(pg_cluster.new_database(), tmp_path)  # the same app folder, a new database
    assert other.keyword_passages(["coal"], 10) == []
    put(other, doc("b", "Heat pumps."))
    assert [other.passage_owners([p])[p] for p, _ in other.keyword_passages(["heat"], 10)] == ["b"]
    other.close()


def test_opening_migrates_once_and_refuses_a_newer_schema(url, tmp_path):
    PostgresStore(url, tmp_path).close()
    PostgresStore(url, tmp_path).close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT array_agg(version ORDER BY version) FROM schema_version").fetchone()[0] == \
            list(range(1, len(MIGRATIONS) + 1))
        conn.execute("INSERT INTO schema_version VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(RuntimeError, match="newer than this program knows"):
        PostgresStore(url, tmp_path)


def test_a_write_while_another_server_writes_waits_then_is_refused_as_busy(url, tmp_path):
    store = PostgresStore(url, tmp_path)
    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        started = time.monotonic()
        with pytest.raises(Busy) as refused:
            with store.write(documents=False) as tx:
                tx.add_user("ann", None, "admin")
        assert LOCK_TIMEOUT_S * 0.9 <= time.monotonic() - started < LOCK_TIMEOUT_S * 3
        assert refused.value.data["retry_after"] == RETRY_AFTER_S and not isinstance(refused.value, Unavailable)
        assert store.users() == [] and store.version() == 0  # reads do not wait for the writer
    with store.write(documents=False) as tx:
        tx.add_user("ann", None, "admin")
    assert [u.username for u in store.users()] == ["ann"]
    store.close()


def test_while_the_database_is_down_calls_are_refused_as_unavailable_and_recover_after(tmp_path):
    from tests.pg_cluster import Cluster

    cluster = Cluster(free_port())
    try:
        store = PostgresStore(cluster.new_database(), tmp_path)
        put(store, doc("a", DOCS["measures/heat.md"]))
        cluster.stop()
        for call in (store.version, lambda: store.keyword_passages(["coal"], 10), lambda: put(store, doc("b"))):
            with pytest.raises(Unavailable) as refused:
                call()
            assert refused.value.data["retry_after"] == RETRY_AFTER_S and "cannot be reached" in str(refused.value)
            assert "127.0.0.1" in str(refused.value)
        cluster.start()
        assert store.version() == 1 and store.document_count() == 1
        put(store, doc("b"))
        assert store.document_count() == 2
        store.close()
    finally:
        cluster.destroy()


def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    with pytest.raises(Unavailable) as refused:
        PostgresStore(f"postgresql://kb:secret@127.0.0.1:{free_port()}/kb", tmp_path)
    assert "postgresql://127.0.0.1" in str(refused.value) and "secret" not in str(refused.value)


def test_a_file_kept_through_one_server_is_served_by_another_and_copied_along(pg_cluster, url, tmp_path):
    first, second = PostgresStore(url, tmp_path / "one"), PostgresStore(url, tmp_path / "two")
    ref = reference("Report 2024.pdf", b"%PDF-1.7 the report")
    FileStore(tmp_path / "one" / "files", first).keep(ref, b"%PDF-1.7 the report")
    theirs = FileStore(tmp_path / "two" / "files", second)
    assert theirs.has(ref) and theirs.open(ref)[0].read_bytes() == b"%PDF-1.7 the report"
    assert (tmp_path / "two" / "files" / ref).is_file()  # now cached in the second server's folder
    assert not theirs.has("c" * 64 + "/other.pdf")
    first.close()
    second.close()

    sqlite = SqliteStore(tmp_path / "sqlite" / "kb.sqlite3")
    kept = FileStore(tmp_path / "sqlite" / "files", sqlite)
    kept.keep(ref, b"%PDF-1.7 the report")
    assert kept.store is None and sqlite.file(ref) is None  # one machine: the folder alone keeps files
    moved = PostgresStore(pg_cluster.new_database(), tmp_path / "moved")
    report = copy_store(sqlite, moved, kept.in_folder())
    assert all(t.ok for t in report) and {t.table: t.rows for t in report}["files"] == 1
    assert moved.file(ref) == b"%PDF-1.7 the report"
    sqlite.close()
    moved.close()
