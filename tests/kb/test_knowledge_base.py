import json
import shutil
import subprocess
import sys


from tests.conftest import REPO, find


def test_index_is_loaded_when_the_manifest_matches(indexed, tmp_path, another):
    again = another(indexed.data)
    state = again.refresh_index()
    assert state.status == "loaded" and state.count == indexed.store.counts()["chunks"]


def test_a_stale_index_is_rebuilt_from_stored_vectors_without_embedding(indexed, embedder, another):
    indexed.remove(["bus"])  # the store moves on; the saved index does not
    embedded_before = embedder.embedded
    again = another(indexed.data)
    state = again.refresh_index()
    assert state.status == "rebuilt"
    assert state.count == again.store.counts()["chunks"]
    assert embedder.embedded == embedded_before
    assert again.refresh_index().status == "current"
    assert another(indexed.data).refresh_index().status == "loaded"  # it was saved


def test_a_damaged_manifest_means_a_rebuild(indexed, another):
    (indexed.data / "index" / "manifest.json").write_text(json.dumps({"model_id": 1}))
    assert another(indexed.data).refresh_index().status == "rebuilt"


def test_info_reports_counts_and_index_state(indexed):
    info = indexed.info()
    assert info["documents"] == 4 and info["cities"] == 3
    assert info["by_kind"] == {"measure": 2, "workshop_output": 1, "portal_resource": 1}
    assert info["index"]["state"] == "current" and info["model"] == "fake-64"


def test_another_process_writes_are_caught_up_without_a_rebuild(indexed, another):
    from kb.documents import validate

    reader = another(indexed.data)
    assert reader.refresh_index().status == "loaded"
    writer = another(indexed.data)
    note = validate({"id": "n1", "title": "Geothermal wells", "kind": "case_note", "city": "Helsinki",
                     "country": "Finland", "domains": ["energy"]}, "Deep geothermal wells feed the heat network.")
    writer.ingest([note])
    writer.remove(["bus"])
    state = reader.refresh_index()
    assert state.status == "caught-up" and state.count == writer.store.counts()["chunks"]
    assert find(reader, "geothermal wells", k=1)[0].doc_id == "n1"
    assert "bus" not in [r.doc_id for r in find(reader, "free buses", k=10)]


def test_passage_owners_come_from_memory_and_from_the_store_for_newer_writes(indexed, embedder, another):
    from kb.documents import validate

    reader = another(indexed.data)
    reader.refresh_index()
    known = reader.store.index_snapshot(embedder.model_id, with_vectors=False).owners
    writer = another(indexed.data)
    writer.ingest([validate({"id": "n2", "title": "Solar roofs", "kind": "case_note", "city": "Helsinki",
                             "country": "Finland", "domains": ["energy"]}, "Solar panels on school roofs.")])
    newer = [i for i, doc in writer.store.index_snapshot(embedder.model_id, False).owners.items() if doc == "n2"]
    assert reader.owners([*known, *newer]) == {**known, **dict.fromkeys(newer, "n2")}  # not yet caught up
    reader.refresh_index()
    writer.remove(["n2"])
    reader.refresh_index()
    assert reader.owners(newer) == {}  # deleted: neither in memory nor in the store


def test_a_repeated_query_is_not_embedded_again(indexed, embedder):
    """A page searches one query two or three times (results, facets, partners), and people
    type, page and switch modes: the query's vector is kept."""
    query = '  "district heating"   phase-out '
    find(indexed, query, k=3)
    calls = embedder.calls
    find(indexed, query, k=20, mode="dense")
    indexed.search_page(query, k=20)
    assert embedder.calls == calls


def test_a_document_that_does_not_say_its_language_has_it_detected(kb, tmp_path, embedder):
    from indexer import read_corpus, sync

    from tests.conftest import write_corpus

    docs = {"sv.md": "---\ntitle: Fjärrvärme utan fossila bränslen\nkind: portal_resource\n---\n"
                     "Kommunen ersätter kolet i fjärrvärmenätet med värmepumpar och spillvärme från industrin.\n",
            "de.md": "---\ntitle: Wärmepumpen\nkind: portal_resource\nlanguage: de\n---\nSo steht es im Text.\n"}
    corpus = write_corpus(tmp_path / "c", docs, cities=None)
    sync(kb, read_corpus(corpus))
    assert kb.store.document("sv").language == "sv" and kb.store.document("de").language == "de"
    embedded = embedder.embedded
    again = sync(kb, read_corpus(corpus))  # the source did not change: nothing is detected or embedded again
    assert again.unchanged == 2 and embedder.embedded == embedded


def test_a_replaced_index_file_of_the_right_size_is_not_trusted(indexed, another):
    files = indexed.data / "index"
    manifest = json.loads((files / "manifest.json").read_text())
    index = files / manifest["index_file"]
    data = bytearray(index.read_bytes())
    data[-64:] = bytes(64)  # same count and dimension; other vectors
    index.write_bytes(bytes(data))
    assert another(indexed.data).refresh_index().status == "rebuilt"
    assert another(indexed.data).refresh_index().status == "loaded"


def test_processes_starting_together_over_a_missing_index_build_it_once(indexed):
    shutil.rmtree(indexed.data / "index")
    script = ("import sys; from kb.knowledge_base import KnowledgeBase; from kb.embedding.fake import FakeEmbedder; "
              "print(KnowledgeBase(sys.argv[1], embedder=FakeEmbedder()).refresh_index().status)")
    starts = [subprocess.Popen([sys.executable, "-c", script, str(indexed.data)], stdout=subprocess.PIPE, text=True,
                               cwd=REPO) for _ in range(4)]
    statuses = sorted(p.communicate(timeout=60)[0].strip() for p in starts)
    assert statuses == ["loaded", "loaded", "loaded", "rebuilt"]
    manifest = json.loads((indexed.data / "index" / "manifest.json").read_text())
    assert [p.name for p in (indexed.data / "index").glob("index-*")] == [manifest["index_file"]]
