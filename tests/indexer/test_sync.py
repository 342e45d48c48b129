from indexer import read_corpus, sync

from tests.conftest import write_corpus


def test_first_sync_adds_everything_then_nothing_changes(kb, corpus, embedder, another):
    first = sync(kb, read_corpus(corpus))
    assert (len(first.added), len(first.updated), len(first.removed), first.unchanged) == (4, 0, 0, 0)
    embedded = embedder.embedded
    second = sync(kb, read_corpus(corpus))
    assert (len(second.added), len(second.updated), len(second.removed), second.unchanged) == (0, 0, 0, 4)
    assert embedder.embedded == embedded
    assert second.index.status == "current"
    assert another(kb.data).refresh_index().status == "loaded"


def test_an_edit_re_embeds_only_the_changed_passages(kb, corpus, embedder):
    sync(kb, read_corpus(corpus))
    path = corpus / "measures" / "heat.md"
    path.write_text(path.read_text().replace("must stop.", "must stop by 2030."))
    embedded = embedder.embedded
    report = sync(kb, read_corpus(corpus))
    assert report.updated == ["heat"] and report.passages_embedded == 1
    assert embedder.embedded == embedded + 1
    assert report.index.count == kb.store.counts()["chunks"]


def test_a_document_that_left_the_corpus_is_removed(kb, corpus):
    sync(kb, read_corpus(corpus))
    (corpus / "measures" / "bus.md").unlink()
    report = sync(kb, read_corpus(corpus))
    assert report.removed == ["bus"] and kb.store.document("bus") is None


def test_a_now_broken_file_keeps_its_previous_version(kb, corpus):
    sync(kb, read_corpus(corpus))
    (corpus / "measures" / "bus.md").write_text("---\ntitle: [broken\n---\n")
    report = sync(kb, read_corpus(corpus))
    assert report.removed == [] and report.errors
    assert kb.store.document("bus").title == "Free buses to cut car trips"


def test_published_notes_are_not_removed_by_a_sync(kb, corpus, tmp_path):
    from kb.documents import validate

    note = validate({"id": "note-1", "title": "Note", "kind": "case_note", "city": "Helsinki",
                     "country": "Finland", "domains": ["energy"]}, "Published through the web app.")
    kb.ingest([note])
    report = sync(kb, read_corpus(corpus))
    assert "note-1" not in report.removed and kb.store.document("note-1") is not None


def test_a_change_of_model_re_embeds_everything(tmp_path, corpus, another):
    from kb.embedding.fake import FakeEmbedder

    sync(another(tmp_path / "d", embedder=FakeEmbedder()), read_corpus(corpus))
    other = another(tmp_path / "d", embedder=FakeEmbedder(dim=32, model_id="fake-32"))
    report = sync(other, read_corpus(corpus))
    assert len(report.updated) == 4 and report.index.count == other.store.counts()["chunks"]
    assert other.index.dim == 32


def test_broken_files_do_not_stop_the_rest(kb, tmp_path):
    root = write_corpus(tmp_path / "c", {"ok.md": "---\ntitle: OK\nkind: portal_resource\n---\nFine.\n",
                                         "bad.md": "---\ntitle: Bad\nkind: nonsense\n---\nBody\n"}, cities=None)
    report = sync(kb, read_corpus(root))
    assert report.added == ["ok"] and report.errors == [
        "bad.md:3: kind: 'nonsense' is not one of measure, case_note, workshop_output, portal_resource, "
        "replication_plan"]
