import re

import pytest

from indexer import read_corpus, sync
from kb.matching import Profile, suggest
from kb.search import SearchError

from tests.conftest import write_corpus

CITIES = """\
city,country,role,cohort,population,lat,lon,pilot_project,domains
Heatborg,Sweden,pilot,1,100000,59.3,18.1,,energy
Warmstadt,Germany,pilot,1,1000000,50.1,8.7,,energy
Busville,France,pilot,2,50000,48.9,2.4,,mobility
Suomila,Finland,pilot,2,200000,61.5,23.8,,mobility
Oulu,Finland,twin,1,200000,65.0,25.5,,
"""


def measure(doc_id, city, country, title, body, kind="measure", domains="energy"):
    extra = "module: co-creation\n" if kind == "workshop_output" else ""
    return {f"{doc_id}.md": f"---\nid: {doc_id}\ntitle: {title}\nkind: {kind}\n{extra}city: {city}\n"
                            f"country: {country}\ndomains: [{domains}]\n---\n{body}\n"}


@pytest.fixture
def pilots(kb, tmp_path):
    heat = "Coal boilers in the district heating network are replaced by heat pumps."
    docs = {
        **measure("h1", "Heatborg", "Sweden", "District heating without coal", heat),
        **measure("h2", "Heatborg", "Sweden", "Heat pumps for district heating", heat + " Second plant."),
        **measure("w1", "Warmstadt", "Germany", "District heating without coal", heat),
        **measure("w2", "Warmstadt", "Germany", "Heat pumps for district heating", heat + " Second plant."),
        **measure("b1", "Busville", "France", "Free buses", "Buses are free of charge.", domains="mobility"),
        **measure("s1", "Suomila", "Finland", "Bike lanes", "Painted bike lanes along main streets.",
                  domains="mobility"),
        **measure("w3", "Warmstadt", "Germany", "Oulu's heat plan, reviewed in Warmstadt",
                  "Oulu asked Warmstadt about coal in district heating; heat pumps replace coal boilers.",
                  kind="workshop_output"),
        **measure("o1", "Oulu", "Finland", "Oulu heat pumps", heat, kind="case_note"),
    }
    sync(kb, read_corpus(write_corpus(tmp_path / "p", docs, cities=CITIES)))
    return kb


def cities_for(kb, challenge, profile=None):
    return [s.city for s in suggest(kb, challenge, profile).suggestions]


def test_only_pilots_with_matching_evidence_are_suggested(pilots):
    cities = cities_for(pilots, "replace coal in district heating with heat pumps")
    assert set(cities[:2]) == {"Heatborg", "Warmstadt"} and "Oulu" not in cities  # Oulu is a twin


def test_reasons_match_the_evidence(pilots):
    for s in suggest(pilots, "replace coal in district heating with heat pumps").suggestions:
        count = int(re.match(r"(\d+) documented practices? match", s.reasons[0]).group(1))
        assert count >= len(s.evidence) >= 1
        best = max(s.evidence, key=lambda e: e.score)
        assert s.reasons[1] == f"best match: “{best.title}”"
        assert all(e.doc_id[0] == s.city[0].lower() for e in s.evidence)  # each city's own documents


@pytest.mark.parametrize("country, first", [("Sweden", "Heatborg"), ("Germany", "Warmstadt"),
                                            ("Norway", "Heatborg"), ("Austria", "Warmstadt")])
def test_a_profile_moves_the_closer_city_up(pilots, country, first):
    suggestions = suggest(pilots, "replace coal in district heating with heat pumps", Profile(country=country)).suggestions
    assert suggestions[0].city == first
    assert any(r.startswith(("same country", "neighbouring region")) for r in suggestions[0].reasons)


def test_population_makes_similar_sized_cities_closer(pilots):
    small = suggest(pilots, "district heating heat pumps coal", Profile(population=90_000)).suggestions
    large = suggest(pilots, "district heating heat pumps coal", Profile(population=1_200_000)).suggestions
    assert small[0].city == "Heatborg" and large[0].city == "Warmstadt"
    assert "similar size: 100k vs 90k" in small[0].reasons


def test_a_twin_is_never_suggested_to_itself(pilots):
    assert "Heatborg" not in cities_for(pilots, "district heating", Profile(city="Heatborg"))


@pytest.mark.parametrize("challenge", ["", "   ", "x" * 5000])
def test_empty_or_huge_challenges_are_refused(pilots, challenge):
    with pytest.raises(SearchError):
        suggest(pilots, challenge)


def test_bad_profiles_are_refused(pilots):
    with pytest.raises(SearchError):
        suggest(pilots, "heat", Profile(population=-3))
    with pytest.raises(SearchError):
        suggest(pilots, "heat", Profile(domains=("space",)))


def test_no_evidence_is_about_the_asking_city(pilots):
    """Oulu's own note and the workshop that names Oulu would be circular evidence for Oulu."""
    response = suggest(pilots, "coal in district heating replaced by heat pumps", Profile(city="Oulu"), k=10)
    documents = pilots.store.documents(e.doc_id for s in response.suggestions for e in s.evidence)
    assert response.suggestions and all(d.city != "Oulu" and "oulu" not in (d.title + d.body).lower()
                                        for d in documents.values())
    assert "w3" in {e.doc_id for s in suggest(pilots, "coal in district heating", k=10).suggestions
                    for e in s.evidence}  # asked by another city, the same workshop is evidence


def test_a_pilot_with_only_its_country_in_common_is_never_suggested(pilots):
    """Suomila shares the twin's country and size, but none of its practices is about heat."""
    for k in (5, 10):
        cities = [s.city for s in suggest(pilots, "replace coal in district heating with heat pumps",
                                          Profile(country="Finland", population=200_000), k=k).suggestions]
        assert "Suomila" not in cities and cities[:2] in (["Heatborg", "Warmstadt"], ["Warmstadt", "Heatborg"])


def test_a_challenge_nothing_matches_gets_a_weak_match_and_no_cities(pilots):
    response = suggest(pilots, "xqzzv")
    assert response.weak_match and response.suggestions == []
    assert not suggest(pilots, "coal in district heating").weak_match


def test_each_suggestion_shows_the_passage_that_matches_and_what_was_done(pilots):
    (best, *_) = suggest(pilots, "coal boilers replaced by heat pumps in district heating").suggestions
    assert all(e.passage for e in best.evidence) and any("heat pumps" in e.passage for e in best.evidence)
