import pytest

from kb.documents import ValidationErrors, validate

VALID = {"id": "x", "title": "T", "kind": "measure", "city": "Umeå", "country": "Sweden", "domains": ["energy"]}


def fields_of(exc: ValidationErrors) -> set[str]:
    return {e.field for e in exc.errors}


def test_a_valid_measure_becomes_a_practice():
    p = validate({**VALID, "levers": ["technology"], "date": "2024-05", "sample": True}, "Body text")
    assert (p.id, p.city, p.domains, p.levers, p.date, p.sample, p.language) == (
        "x", "Umeå", ("energy",), ("technology",), "2024-05", True, None)  # detected on ingest


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "essay"}, "kind"),
        ({"domains": ["energy", "space"]}, "domains"),
        ({"domains": []}, "domains"),
        ({"levers": ["magic"]}, "levers"),
        ({"city": None}, "city"),
        ({"country": ""}, "country"),
        ({"date": "2024-13"}, "date"),
        ({"date": "May 2024"}, "date"),
        ({"language": "english"}, "language"),
        ({"sample": "yes"}, "sample"),
        ({"module": "co-creation"}, "module"),
        ({"title": "x" * 501}, "title"),
        ({"id": "bad id!"}, "id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_field_is_named(change, field):
    with pytest.raises(ValidationErrors) as exc:
        validate({**VALID, **change}, "Body")
    assert field in fields_of(exc.value)


def test_workshop_output_needs_a_module_and_a_resource_needs_no_city():
    with pytest.raises(ValidationErrors) as exc:
        validate({"id": "w", "title": "W", "kind": "workshop_output"}, "Body")
    assert fields_of(exc.value) == {"module"}
    assert validate({"id": "r", "title": "R", "kind": "portal_resource"}, "Body").city is None


def test_empty_body_is_an_error():
    with pytest.raises(ValidationErrors) as exc:
        validate(VALID, "  \n")
    assert fields_of(exc.value) == {"text"}


def test_content_hash_changes_with_content_only():
    a = validate(VALID, "Body", path="a.md")
    assert a.content_hash() == validate(VALID, "Body", path="b.md").content_hash()
    assert a.content_hash() != validate(VALID, "Body!").content_hash()
