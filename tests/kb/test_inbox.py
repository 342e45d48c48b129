"""The people working together: each account's inbox, written by the room where something
happened inside its own transaction; a pairing's meetings; cities taken in; a plan's whole life."""

import pytest

from kb.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from kb.inbox import Audience, tell
from kb.matching import Ambiguous
from kb.store import City

from tests.conftest import find


@pytest.fixture
def people(indexed):
    accounts = indexed.accounts
    for name, role, city in [("oulu", "twin", "Oulu"), ("oulu2", "twin", "Oulu"), ("hel", "pilot", "Helsinki"),
                             ("dun", "pilot", "Communauté Urbaine de Dunkerque"), ("team", "matching", None),
                             ("root", "admin", None)]:
        accounts.add(name, role, city)
    indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    return {n: accounts.get(n) for n in ("oulu", "oulu2", "hel", "dun", "team", "root")}


def texts(kb, user, kind=None):
    return [e.text for e in kb.inbox.events(user) if kind is None or e.kind == kind]


def test_a_pairing_reaches_both_cities_and_nobody_else(indexed, people):
    assert texts(indexed, people["oulu"], "pairing") == ["Oulu is paired with Helsinki"]
    assert texts(indexed, people["hel"], "pairing") == ["Helsinki is paired with Oulu"]
    assert texts(indexed, people["dun"]) == [] and texts(indexed, people["team"]) == []


def test_sharing_tells_the_paired_pilots_and_the_team_and_says_whom_it_reaches(indexed, people):
    ws = indexed.workspace
    ws.save(people["oulu"], {"situation": "Coal heat."}, 0)
    plan, reach = ws.sharing(people["oulu"], True)
    assert plan.shared and reach == "shared with Helsinki and the matching team"
    for who in ("hel", "team", "root", "oulu2"):
        assert texts(indexed, people[who], "plan_shared") == ["Oulu shared its replication plan with you"], who
    assert texts(indexed, people["oulu"], "plan_shared") == []  # not the one who acted
    assert texts(indexed, people["dun"]) == []
    ws.share(people["oulu"], False)
    ws.share(people["oulu"], True)  # shared again: told again
    assert len(texts(indexed, people["hel"], "plan_shared")) == 2


def test_sharing_without_a_pairing_says_so_and_names_who_pairs(indexed, people):
    indexed.pairings.remove(None, "Oulu", "Helsinki", operator=True)
    _, reach = indexed.workspace.sharing(people["oulu"], True)
    assert "matching team only" in reach and "no pilot city is paired with Oulu" in reach
    assert "records pairings" in reach


def test_comments_reach_the_twin_and_replies_reach_earlier_commenters(indexed, people):
    ws = indexed.workspace
    ws.share(people["oulu"], True)
    first = ws.comment(people["hel"], "Oulu", "costs", "Which funds?")
    assert texts(indexed, people["oulu"], "comment") == ["hel on Oulu's plan (Costs and funding sources): “Which funds?”"]
    ws.comment(people["team"], "Oulu", "costs", "The national fund.")
    assert texts(indexed, people["hel"], "comment") == ["team on Oulu's plan (Costs and funding sources): “The national fund.”"]
    assert texts(indexed, people["team"], "comment") == []  # its own
    ws.resolve(people["oulu"], "Oulu", first.id)
    assert texts(indexed, people["hel"], "comment_resolved") == ["Oulu resolved your comment: “Which funds?”"]
    event = indexed.inbox.events(people["oulu"])[0]
    assert event.link.startswith("/plans/Oulu#comment-") and event.actor == "team"


def test_the_inbox_lists_unread_first_newest_first_and_marks_read(indexed, people):
    ws = indexed.workspace
    ws.share(people["oulu"], True)
    ws.comment(people["hel"], "Oulu", "risks", "one")
    ws.comment(people["hel"], "Oulu", "risks", "two")
    events = indexed.inbox.events(people["oulu"])
    assert [e.kind for e in events] == ["comment", "comment", "pairing"] and "two" in events[0].text
    assert indexed.inbox.unread(people["oulu"]) == 3
    assert indexed.inbox.mark_read(people["oulu"], [events[0].id]) == 1
    assert [e.read for e in indexed.inbox.events(people["oulu"])] == [False, False, True]  # unread first
    assert indexed.inbox.mark_read(people["hel"], [events[1].id]) == 0  # not hel's to mark
    assert indexed.inbox.mark_read(people["oulu"]) == 2 and indexed.inbox.unread(people["oulu"]) == 0
    assert indexed.inbox.unread(people["oulu2"]) == 4  # each account its own (and told of the sharing)
    with pytest.raises(Invalid):
        indexed.inbox.mark_read(people["oulu"], ["x"])
    with pytest.raises(Unauthenticated):
        indexed.inbox.events(None)


def test_no_event_is_written_for_a_write_that_fails(indexed, people):
    with pytest.raises(RuntimeError):
        with indexed.store.write(documents=False) as tx:
            tell(tx, indexed.store, Audience(("Oulu",)), "pairing", "never", "/", None)
            raise RuntimeError("the write fails after the event")
    assert "never" not in texts(indexed, people["oulu"])
    with pytest.raises(Invalid):  # already paired: refused inside the transaction, nobody told
        indexed.pairings.add(None, "Oulu", "Helsinki", operator=True)
    assert len(texts(indexed, people["oulu"], "pairing")) == 1
    ws = indexed.workspace
    ws.save(people["oulu"], {"situation": "x"}, 0)
    ws.share(people["oulu"], True)
    with pytest.raises(Conflict):
        ws.reopen(people["team"], "Oulu")  # not final
    assert texts(indexed, people["hel"], "plan_reopened") == []


def test_kept_and_adopted_practices_reach_their_pilot(indexed, people):
    ws = indexed.workspace
    ws.keep(people["oulu"], "heat")
    ws.keep(people["oulu"], "heat")  # kept once: told once
    ws.update(people["oulu"], "heat", "adopting", "")
    ws.update(people["oulu"], "heat", "adopting", "again")  # still adopting: not told again
    assert texts(indexed, people["hel"], "kept") == ["Oulu keeps your practice “Phasing coal out of district heating”"]
    assert texts(indexed, people["hel"], "adopted") == ["Oulu is adopting your practice “Phasing coal out of district heating”"]
    assert ws.kept_by(indexed.store.documents_of_city("Helsinki")) == {"heat": [("Oulu", "adopting")]}


def test_a_paired_pilots_new_case_note_reaches_the_twin(indexed, people):
    note = indexed.notes.create(people["hel"], {"title": "Heat pumps in schools", "challenge": "Oil boilers.",
                                                 "what_was_done": "Ground-source heat pumps.", "domains": ["energy"]})
    assert texts(indexed, people["oulu"], "case_note") == ["Helsinki published a case note: “Heat pumps in schools”"]
    assert indexed.inbox.events(people["oulu"])[0].link == f"/doc/{note.id}"
    indexed.notes.update(people["hel"], note.id, {**note.fields, "results": "Less oil."}, note.version)
    assert len(texts(indexed, people["oulu"], "case_note")) == 1  # an edit is no new note
    assert texts(indexed, people["team"], "case_note") == []


def test_the_adopted_practices_follow_the_shortlist_at_every_save(indexed, people):
    ws = indexed.workspace
    ws.keep(people["oulu"], "heat")
    ws.keep(people["oulu"], "visit")
    assert ws.save(people["oulu"], {"situation": "a"}, 0).adopted == ()
    ws.update(people["oulu"], "visit", "adopting", "")
    assert ws.save(people["oulu"], {"situation": "b"}, 1).adopted == ("visit",)
    ws.update(people["oulu"], "visit", "dropped", "")
    ws.update(people["oulu"], "heat", "adopting", "")
    assert ws.save(people["oulu"], {"situation": "c"}, 2).adopted == ("heat",)
    assert [d.id for d in ws.plan(people["oulu"]).adopted] == ["heat"]


def test_a_final_plan_is_public_and_the_matching_team_reopens_it(indexed, people):
    ws = indexed.workspace
    ws.keep(people["oulu"], "heat")
    ws.update(people["oulu"], "heat", "adopting", "")
    ws.save(people["oulu"], {"situation": "We burn peat."}, 0)
    with pytest.raises(Unauthenticated):
        ws.plan(None, "Oulu")  # not final, not shared: nobody outside reads it
    final = ws.finalise(people["oulu"])
    assert texts(indexed, people["hel"], "plan_finalised") == ["Oulu's replication plan is final"]
    # one rule: whoever finds it in search reads it on its page, logged in or not
    assert "plan-oulu" in [r.doc_id for r in find(indexed, "peat", mode="keyword")]
    for reader in (None, people["dun"]):
        page = ws.plan(reader, "Oulu")
        assert page.plan.final and not page.may_comment and page.comments == [] and not page.may_reopen
    with pytest.raises(Forbidden):
        ws.reopen(people["hel"], "Oulu")
    with pytest.raises(Forbidden):
        ws.reopen(people["oulu"], "Oulu")
    reopened = ws.reopen(people["team"], "Oulu")
    assert (reopened.version, reopened.final, reopened.shared) == (final.version + 1, False, True)
    assert indexed.store.document("plan-oulu") is None
    assert "plan-oulu" not in [r.doc_id for r in find(indexed, "peat", mode="keyword")]
    assert texts(indexed, people["oulu"], "plan_reopened")[0].startswith("team reopened Oulu's replication plan")
    with pytest.raises(Forbidden):
        ws.plan(people["dun"], "Oulu")  # no longer public
    assert ws.save(people["oulu"], {"situation": "We burn less peat."}, reopened.version).version == final.version + 2
    assert ws.finalise(people["oulu"]).final


def test_a_pairing_keeps_its_meetings_and_tells_the_other_side(indexed, people):
    journal = indexed.journal
    meeting = journal.add(people["oulu"], "oulu", "HELSINKI", {
        "kind": "site-visit", "date": "2026-10-02", "module": "co-creation",
        "participants": "Oulu energy team, Helsinki utility", "record": "Saw the heat pump plant."})
    assert (meeting.twin, meeting.pilot, meeting.author) == ("Oulu", "Helsinki", "oulu")
    assert texts(indexed, people["hel"], "meeting") == ["Site visit of Oulu and Helsinki on 2026-10-02 recorded by oulu"]
    assert texts(indexed, people["oulu2"], "meeting") == []  # its own side wrote it
    journal.add(people["team"], "Oulu", "Helsinki", {"kind": "workshop", "date": "2026-11-20",
                                                     "module": "capitalisation", "record": "Plan outline."})
    assert len(texts(indexed, people["oulu2"], "meeting")) == 1 and len(texts(indexed, people["hel"], "meeting")) == 2
    assert [m.date for m in journal.of_city("Helsinki")] == ["2026-11-20", "2026-10-02"]
    assert [m.kind for m in indexed.workspace.plan(people["oulu"]).meetings] == ["workshop", "site-visit"]  # evidence
    with pytest.raises(Forbidden):
        journal.add(people["dun"], "Oulu", "Helsinki", {"kind": "workshop", "date": "2026-11-20",
                                                        "module": "co-creation", "record": "x"})
    with pytest.raises(NotFound, match="not paired"):
        journal.meetings("Oulu", "Communauté Urbaine de Dunkerque")
    with pytest.raises(Invalid) as bad:
        journal.add(people["oulu"], "Oulu", "Helsinki", {"kind": "party", "date": "2026-13-01", "module": "x"})
    assert [e.split(":")[0] for e in bad.value.errors] == ["kind", "module", "date", "record"]


class Places:
    """GeoNames as far as these tests need it (the real gazetteer is tested in tests/test_cli.py)."""

    source = "GeoNames (test)"
    PLACES = {("lund", "SE"): [{"geonameid": 2693678, "name": "Lund", "population": 91940, "latitude": 55.7,
                                 "longitude": 13.19}],
              ("frankfurt", "DE"): [{"geonameid": 2925533, "name": "Frankfurt am Main", "population": 650000,
                                     "latitude": 50.11, "longitude": 8.68},
                                    {"geonameid": 2925535, "name": "Frankfurt (Oder)", "population": 57000,
                                     "latitude": 52.34, "longitude": 14.55}]}

    def candidates(self, name, country):
        return self.PLACES.get((name.casefold(), self.country_code(country)), [])

    @staticmethod
    def country_code(country):
        return {"Sweden": "SE", "Germany": "DE", "Finland": "FI"}.get(country)


def test_a_city_is_taken_in_placed_by_geonames_and_asked_about_when_several(indexed, people):
    from kb.matching import Registry

    registry = Registry(indexed.store, places=Places)
    version = indexed.store.version()
    lund = registry.add(people["team"], "Lund", "Sweden", "twin", 3)
    assert (lund.population, lund.lat, lund.lon, lund.cohort) == (91940, 55.7, 13.19, 3)
    assert lund.source.endswith("added in the knowledge base") and indexed.store.version() > version
    indexed.accounts.add("lund", "twin", "Lund")  # a city like the shipped ones
    with pytest.raises(Ambiguous) as several:
        registry.add(people["root"], "Frankfurt", "Germany", "pilot")
    assert [c["geonameid"] for c in several.value.data["choices"]] == [2925533, 2925535]
    assert "Frankfurt (Oder)" in str(several.value)
    oder = registry.add(people["root"], "Frankfurt", "Germany", "pilot", geonameid=2925535)
    assert oder.lat == 52.34
    for user, args, error in [(people["hel"], ("Uppsala", "Sweden", "twin"), Forbidden),
                              (None, ("Uppsala", "Sweden", "twin"), Unauthenticated),
                              (people["team"], ("Lund", "Sweden", "twin"), Invalid),
                              (people["team"], ("Nowhere", "Sweden", "twin"), Invalid),
                              (people["team"], ("Lund", "Narnia", "mayor"), Invalid)]:
        with pytest.raises(error):
            registry.add(user, *args)


def test_a_sync_of_the_corpus_keeps_the_cities_added_since(indexed, corpus, people):
    from indexer import read_corpus, sync

    with indexed.store.write() as tx:
        tx.add_city(City("Lund", "Sweden", "twin", 3, 91940, 55.7, 13.19, None, (),
                         "GeoNames (test), geonameid 1; added in the knowledge base"))
    (corpus / "cities.csv").write_text((corpus / "cities.csv").read_text() + "Kozani,Greece,twin,2,,,,,\n")
    sync(indexed, read_corpus(corpus))
    assert {"Lund", "Kozani", "Oulu"} <= {c.city for c in indexed.store.cities()}
