import json

from kb.knowledge_base import KnowledgeBase


def test_index_is_loaded_when_the_manifest_matches(indexed, embedder, tmp_path):
    again = KnowledgeBase(indexed.data, embedder=embedder)
    state = again.refresh_index()
    assert state.status == "loaded" and state.count == indexed.store.counts()["chunks"]


def test_a_stale_index_is_rebuilt_from_stored_vectors_without_embedding(indexed, embedder):
    indexed.remove(["bus"])  # the store moves on; the saved index does not
    embedded_before = embedder.embedded
    again = KnowledgeBase(indexed.data, embedder=embedder)
    state = again.refresh_index()
    assert state.status == "rebuilt"
    assert state.count == again.store.counts()["chunks"]
    assert embedder.embedded == embedded_before
    assert again.refresh_index().status == "current"
    assert KnowledgeBase(indexed.data, embedder=embedder).refresh_index().status == "loaded"  # it was saved


def test_a_damaged_manifest_means_a_rebuild(indexed, embedder):
    (indexed.data / "index" / "manifest.json").write_text(json.dumps({"model_id": 1}))
    assert KnowledgeBase(indexed.data, embedder=embedder).refresh_index().status == "rebuilt"


def test_info_reports_counts_and_index_state(indexed):
    info = indexed.info()
    assert info["documents"] == 4 and info["cities"] == 3
    assert info["by_kind"] == {"measure": 2, "workshop_output": 1, "portal_resource": 1}
    assert info["index"]["state"] == "current" and info["model"] == "fake-64"


def test_another_process_writes_are_caught_up_without_a_rebuild(indexed, embedder):
    from kb.documents import validate

    reader = KnowledgeBase(indexed.data, embedder=embedder)
    assert reader.refresh_index().status == "loaded"
    writer = KnowledgeBase(indexed.data, embedder=embedder)
    note = validate({"id": "n1", "title": "Geothermal wells", "kind": "case_note", "city": "Helsinki",
                     "country": "Finland", "domains": ["energy"]}, "Deep geothermal wells feed the heat network.")
    writer.ingest([note])
    writer.remove(["bus"])
    state = reader.refresh_index()
    assert state.status == "caught-up" and state.count == writer.store.counts()["chunks"]
    from kb.search import search
    assert search(reader, "geothermal wells", k=1)[0].doc_id == "n1"
    assert "bus" not in [r.doc_id for r in search(reader, "free buses", k=10)]


def test_passage_owners_come_from_memory_and_from_the_store_for_newer_writes(indexed, embedder):
    from kb.documents import validate

    reader = KnowledgeBase(indexed.data, embedder=embedder)
    reader.refresh_index()
    known = reader.store.index_snapshot(embedder.model_id, with_vectors=False).owners
    writer = KnowledgeBase(indexed.data, embedder=embedder)
    writer.ingest([validate({"id": "n2", "title": "Solar roofs", "kind": "case_note", "city": "Helsinki",
                             "country": "Finland", "domains": ["energy"]}, "Solar panels on school roofs.")])
    newer = [i for i, doc in writer.store.index_snapshot(embedder.model_id, False).owners.items() if doc == "n2"]
    assert reader.owners([*known, *newer]) == {**known, **dict.fromkeys(newer, "n2")}  # not yet caught up
    reader.refresh_index()
    writer.remove(["n2"])
    reader.refresh_index()
    assert reader.owners(newer) == {}  # deleted: neither in memory nor in the store


def test_a_query_embedded_ahead_is_not_embedded_again(indexed, embedder):
    from kb.search import dense_text, search

    query = '  "district heating"   phase-out '
    indexed.embed_query(dense_text(query))
    calls = embedder.calls
    search(indexed, query, k=3)
    assert embedder.calls == calls
