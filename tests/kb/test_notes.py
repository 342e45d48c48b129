import pytest

from indexer import read_corpus
from kb.errors import Forbidden, NotFound, Unauthenticated
from kb.notes import InvalidNote, Notes
from tests.conftest import find

NOTE = {"title": "Geothermal wells for the heat network", "challenge": "Coal must leave district heating.",
        "what_was_done": "Two deep geothermal wells were drilled.", "results": "Not yet reported.",
        "transferability": "Needs suitable geology.", "domains": ["energy"], "levers": ["technology"]}


@pytest.fixture
def people(indexed):
    accounts = indexed.accounts
    for name, role, city in [("hel", "pilot", "Helsinki"), ("dun", "pilot", "Communauté Urbaine de Dunkerque"),
                             ("team", "matching", None), ("root", "admin", None)]:
        accounts.add(name, role, city)
    return {"anonymous": None, **{n: accounts.get(n) for n in ("hel", "dun", "team", "root")}}


@pytest.fixture
def notes(indexed):
    return Notes(indexed)


def test_a_note_is_searchable_the_moment_it_is_accepted(indexed, notes, people):
    note = notes.create(people["hel"], NOTE)
    assert (note.city, note.country, note.version) == ("Helsinki", "Finland", 1)
    (top,) = find(indexed, "geothermal wells", k=1)
    assert top.doc_id == note.id and top.kind == "case_note"


CREATE = {"anonymous": Unauthenticated, "hel": None, "dun": None, "team": Forbidden, "root": InvalidNote}
CHANGE = {"anonymous": Unauthenticated, "hel": None, "dun": Forbidden, "team": Forbidden, "root": None}


@pytest.mark.parametrize("actor", CREATE)
def test_who_may_create(notes, people, actor):
    if CREATE[actor]:
        with pytest.raises(CREATE[actor]):  # an admin must say which city
            notes.create(people[actor], NOTE)
    else:
        assert notes.create(people[actor], NOTE).city == people[actor].city
    if actor == "root":
        assert notes.create(people["root"], {**NOTE, "city": "Helsinki"}).city == "Helsinki"


def test_a_pilot_cannot_write_for_another_city(notes, people):
    with pytest.raises(Forbidden):
        notes.create(people["dun"], {**NOTE, "city": "Helsinki"})


@pytest.mark.parametrize("actor", CHANGE)
@pytest.mark.parametrize("action", ["edit", "delete"])
def test_who_may_edit_and_delete_a_helsinki_note(notes, people, actor, action):
    note = notes.create(people["hel"], NOTE)
    do = (lambda: notes.update(people[actor], note.id, {**NOTE, "title": "Changed"})) if action == "edit" else \
        (lambda: notes.delete(people[actor], note.id))
    if CHANGE[actor]:
        with pytest.raises(CHANGE[actor]):
            do()
        assert notes.get(note.id).version == 1
    else:
        assert do().version == 2


def test_edits_keep_versions_and_delete_is_reversible_by_an_admin(indexed, notes, people):
    note = notes.create(people["hel"], NOTE)
    notes.update(people["hel"], note.id, {**NOTE, "title": "Geothermal heat, second version"})
    notes.delete(people["hel"], note.id)
    assert [v.action for v in notes.versions(note.id)] == ["create", "edit", "delete"]
    assert notes.versions(note.id)[0].fields["title"] == NOTE["title"]
    assert note.id not in [r.doc_id for r in find(indexed, "geothermal wells", k=10)]
    with pytest.raises(NotFound):
        notes.get(note.id)
    with pytest.raises(Forbidden):
        notes.restore(people["hel"], note.id)
    restored = notes.restore(people["root"], note.id)
    assert restored.title == "Geothermal heat, second version" and restored.version == 4
    assert find(indexed, "geothermal wells", k=1)[0].doc_id == note.id


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"challenge": None}, "challenge"),
    ({"what_was_done": "x" * 50_001}, "text"), ({"domains": []}, "domains"), ({"domains": ["space"]}, "domains"),
    ({"levers": "technology"}, "levers"), ({"language": "english"}, "language"), ({"colour": "red"}, "colour"),
    ({"title": 42}, "title"),
])
def test_invalid_notes_name_the_field(notes, people, change, field):
    with pytest.raises(InvalidNote) as exc:
        notes.create(people["hel"], {**NOTE, **change})
    assert any(e.startswith(field) for e in exc.value.errors), exc.value.errors


def test_export_writes_valid_corpus_markdown(notes, people, tmp_path):
    a = notes.create(people["hel"], {**NOTE, "title": 'Quotes "and" colons: fine'})
    b = notes.create(people["dun"], {**NOTE, "levers": []})
    notes.delete(people["dun"], b.id)
    assert notes.export(tmp_path / "out") == 1
    loaded = read_corpus(tmp_path / "out")
    assert loaded.errors == [] and [(p.id, p.title, p.city) for p in loaded.practices] == [
        (a.id, 'Quotes "and" colons: fine', "Helsinki")]


def test_two_writers_editing_one_note_get_consecutive_versions(indexed, embedder, people, monkeypatch):
    from kb.knowledge_base import KnowledgeBase

    first = Notes(indexed)
    note = first.create(people["hel"], NOTE)
    stale = first.get(note.id)  # both writers read version 1 before either writes
    second = Notes(KnowledgeBase(indexed.data, embedder=embedder))
    second.update(people["hel"], stale.id, {**NOTE, "title": "From the second process"})
    fresh_get = first.get
    monkeypatch.setattr(first, "get", lambda *a, **k: stale)  # the first writer still holds version 1
    first.update(people["hel"], stale.id, {**NOTE, "title": "From the first process"})
    monkeypatch.setattr(first, "get", fresh_get)
    assert [v.version for v in first.versions(note.id)] == [1, 2, 3]
    assert first.get(note.id).title == "From the first process"
