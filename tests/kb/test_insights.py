"""What the programme learns from itself: the search log (what is asked, never who), the gaps it
shows, replication and reach — and who may see them."""

import json

import pytest

from kb.errors import Forbidden, Invalid, NotFound, Unauthenticated
from kb.insights import Asker, Period, SearchLog, days_ago, text_hash
from kb.store import City, LoggedSearch
from kb.store.rows import TABLES

TWIN = Asker("twin", "page", visit="v-1")


@pytest.fixture
def people(indexed):
    for name, role, city in [("oulu", "twin", "Oulu"), ("hel", "pilot", "Helsinki"), ("team", "matching", None),
                             ("root", "admin", None)]:
        indexed.accounts.add(name, role, city)
    return {n: indexed.accounts.get(n) for n in ("oulu", "hel", "team", "root")}


def logged(kb) -> list[dict]:
    kb.search_log.flush()
    return sorted((dict(zip(TABLES["searches"], row)) for row in kb.store.table_rows("searches")), key=lambda r: r["id"])


def test_a_search_is_logged_with_what_was_asked_and_how_it_went_never_who(indexed, people):
    indexed.search("coal district heating", k=5, filters={"domain": "energy"}, asker=TWIN)
    indexed.search("zzqx vlorp", k=5, asker=Asker("anonymous", "api"))
    indexed.search("not logged: the CLI asks for itself", k=5)
    first, second = logged(indexed)
    assert first["text"] == "coal district heating" and first["role"] == "twin" and first["source"] == "page"
    assert json.loads(first["filters"]) == {"domain": "energy"} and first["results"] >= 1 and not first["weak"]
    assert first["at"].endswith("Z") and first["visit"] == "v-1" and first["clicked"] == 0
    assert second["role"] == "anonymous" and second["weak"] and second["clicked"] is None  # no clicks from the API
    # Nothing names an account or an address: no such column, and no value holds a user's name or id.
    assert not {"user", "user_id", "username", "client", "ip", "address"} & set(TABLES["searches"])
    values = " ".join(str(v) for row in (first, second) for v in row.values())
    assert "oulu" not in values and "127.0.0.1" not in values and "testclient" not in values


def test_a_search_refined_while_typing_takes_the_place_of_the_one_it_refines(indexed):
    page = indexed.search_page("distr", k=5, asker=TWIN)
    indexed.search_page("district heating", k=5, asker=Asker("twin", "page", "v-1", replaces=page.ref))
    indexed.search_log.flush()
    again = indexed.search_page("free buses", k=5, asker=Asker("twin", "page", "v-1", replaces="no-such-ref"))
    assert [r["text"] for r in logged(indexed)] == ["district heating", "free buses"]
    assert again.ref and again.ref != page.ref


def test_opening_a_result_marks_its_search_clicked_and_keeping_marks_the_sessions_searches(indexed, people):
    page = indexed.search_page("coal district heating", k=5, asker=TWIN)
    other = indexed.search_page("free buses", k=5, asker=Asker("twin", "page", visit="v-2"))
    indexed.practice_page("heat", people["oulu"], search_ref=page.ref)
    indexed.keep(people["oulu"], "heat", visit="v-1")
    rows = {r["ref"]: r for r in logged(indexed)}
    assert rows[page.ref]["clicked"] == 1 and rows[page.ref]["kept"] == 1
    assert rows[other.ref]["clicked"] == 0 and rows[other.ref]["kept"] == 0


def test_old_searches_are_deleted_as_the_log_is_written_and_by_command(indexed):
    old = LoggedSearch("old", days_ago(200), "ancient need", text_hash("ancient need"), "en", "{}", "hybrid", 0, True,
                       "twin", "api")
    with indexed.store.write(documents=False) as tx:
        tx.log_searches([old])
        tx.save_search_vectors("m", {old.text_hash: [0.0, 1.0]})
    indexed.search("coal district heating", k=5, asker=TWIN)
    assert [r["text"] for r in logged(indexed)] == ["coal district heating"]  # 180 days by default
    assert indexed.store.search_vectors("m", [old.text_hash]) == {}  # its text's vector went with it
    assert indexed.search_log.forget(None) == 1 and logged(indexed) == []


def test_with_no_days_to_keep_nothing_is_logged(indexed):
    off = SearchLog(indexed.store, days=0)
    assert off.record("x", language="en", filters={}, mode="hybrid", results=0, weak=True, asker=TWIN) is None
    off.flush()
    assert logged(indexed) == []


def test_the_insights_are_for_the_matching_team_and_admins_only(indexed, people):
    period = Period.of()
    for who, refusal in ((None, Unauthenticated), (people["oulu"], Forbidden), (people["hel"], Forbidden)):
        for call in (lambda: indexed.insights.gaps(who, period), lambda: indexed.insights.reach(who, period),
                     lambda: indexed.insights.replication(who)):
            with pytest.raises(refusal):
                call()
    for who in ("team", "root"):
        assert indexed.insights.gaps(people[who], period).gaps == []


def test_a_period_is_checked(indexed):
    with pytest.raises(Invalid, match="since: '2026-13-01' is not a date; give it as YYYY-MM-DD"):
        Period.of("2026-13-01")
    with pytest.raises(Invalid, match="is after until"):
        Period.of("2026-10-01", "2026-09-01")
    assert Period.of("2026-09-01", "2026-09-30").bounds == ("2026-09-01", "2026-10-01")


def test_gaps_group_weak_and_unclicked_searches_and_ask_the_nearest_pilots(indexed, people):
    for _ in range(3):
        indexed.search_page("coal district heating", k=5, asker=TWIN)  # never opened: a gap
    clicked = indexed.search_page("free buses", k=5, asker=TWIN)
    indexed.practice_page("bus", None, search_ref=clicked.ref)
    indexed.search("free buses", k=5, asker=Asker("anonymous", "api"))  # answered well, from the API: no gap
    indexed.search_log.flush()
    gaps = indexed.insights.gaps(people["team"], Period.of())
    assert [(g.label, g.searches) for g in gaps.gaps] == [("coal district heating", 3)]
    gap = gaps.gaps[0]
    assert gap.languages == (("en", 3),) and "coal" in gap.words and gap.pilots[0] == "Helsinki"
    assert "energy" in gap.domains and gap.examples == ("coal district heating",)
    asked, told = indexed.insights.ask_for_note(people["team"], gap.id, Period.of())
    assert told == 1 and asked == gap
    (event,) = indexed.inbox.events(people["hel"])
    assert event.kind == "request" and "“coal district heating”" in event.text
    assert event.link == "/notes/new?challenge=Twins+ask%3A+coal+district+heating"  # the form begun with it
    assert indexed.notes.form(people["hel"], challenge="Twins ask: coal district heating").values["challenge"] == \
        "Twins ask: coal district heating"
    with pytest.raises(NotFound, match="reload"):
        indexed.insights.ask_for_note(people["team"], "nope", Period.of())


def test_replication_counts_kept_adopted_dropped_and_final_per_practice_pilot_domain_and_module(indexed, people):
    ws, oulu = indexed.workspace, people["oulu"]
    indexed.keep(oulu, "heat")
    indexed.keep(oulu, "visit")
    indexed.keep(oulu, "bus")
    ws.update(oulu, "heat", "adopting", "")
    ws.update(oulu, "bus", "dropped", "")
    ws.save(oulu, {"situation": "Coal heat."}, 0)
    ws.finalise(oulu)
    by = {r.key: r for r in indexed.insights.replication(people["team"]).rows}
    assert (by["heat"].kept, by["heat"].adopting, by["heat"].final, by["heat"].twins) == (1, 1, 1, ("Oulu",))
    assert (by["bus"].dropped, by["bus"].final) == (1, 0) and by["visit"].considering == 1
    pilots = {r.key: r for r in indexed.insights.replication(people["root"], "pilot").rows}
    assert (pilots["Helsinki"].kept, pilots["Helsinki"].adopting, pilots["Helsinki"].final) == (2, 1, 1)
    domains = {r.key: r.kept for r in indexed.insights.replication(people["team"], "domain").rows}
    assert domains == {"energy": 2, "mobility": 1}
    months = indexed.insights.replication(people["team"]).months
    assert sum(m.kept for m in months) == 3 and sum(m.adopting for m in months) == 1 and sum(m.final for m in months) == 1
    assert indexed.city_page("Helsinki", people["hel"]).reach.final == 1  # the pilot sees its own
    with pytest.raises(Invalid, match="by: 'twin' is not one of practice, pilot, domain, module"):
        indexed.insights.replication(people["team"], "twin")
    assert indexed.insights.replication(people["team"], since="2999-01-01").rows == []


def test_reach_counts_weeks_languages_roles_and_names_twins_that_logged_in_but_keep_nothing(indexed, people):
    indexed.search("coal district heating", k=5, asker=TWIN)
    indexed.search("kolen fjärrvärme", k=5, asker=Asker("anonymous", "api"))
    indexed.keep(people["oulu"], "heat", visit="v-1")
    indexed.search_log.flush()
    reach = indexed.insights.reach(people["team"], Period.of())
    assert reach.searches == 2 and dict(reach.roles) == {"twin": 1, "anonymous": 1}
    assert reach.kept_share == 1.0 and len(reach.weeks) == 1 and reach.weeks[0].week.startswith("20")
    assert reach.idle_twins == []  # Oulu keeps a practice; and nobody logged in yet
    with indexed.store.write(documents=False) as tx:
        tx.add_city(City("Tartu", "Estonia", "twin"))
    indexed.accounts.add("tartu", "twin", "Tartu")
    indexed.accounts.start_session(indexed.accounts.get("tartu"))
    indexed.accounts.start_session(people["oulu"])
    idle = indexed.insights.reach(people["team"], Period.of()).idle_twins
    assert [(t.city, t.accounts) for t in idle] == [("Tartu", 1)]
