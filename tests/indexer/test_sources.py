import json
import os

import pytest

from indexer.sources import read_corpus

from tests.conftest import write_corpus


def errors_of(root):
    return [str(e) for e in read_corpus(root).errors]


def test_the_fixture_corpus_loads_whole(corpus):
    loaded = read_corpus(corpus)
    assert not loaded.errors
    assert sorted(p.id for p in loaded.practices) == ["bus", "contract", "heat", "visit"]
    assert {c.city: c.role for c in loaded.cities} == {
        "Helsinki": "pilot", "Communauté Urbaine de Dunkerque": "pilot", "Oulu": "twin"}
    helsinki = next(c for c in loaded.cities if c.city == "Helsinki")
    assert (helsinki.population, helsinki.lat, helsinki.domains) == (656000, 60.17, ("energy",))


def test_a_bad_field_is_reported_as_file_line_field(tmp_path):
    root = write_corpus(tmp_path, {"bad.md": "---\ntitle: T\nkind: measure\ncity: X\ncountry: Y\n"
                                             "domains: [energy, space]\n---\nBody\n",
                                   "good.md": "---\ntitle: G\nkind: portal_resource\n---\nBody\n"}, cities=None)
    loaded = read_corpus(root)
    assert [str(e) for e in loaded.errors] == [
        "bad.md:6: domains: unknown value 'space'; expected one of "
        "energy, buildings, mobility, waste-circular, industry, green-infrastructure"]
    assert [p.id for p in loaded.practices] == ["good"]  # the id defaults to the path


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "broken.md: is empty"),
        (b"\xff\xfe\x00broken", "broken.md:1: is not UTF-8 text"),
        (b"no front matter here", "broken.md:1: has no front matter"),
        (b"---\n- a\n- b\n---\nBody", "broken.md:2: front matter must be a mapping"),
        (b"---\ntitle: [unclosed\n---\nBody", "broken.md:3: front matter is not valid YAML"),
        (b"---\ntitle: T\nkind: portal_resource\n---\n", "broken.md:5: text: the document has no text"),
    ],
)
def test_broken_files_are_reported_not_crashed_on(tmp_path, content, expected):
    (tmp_path / "broken.md").write_bytes(content)
    (errors,) = [errors_of(tmp_path)]
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_a_symlink_out_of_the_corpus_is_refused(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: S\nkind: portal_resource\n---\nSecret\n")
    root = tmp_path / "corpus"
    root.mkdir()
    os.symlink(outside, root / "link.md")
    loaded = read_corpus(root)
    assert not loaded.practices
    assert str(loaded.errors[0]).startswith("link.md: points outside the corpus")


def test_duplicate_ids_keep_the_first(tmp_path):
    doc = "---\nid: same\ntitle: T\nkind: portal_resource\n---\nBody\n"
    root = write_corpus(tmp_path, {"a.md": doc, "b.md": doc}, cities=None)
    loaded = read_corpus(root)
    assert [p.path for p in loaded.practices] == ["a.md"]
    assert errors_of(root) == ["b.md:1: id: duplicate id 'same', already used in a.md:1"]


def test_jsonl_accepts_beir_lines_and_reports_bad_ones(tmp_path):
    lines = [
        {"_id": "4983", "title": "White matter", "text": "Diffusion tensor imaging.", "metadata": {}},
        {"id": "m1", "title": "Heat", "kind": "measure", "city": "Umeå", "country": "Sweden",
         "domains": ["energy"], "text": "District heating."},
        {"id": "m2", "title": "No city", "kind": "measure", "domains": ["energy"], "text": "x"},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")
    loaded = read_corpus(path)
    assert [(p.id, p.kind) for p in loaded.practices] == [("4983", "portal_resource"), ("m1", "measure")]
    assert [str(e) for e in loaded.errors] == [
        "docs.jsonl:3: city: is required", "docs.jsonl:3: country: is required",
        "docs.jsonl:4: is not valid JSON: Expecting property name enclosed in double quotes (column 2)"]


def test_cities_csv_rows_are_validated(tmp_path):
    cities = ("city,country,role,cohort,population,lat,lon,pilot_project,domains\n"
              "Umeå,Sweden,pilot,1,130000,63.8,20.3,North Star,energy;buildings\n"
              "Atlantis,,pilot,,,,,,\n"
              "Oulu,Finland,twin,,lots,,,,\n"
              "Umeå,Sweden,mayor,,,,,,mobility;space\n")
    root = write_corpus(tmp_path, {}, cities=cities)
    loaded = read_corpus(root)
    assert [c.city for c in loaded.cities] == ["Umeå"]
    assert [str(e) for e in loaded.errors] == [
        "cities.csv:3: country: is required",
        "cities.csv:4: population: 'lots' is not a whole number",
        "cities.csv:5: role: 'mayor' is not one of pilot, twin, mission",
        "cities.csv:5: domains: unknown domain 'space'; expected one of energy, buildings, mobility, "
        "waste-circular, industry, green-infrastructure",
        "cities.csv:5: city: 'Umeå' is listed twice",
    ]


def test_eval_folder_is_not_read_as_documents(tmp_path):
    root = write_corpus(tmp_path, {"eval/queries.jsonl": '{"_id": "q1", "text": "heat"}\n'}, cities=None)
    assert read_corpus(root).practices == []
