import re

import pytest

from indexer import read_corpus, sync
from kb.partners import Profile, suggest
from kb.search import SearchError

from tests.conftest import write_corpus

CITIES = """\
city,country,role,cohort,population,lat,lon,pilot_project,domains
Heatborg,Sweden,pilot,1,100000,,,,energy
Warmstadt,Germany,pilot,1,1000000,,,,energy
Busville,France,pilot,2,50000,,,,mobility
Oulu,Finland,twin,1,200000,,,,
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
        **measure("o1", "Oulu", "Finland", "Oulu heat pumps", heat, kind="case_note"),
    }
    sync(kb, read_corpus(write_corpus(tmp_path / "p", docs, cities=CITIES)))
    return kb


def test_only_pilots_with_matching_evidence_are_suggested(pilots):
    suggestions = suggest(pilots, "replace coal in district heating with heat pumps")
    cities = [s.city for s in suggestions]
    assert set(cities[:2]) == {"Heatborg", "Warmstadt"} and "Oulu" not in cities  # Oulu is a twin


def test_reasons_match_the_evidence(pilots):
    for s in suggest(pilots, "replace coal in district heating with heat pumps"):
        count = int(re.match(r"(\d+) matching practice", s.reasons[0]).group(1))
        assert count == len(s.evidence) >= 1
        best = max(s.evidence, key=lambda e: e.score)
        assert s.reasons[1] == f"best match: “{best.title}”"
        assert all(e.doc_id[0] == s.city[0].lower() for e in s.evidence)  # each city's own documents


@pytest.mark.parametrize("country, first", [("Sweden", "Heatborg"), ("Germany", "Warmstadt"),
                                            ("Norway", "Heatborg"), ("Austria", "Warmstadt")])
def test_a_profile_moves_the_closer_city_up(pilots, country, first):
    suggestions = suggest(pilots, "replace coal in district heating with heat pumps", Profile(country=country))
    assert suggestions[0].city == first
    assert any(r.startswith(("same country", "neighbouring region")) for r in suggestions[0].reasons)


def test_population_makes_similar_sized_cities_closer(pilots):
    small = suggest(pilots, "district heating heat pumps coal", Profile(population=90_000))
    large = suggest(pilots, "district heating heat pumps coal", Profile(population=1_200_000))
    assert small[0].city == "Heatborg" and large[0].city == "Warmstadt"
    assert "similar size: 100k vs 90k" in small[0].reasons


def test_a_twin_is_never_suggested_to_itself(pilots):
    assert "Heatborg" not in [s.city for s in suggest(pilots, "district heating", Profile(city="Heatborg"))]


@pytest.mark.parametrize("challenge", ["", "   ", "x" * 5000])
def test_empty_or_huge_challenges_are_refused(pilots, challenge):
    with pytest.raises(SearchError):
        suggest(pilots, challenge)


def test_bad_profiles_are_refused(pilots):
    with pytest.raises(SearchError):
        suggest(pilots, "heat", Profile(population=-3))
    with pytest.raises(SearchError):
        suggest(pilots, "heat", Profile(domains=("space",)))


def test_explorer_views(pilots):
    from kb.explorer import city_similarity, practice_map, twin_suggestions

    names, matrix = city_similarity(pilots)
    assert set(names) == {"Heatborg", "Warmstadt", "Busville", "Oulu"} and matrix.shape == (4, 4)
    i, j, b = names.index("Heatborg"), names.index("Warmstadt"), names.index("Busville")
    assert matrix[i][j] > matrix[i][b]
    assert abs(names.index("Heatborg") - names.index("Warmstadt")) == 1  # clustered next to each other
    points = practice_map(pilots)
    assert len(points) == 6 and {p.domain for p in points} == {"energy", "mobility"}
    ((twin, challenge, suggestions),) = twin_suggestions(pilots)
    assert twin == "Oulu" and challenge == "Oulu heat pumps" and suggestions[0].city in ("Heatborg", "Warmstadt")
