import numpy as np

from kb.chunking import chunk_practice
from kb.documents import validate
from kb.embedder import FakeEmbedder
from kb.migrations import MIGRATIONS
from kb.store import Store


def test_a_new_store_is_migrated_and_in_wal_mode(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = Store(tmp_path / "kb.sqlite3")  # reopening runs no migration twice
    assert again.version() == 0


def test_write_replace_delete_keeps_passages_and_fts_in_step(tmp_path):
    store, emb = Store(tmp_path / "kb.sqlite3"), FakeEmbedder()
    doc = validate({"id": "d", "title": "Heat", "kind": "portal_resource"}, "## A\nheat pumps\n## B\ncoal")
    chunks = chunk_practice(doc, emb)
    store.write_documents([(doc, chunks, emb.embed([c.embedding_text for c in chunks]))], emb.model_id)
    assert store.counts()["chunks"] == 2
    assert store.db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'pump'").fetchone()[0] == 1
    ids, matrix = store.vectors(emb.model_id)
    assert matrix.shape == (2, emb.dim) and np.allclose(np.linalg.norm(matrix, axis=1), 1)

    store.write_documents([(doc, chunks[:1], emb.embed([chunks[0].embedding_text]))], emb.model_id)
    assert store.counts()["chunks"] == 1
    store.delete_documents(["d"])
    assert store.counts()["chunks"] == 0
    assert store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 0
    assert store.version() == 3


def test_a_failed_transaction_leaves_the_store_as_it_was(tmp_path):
    store = Store(tmp_path / "kb.sqlite3")
    try:
        with store.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('x', 'y')")
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert store.db.execute("SELECT count(*) FROM meta WHERE key = 'x'").fetchone()[0] == 0
    assert store.version() == 0


def test_filters_select_documents_exactly(indexed):
    store = indexed.store
    docs_of = lambda f: {r["doc_id"] for r in store.chunks(store.chunk_ids_matching(f)).values()}  # noqa: E731
    assert docs_of({"domain": "energy"}) == {"heat", "visit", "contract"}
    assert docs_of({"domain": "energy", "kind": "measure"}) == {"heat"}
    assert docs_of({"country": "france"}) == {"bus"}
    assert docs_of({"lever": "governance-policy", "city": "Helsinki"}) == set()


def test_replacing_cities_does_not_touch_the_document_version(tmp_path):
    from kb.store import City

    store = Store(tmp_path / "kb.sqlite3")
    store.replace_cities([City("Umeå", "Sweden", "pilot")])
    assert store.version() == 0 and [c.city for c in store.cities()] == ["Umeå"]
