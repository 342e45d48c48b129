"""The matching team's explorer: twins, their pilots, the heatmap and the map, cached per state."""

import pytest

from kb.errors import Forbidden, Invalid, NotFound

from tests.kb.test_partners import pilots  # noqa: F401 - the fixture: four pilots and the twin Oulu


def test_each_twin_gets_its_challenge_current_pilots_and_suggestions(pilots):  # noqa: F811
    pilots.pairings.add(None, "oulu", "heatborg", operator=True)
    (row,) = pilots.explorer().view.twins
    assert row.twin.city == "Oulu" and "Oulu heat pumps" in row.challenge and row.current == ("Heatborg",)
    assert row.suggested[0].city in ("Heatborg", "Warmstadt")
    evidence = pilots.store.documents(e.doc_id for s in row.suggested for e in s.evidence)
    assert all("oulu" not in (d.title + d.body).lower() for d in evidence.values())


def test_the_heatmap_is_twins_by_pilots_and_filters_by_domain(pilots):  # noqa: F811
    everything = pilots.explorer().view.heatmap
    assert everything.twins == ("Oulu",) and set(everything.pilots) == {"Heatborg", "Warmstadt", "Busville", "Suomila"}
    scores = dict(zip(everything.pilots, everything.scores[0]))
    assert scores["Heatborg"] > 0 and scores["Busville"] == 0  # free buses are no evidence for heat
    assert set(pilots.explorer().heatmap.pilots) == {"Heatborg", "Warmstadt"}  # pilots matching no twin left out
    assert set(pilots.explorer(domain="mobility").heatmap.pilots) == set()
    with pytest.raises(Invalid):
        pilots.explorer(domain="space")


def test_the_map_places_cities_and_draws_pairings(pilots):  # noqa: F811
    pilots.pairings.add(None, "Oulu", "Warmstadt", operator=True)
    europe = pilots.explorer().view.map
    assert {p.city for p in europe.places} == {"Heatborg", "Warmstadt", "Busville", "Suomila", "Oulu"}
    oulu, busville = (next(p for p in europe.places if p.city == c) for c in ("Oulu", "Busville"))
    assert oulu.y > busville.y and oulu.x > busville.x  # north and east of Paris
    assert [(p.twin, p.pilot) for p in europe.pairings] == [("Oulu", "Warmstadt")] and europe.outlines


def test_the_shipped_outlines_are_those_natural_earth_gives():
    from kb.matching.geography import natural_earth_outlines, outlines

    shipped = outlines()
    assert shipped == natural_earth_outlines()  # `python -m kb.matching.geography` makes them again
    assert {"SE", "PL", "GR", "PT", "FI", "IS"} <= {o.country for o in shipped}


def test_the_view_is_computed_once_per_state_of_the_knowledge_base(pilots):  # noqa: F811
    first = pilots.explorer().view
    assert pilots.explorer(domain="energy").view is first
    pilots.pairings.add(None, "Oulu", "Busville", operator=True)
    second = pilots.explorer().view
    assert second is not first and pilots.explorer().view is second
    pilots.remove(["b1"])
    assert pilots.explorer().view is not second


def test_another_process_of_the_data_folder_reads_the_view_instead_of_computing_it(pilots, monkeypatch):  # noqa: F811
    """Issue 29: each worker computed the view at start, the first visitor waiting 1.9 s for it."""
    from kb.knowledge_base import KnowledgeBase
    from kb.matching import explorer

    first = pilots.explorer().view
    worker = KnowledgeBase(pilots.data, embedder=pilots.embedder)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(explorer, "_compute", lambda kb, key: pytest.fail("computed again"))
            view = worker.explorer().view
        assert view.key == first.key and view.twins == first.twins and view.heatmap.pilots == first.heatmap.pilots
        pilots.pairings.add(None, "Oulu", "Busville", operator=True)  # another state: the saved view is not it
        assert ("Oulu", "Busville") in [(p.twin, p.pilot) for p in worker.explorer().view.map.pairings]
        (pilots.data / "explorer-view.pickle").write_bytes(b"half a file")
        restarted = KnowledgeBase(pilots.data, embedder=pilots.embedder)
        assert restarted.explorer().view.key == worker.explorer().view.key
        restarted.close()
    finally:
        worker.close()


def test_picking_a_twin_or_typing_a_challenge_ranks_pilots_with_evidence(pilots):  # noqa: F811
    page = pilots.explorer(twin="oulu")
    assert page.twin.city == "Oulu" and page.picked.suggestions[0].city in ("Heatborg", "Warmstadt")
    assert pilots.explorer(challenge="free buses").picked.suggestions[0].city == "Busville"
    with pytest.raises(NotFound):
        pilots.explorer(twin="Atlantis")


def test_only_the_matching_team_pairs_and_only_twins_with_pilots(pilots):  # noqa: F811
    accounts = pilots.accounts
    accounts.add("team", "matching")
    accounts.add("hel", "pilot", "Heatborg")
    with pytest.raises(Forbidden):
        pilots.pairings.add(accounts.get("hel"), "Oulu", "Heatborg")
    with pytest.raises(Invalid):
        pilots.pairings.add(accounts.get("team"), "Heatborg", "Oulu")  # the wrong way round
    assert pilots.pairings.add(accounts.get("team"), "Oulu", "Heatborg").pilot == "Heatborg"
    with pytest.raises(Invalid):
        pilots.pairings.add(accounts.get("team"), "Oulu", "Heatborg")  # already
    assert [p.twin for p in pilots.city_page("Heatborg").pairings] == ["Oulu"]


def test_a_sync_that_changes_only_the_cities_reaches_the_explorer(indexed, corpus):
    from indexer import read_corpus, sync

    assert [r.twin.city for r in indexed.explorer().view.twins] == ["Oulu"]
    cities = corpus / "cities.csv"
    cities.write_text(cities.read_text() + "Tartu,Estonia,twin,2,,,,,\n")
    sync(indexed, read_corpus(corpus))
    assert [r.twin.city for r in indexed.explorer().view.twins] == ["Oulu", "Tartu"]  # a new version: a new view
