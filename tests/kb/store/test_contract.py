"""The store contract: what every backend must do, checked through the interface only."""

import threading

import numpy as np
import pytest

from kb.documents import analyse, chunk_practice, fingerprint, stems, validate
from kb.embedding.fake import FakeEmbedder
from kb.errors import Invalid
from kb.store import City, Cursor, NoteRecord, PlanRecord
from kb.store.copy import copy_store
from kb.store.rows import TABLES
from kb.store.sqlite import SqliteStore

EMB = FakeEmbedder()


def doc(doc_id="d", body="## A\nheat pumps\n## B\ncoal", **fields):
    return validate({"id": doc_id, "title": "Heat", "kind": "portal_resource", "language": "en", **fields}, body)


def put(store, *practices, documents=True):
    with store.write(documents=documents) as tx:
        for practice in practices:
            chunks = chunk_practice(practice, EMB)
            tx.put_document(practice, chunks, EMB.embed([c.embedding_text for c in chunks]), EMB.model_id,
                            fingerprint(practice))


def test_a_new_store_is_empty_at_version_zero(store):
    assert store.version() == 0 and store.document_count() == 0 and store.passage_count() == 0
    assert store.cities() == [] and store.users() == []


def test_documents_round_trip_with_their_passages_and_vectors(store):
    practice = doc(city="Umeå", country="Sweden", kind="measure", domains=["energy"], levers=["technology"],
                   date="2024-05", sample=True)
    put(store, practice)
    assert store.document("d") == practice and store.documents(["d", "nope"]) == {"d": practice}
    snapshot = store.index_snapshot(EMB.model_id, with_vectors=True)
    assert snapshot.count == 2 and set(snapshot.owners.values()) == {"d"}
    assert snapshot.vectors.shape == (2, EMB.dim) and np.allclose(np.linalg.norm(snapshot.vectors, axis=1), 1)
    passages = store.passages(snapshot.ids.tolist())
    assert [p.section for p in passages.values()] == ["A", "B"] and store.passage_owners(snapshot.ids) == snapshot.owners
    assert store.stored_documents()["d"].model_id == EMB.model_id
    assert store.stored_documents()["d"].content_hash == fingerprint(practice)
    assert store.documents_of_city("umeå") == [practice] and store.document_counts_by_city() == {"Umeå": 1}


def test_replacing_and_removing_keep_passages_and_keywords_in_step(store):
    put(store, doc())
    assert store.passage_count() == 2 and len(store.keyword_passages(["pump"], 10)) == 1
    put(store, doc(body="## A\nheat pumps"))
    assert store.passage_count() == 1 and store.keyword_passages(["coal"], 10) == []
    with store.write() as tx:
        tx.remove_documents(["d"])
    assert store.passage_count() == 0 and store.keyword_passages(["heat"], 10) == []
    assert store.version() == 3


def test_each_passage_is_indexed_in_its_own_language(store):
    """Issue 27, item 2: Snowball stems of the passage's language, folded; the English summary a
    document in another language ends with, in English."""
    put(store, doc("sv", "## Bakgrund\nFjärrvärmen utan fossila bränslen.\n"
                         "## In English (summary by the knowledge base team)\nCommunities heating their homes.",
                   language="sv"))
    owners = store.passage_owners

    def found(word, language):
        return {owners([p])[p] for p, _ in store.keyword_passages(stems([word], language), 10)}

    assert found("fjärrvärme", "sv") == found("fjarrvarmens", "sv") == found("bränsle", "sv") == {"sv"}
    assert found("community", "en") == {"sv"}  # a word of the English summary, by its English stem
    assert store.passages_with_phrases([[analyse("fossil fuels", "en"), analyse("fossila bränsle", "sv")]])


def test_keyword_ranking_filters_and_phrases(store):
    put(store, doc("a", "District heating burns coal.", domains=["energy"]),
        doc("b", "Coal coal coal and more coal in heating.", domains=["industry"]),
        doc("c", "Free buses for everyone.", domains=["mobility"]))
    owners = store.passage_owners
    ranked = store.keyword_passages(["coal"], 10)
    assert [owners([pid])[pid] for pid, _ in ranked] == ["b", "a"] and ranked[0][1] > ranked[1][1] > 0
    only_energy = store.keyword_passages(["coal"], 10, {"domain": "energy"})
    assert [owners([pid])[pid] for pid, _ in only_energy] == ["a"]
    phrase = store.passages_with_phrases([["district heat"]])  # analysed, as a query gives them
    assert {owners([pid])[pid] for pid in phrase} == {"a"}
    assert store.keyword_passages(["coal"], 10, within=np.array(list(phrase))) == only_energy
    assert set(owners(store.passage_ids_matching({"domain": "mobility"}).tolist()).values()) == {"c"}
    for odd in ['"', "NEAR(", "a AND OR", "*", "'; DROP TABLE documents; --"]:
        assert isinstance(store.keyword_passages([odd], 10), list)
    assert store.document_count() == 3


def test_reusable_vectors_and_document_means(store):
    put(store, doc("a"), doc("b", "## A\nheat pumps"))
    chunks = chunk_practice(doc("a"), EMB)
    known = store.reusable_vectors([c.content_hash for c in chunks] + ["nothing"], EMB.model_id)
    assert set(known) == {c.content_hash for c in chunks} and store.reusable_vectors(known, "other-model") == {}
    ids, means = store.document_vectors(EMB.model_id)
    assert ids == ["a", "b"] and np.allclose(np.linalg.norm(means, axis=1), 1)
    one, mean = store.document_vectors(EMB.model_id, ["b"])
    assert one == ["b"] and np.allclose(mean[0], means[1])


def test_changes_since_a_cursor(store):
    put(store, doc("a"))
    start = store.index_snapshot(EMB.model_id, with_vectors=False).cursor
    put(store, doc("b"))
    with store.write() as tx:
        tx.remove_documents(["a"])
    changes = store.changes_since(start, EMB.model_id)
    assert changes.added_owners == ["b", "b"] and changes.added_vectors.shape == (2, EMB.dim)
    assert len(changes.deleted_ids) == 2 and changes.count == 2 and changes.version == store.version()
    assert store.changes_since(changes.cursor, EMB.model_id).added_owners == []
    assert store.changes_since(Cursor(), EMB.model_id).count == 2


def test_a_failed_transaction_leaves_the_store_as_it_was(store):
    with pytest.raises(RuntimeError):
        with store.write() as tx:
            tx.put_document(doc(), [], np.zeros((0, EMB.dim)), EMB.model_id, "x")
            raise RuntimeError("crash")
    assert store.document_count() == 0 and store.version() == 0


def test_cities_and_accounts_do_not_touch_the_document_version(store):
    with store.write(documents=False) as tx:
        tx.replace_cities([City("Umeå", "Sweden", "pilot", 1, 130000, 63.8, 20.3, "X", ("energy",))])
        user_id = tx.add_user("hel", "Umeå", "pilot")
        tx.set_user_secrets(user_id, "p", "t")
        tx.record_login_failure("hel", "10.0.0.1", 10.0)
        tx.record_login_failure("HEL", "10.0.0.1", 20.0)
        tx.record_login_failure("hel", "10.0.0.2", 30.0)
        tx.record_login_failure("other", "10.0.0.2", 40.0)
    assert store.version() == 0
    assert store.city("umeå") == City("Umeå", "Sweden", "pilot", 1, 130000, 63.8, 20.3, "X", ("energy",))
    assert store.user("HEL").password_hash == "p" and store.user_by_id(user_id).username == "hel"
    assert store.login_failures("hel", "10.0.0.1", 5.0) == (2, 20.0)
    assert store.login_failures("hel", "10.0.0.1", 15.0) == (1, 20.0)
    assert store.client_failures("10.0.0.2", 0.0) == (2, 40.0)
    with store.write(documents=False) as tx:
        tx.set_user_disabled(user_id, True)
        tx.clear_login_failures("hel", "10.0.0.1")
    assert store.user("hel").disabled and store.login_failures("hel", "10.0.0.1", 0.0)[0] == 0
    assert store.login_failures("hel", "10.0.0.2", 0.0)[0] == 1
    with store.write(documents=False) as tx:
        tx.clear_login_failures("hel")
        tx.set_user_token_hash(user_id, "sha256$x")
    assert store.login_failures("hel", "10.0.0.2", 0.0)[0] == 0 and store.user("hel").token_hash == "sha256$x"


def test_sessions_end_one_by_one_all_at_once_or_when_they_expire(store):
    with store.write(documents=False) as tx:
        ann, bob = tx.add_user("ann", None, "admin"), tx.add_user("bob", None, "admin")
        tx.add_session("s1", ann, 100.0)
        tx.add_session("s2", ann, 100.0)
        tx.add_session("s3", bob, 100.0)
    assert [store.session_user(s, 50.0) for s in ("s1", "s2", "s3", "nope")] == [ann, ann, bob, None]
    assert store.session_user("s1", 100.0) is None  # expired
    with store.write(documents=False) as tx:
        tx.end_session("s1")
    assert store.session_user("s1", 50.0) is None and store.session_user("s2", 50.0) == ann
    with store.write(documents=False) as tx:
        tx.end_sessions(ann)
    assert store.session_user("s2", 50.0) is None and store.session_user("s3", 50.0) == bob
    with store.write(documents=False) as tx:
        tx.add_session("s4", bob, 300.0)
        tx.record_login_failure("bob", "c", 150.0)
        tx.record_login_failure("bob", "c", 250.0)
        tx.forget_before(200.0)
    assert store.session_user("s3", 50.0) is None and store.session_user("s4", 50.0) == bob
    assert store.login_failures("bob", "c", 0.0) == (1, 250.0)


def test_notes_and_their_versions(store):
    record = NoteRecord("n1", "Umeå", "Sweden", {"title": "T"}, 1, False)
    with store.write() as tx:
        assert tx.note("n1") is None
        tx.save_note(record, None)
        tx.record_note_version("n1", 1, "create", {"title": "T"}, None)
    with store.write() as tx:
        tx.save_note(NoteRecord("n1", "Umeå", "Sweden", {"title": "T2"}, 2, True), None)
        tx.record_note_version("n1", 2, "delete", {"title": "T2"}, None)
    assert store.note("n1").fields == {"title": "T2"} and store.note("n1").deleted
    assert [(v.version, v.action) for v in store.note_versions("n1")] == [(1, "create"), (2, "delete")]
    assert store.live_note_ids() == []


def test_threads_read_while_another_writes(store):
    put(store, doc("a"))
    errors = []

    def reader():
        try:
            for _ in range(50):
                assert store.document("a") is not None
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(10):
        put(store, doc(f"w{i}"))
    for t in threads:
        t.join()
    assert errors == [] and store.document_count() == 11


def test_the_vocabulary_follows_writes_and_removals(store):
    put(store, doc("a", "District heating, district cooling."), doc("b", "District heating again."))
    vocabulary = store.vocabulary()
    assert vocabulary["district"] == 3 and vocabulary["heating"] == 2 and vocabulary["heat"] == 2  # titles count
    assert store.vocabulary(least=3) == {"district": 3}
    with store.write() as tx:
        tx.remove_documents(["a"])
    assert store.vocabulary() == {"heat": 1, "district": 1, "heating": 1, "again": 1}


def test_the_workspace_pairings_and_counts(store):
    put(store, doc("a", domains=["energy", "buildings"], levers=["finance-funding"]), doc("b", domains=["energy"]))
    with store.write(documents=False) as tx:
        ann = tx.add_user("ann", "Kozani", "twin")
        assert tx.keep("Kozani", "a", ann) and not tx.keep("Kozani", "a", ann) and tx.keep("Kozani", "b", None)
        assert tx.update_kept("Kozani", "a", "adopting", "first") and not tx.update_kept("Kozani", "z", "dropped", "")
        assert tx.unkeep("Kozani", "b") and not tx.unkeep("Kozani", "b")
        tx.save_plan(PlanRecord("Kozani", 1, {"why": "heat"}, False, False, (), ""), ann)
        tx.save_plan(PlanRecord("Kozani", 2, {"why": "heat pumps"}, True, True, ("a",), ""), ann)
        comment = tx.add_comment("Kozani", "why", "Costs?", ann)
        assert tx.resolve_comment("Kozani", comment, ann) and not tx.resolve_comment("Kozani", comment, ann)
        assert tx.add_pairing("Kozani", "Helsinki", ann) and not tx.add_pairing("Kozani", "Helsinki", ann)
        assert tx.add_pairing("Kozani", "Aarhus", None) and tx.remove_pairing("Kozani", "Aarhus")
        assert not tx.remove_pairing("Kozani", "Aarhus")
    assert [(i.doc_id, i.status, i.note) for i in store.shortlist("Kozani")] == [("a", "adopting", "first")]
    plan = store.plan("Kozani")
    assert (plan.version, plan.sections, plan.shared, plan.final, plan.adopted) == (2, {"why": "heat pumps"}, True,
                                                                                   True, ("a",))
    assert [v for v, _ in store.plan_versions("Kozani")] == [1, 2]
    assert [(c.text, c.author, c.resolved) for c in store.plan_comments("Kozani")] == [("Costs?", "ann", True)]
    assert store.final_plans_adopting("a") == ["Kozani"] and store.final_plans_adopting("b") == []
    assert [(p.twin, p.pilot) for p in store.pairings()] == [("Kozani", "Helsinki")]
    counts = store.counts()
    assert (counts["documents"], counts["chunks"], counts["models"]) == (2, 4, [EMB.model_id])
    assert counts["by_domain"] == {"energy": 2, "buildings": 1} and counts["by_lever"] == {"finance-funding": 1}
    with store.write() as tx:
        tx.save_note(NoteRecord("n1", "Umeå", "Sweden", {"title": "T"}, 1, True), ann)
    assert [n.id for n in store.deleted_notes("Umeå")] == ["n1"] and store.deleted_notes("Kozani") == []


def test_a_copy_from_sqlite_has_every_row_and_searches_alike(store, tmp_path):
    source = SqliteStore(tmp_path / "source" / "kb.sqlite3")
    put(source, doc("a", "District heating burns coal.", domains=["energy"]), doc("b", "Coal coal in heating."))
    with source.write(documents=False) as tx:
        user = tx.add_user("ann", "Kozani", "twin")
        tx.keep("Kozani", "a", user)
        tx.add_comment("Kozani", "why", "Costs?", user)
        tx.replace_cities([City("Umeå", "Sweden", "pilot", 1, 130000, 63.8, 20.3, "X", ("energy",))])
    report = copy_store(source, store)
    assert [t.table for t in report] == list(TABLES) and all(t.ok for t in report)
    assert {t.table: t.rows for t in report if t.rows} == {"meta": 1, "cities": 1, "users": 1, "documents": 2,
                                                          "chunks": 2, "words": 6, "shortlist": 1, "plan_comments": 1}
    assert store.version() == source.version() and store.document("a") == source.document("a")
    assert store.keyword_passages(["coal"], 10) == source.keyword_passages(["coal"], 10)
    snapshot, original = (s.index_snapshot(EMB.model_id, with_vectors=True) for s in (store, source))
    assert np.array_equal(snapshot.ids, original.ids) and np.array_equal(snapshot.vectors, original.vectors)
    with store.write(documents=False) as tx:  # new rows continue after the copied ids
        assert tx.add_user("bob", None, "admin") == user + 1
        assert tx.add_comment("Kozani", "why", "And?", user) == 2
    put(store, doc("c", "Heat pumps."))
    assert min(store.changes_since(snapshot.cursor, EMB.model_id).added_ids) > max(original.ids)
    with pytest.raises(Invalid, match="not empty"):
        copy_store(source, store)
    source.close()


def test_a_secret_is_made_once_and_kept(store):
    first = store.secret("session")
    assert len(first) == 32 and store.secret("session") == first and store.secret("other") != first
    assert store.version() == 0  # not a change of the documents


def test_files_are_kept_once_by_reference(store):
    with store.write(documents=False) as tx:
        tx.keep_file("a" * 64 + "/report.pdf", b"%PDF-1 first")
        tx.keep_file("a" * 64 + "/report.pdf", b"%PDF-1 again")
    assert store.file("a" * 64 + "/report.pdf") == b"%PDF-1 first" and store.file("b" * 64 + "/x.pdf") is None
    assert store.version() == 0


BAD_TEXT = ["with\x00nul", "with\ud800surrogate"]


def _writes(bad: str):
    """One write per text a transaction takes, each with `bad` in that text."""
    practice = doc()
    chunks = chunk_practice(practice, EMB)
    vectors = EMB.embed([c.embedding_text for c in chunks])
    return {
        "document title": lambda tx: tx.put_document(doc(title=bad), chunks, vectors, EMB.model_id, "f"),
        "passage text": lambda tx: tx.put_document(practice, [chunks[0].__class__(**{**chunks[0].__dict__,
                                                                                     "text": bad})],
                                                   vectors[:1], EMB.model_id, "f"),
        "city": lambda tx: tx.replace_cities([City(bad, "Sweden", "twin")]),
        "user name": lambda tx: tx.add_user(bad, None, "matching"),
        "note id": lambda tx: tx.save_note(NoteRecord(bad, "Umeå", "Sweden", {"title": "T"}, 1, False), None),
        "note city": lambda tx: tx.save_note(NoteRecord("n", bad, "Sweden", {"title": "T"}, 1, False), None),
        "plan twin": lambda tx: tx.save_plan(PlanRecord(bad, 1, {"why": "x"}, False, False, (), ""), None),
        "comment": lambda tx: tx.add_comment("Kozani", "why", bad, None),
        "shortlist note": lambda tx: tx.keep("Kozani", bad, None),
        "pairing": lambda tx: tx.add_pairing("Kozani", bad, None),
    }


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["nul", "surrogate"])
@pytest.mark.parametrize("field", list(_writes("x")))
def test_every_text_a_store_cannot_hold_is_refused_alike_and_nothing_is_written(store, bad, field):
    """Probe 2, finding 6: PostgreSQL answered a NUL with psycopg.DataError (a 500), SQLite kept it."""
    put(store, doc("kept"))
    counts = store.counts()
    with pytest.raises(Invalid, match="cannot be kept"):
        with store.write() as tx:
            _writes(bad)[field](tx)
    assert store.counts() == counts and store.version() == 1


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["nul", "surrogate"])
def test_a_lookup_by_such_a_text_is_refused_alike(store, bad):
    for lookup in (store.document, store.note, store.plan, store.city, store.user):
        with pytest.raises(Invalid, match="cannot be kept"):
            lookup(bad)


def test_each_passage_keeps_its_language_and_a_document_is_found_by_any_of_its_languages(store, tmp_path):
    """A Greek note with an English report attached: Greek, its report's passages English; the
    Greek filter and the English one both find it, and it counts in both languages."""
    from dataclasses import replace

    note = doc("gr", "## Πρόκληση\nΑντλίες θερμότητας στα σχολεία\n## report.pdf, page 1\nHeat pumps in schools",
               language="el")
    chunks = chunk_practice(note, EMB)
    chunks[1] = replace(chunks[1], language="en")  # as chunking reads a longer page
    with store.write() as tx:
        tx.put_document(note, chunks, EMB.embed([c.embedding_text for c in chunks]), EMB.model_id, fingerprint(note))
    put(store, doc("sv", "## Bakgrund\nFjärrvärme utan kol", language="sv"))
    passages = store.passages_of("gr")
    assert [(p.section, p.language) for p in passages] == [("Πρόκληση", "el"), ("report.pdf, page 1", "en")]
    assert store.passages([p.id for p in passages]) == {p.id: p for p in passages}
    assert store.languages_of(["gr", "sv", "nope"]) == {"gr": ("el", "en"), "sv": ("sv",)}
    assert store.document_languages() == {"el": 1, "en": 1, "sv": 1}
    assert store.counts()["by_language"] == {"el": 1, "en": 1, "sv": 1}
    owners = lambda ids: {store.passage_owners(ids)[i] for i in ids}  # noqa: E731
    assert owners(store.passage_ids_matching({"language": "el"}).tolist()) == {"gr"}
    assert owners(store.passage_ids_matching({"language": "en"}).tolist()) == {"gr"}
    assert owners(store.passage_ids_matching({"language": "sv"}).tolist()) == {"sv"}
    english, greek = stems(["pumps"], "en"), stems(["σχολεία"], "el")
    for language in ("el", "en"):  # each passage analysed in its own language, whichever filter finds it
        assert [i for i, _ in store.keyword_passages(english, 5, {"language": language})] == [passages[1].id]
        assert [i for i, _ in store.keyword_passages(greek, 5, {"language": language})] == [passages[0].id]
    assert store.keyword_passages(english, 5, {"language": "sv"}) == []
    copy = SqliteStore(tmp_path / "copy" / "kb.sqlite3")
    try:
        assert all(t.ok for t in copy_store(store, copy))
        assert copy.passages_of("gr") == passages and copy.languages_of(["gr"]) == {"gr": ("el", "en")}
    finally:
        copy.close()


def test_an_accounts_interface_language_is_kept(store):
    with store.write(documents=False) as tx:
        ann = tx.add_user("ann", None, "admin")
    assert store.user("ann").language is None
    with store.write(documents=False) as tx:
        tx.set_user_language(ann, "el")
    assert store.user("ann").language == "el" and store.user_by_id(ann).language == "el"
    assert [u.language for u in store.users()] == ["el"]
