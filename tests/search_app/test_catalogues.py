"""The catalogues: every string the code marks is in the template, every language translates
every entry (none missing, none fuzzy, the same placeholders and tags), and each language
names the programme's terms as its glossary does."""

import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kb.messages import CATALOGUES, LOCALES

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code in LOCALES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?([a-z]+)")


def _catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_the_template_holds_every_string_the_code_marks():
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "Message": None}
    marked = {msgid if isinstance(msgid, str) else msgid[0]
              for _file, _line, msgid, *_ in extract_from_dir(str(ROOT), method_map, options_map, keywords)}
    kept = {_ids(m)[0] for m in _catalogue(CATALOGUES / "messages.pot") if m.id}
    assert not marked - kept, f"run `make messages`: not in messages.pot: {sorted(marked - kept)[:10]}"
    assert not kept - marked, f"run `make messages`: no longer in the code: {sorted(kept - marked)[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_with_its_placeholders_and_tags(language):
    template = {_ids(m)[0] for m in _catalogue(CATALOGUES / "messages.pot") if m.id}
    catalogue = _catalogue(CATALOGUES / language / "LC_MESSAGES" / "messages.po")
    assert not catalogue.fuzzy, f"{language}: the catalogue is marked fuzzy, so `pybabel compile` skips it"
    entries = {_ids(m)[0]: m for m in catalogue if m.id}
    assert not template - set(entries), f"{language}: missing {sorted(template - set(entries))[:5]}"
    problems = []
    for msgid in template:
        message = entries[msgid]
        strings = _strings(message)
        if message.fuzzy or not all(s.strip() for s in strings):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - set(PLACEHOLDER.findall(" ".join(_ids(message)))):
                problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
            if sorted(TAG.findall(string)) != sorted(TAG.findall(msgid)):
                problems.append(f"tags differ: {msgid!r} -> {string!r}")
    assert not problems, f"{language}: {len(problems)} problems, first: {problems[:5]}"


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def _names(entry: dict) -> list[str]:
    """A term's stems, as a message may inflect them: each word's first letters (all but its last
    three, at least three), and the glossary's own `stems` for forms that change further
    (Polish "miasto", "w mieście")."""
    return [" ".join(word[:max(3, len(word) - 3)] for word in _fold(name).split())
            for name in (entry["term"], entry["plural"])] + [_fold(stem) for stem in entry.get("stems", [])]


def _uses(text: str, stems: str) -> bool:
    return all(stem in _fold(PLACEHOLDER.sub("", text)) for stem in stems.split())


ENGLISH = yaml.safe_load((CATALOGUES / "en" / "glossary.yaml").read_text("utf-8"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_names_the_programme_terms_as_its_glossary_does(language):
    glossary = yaml.safe_load((CATALOGUES / language / "glossary.yaml").read_text("utf-8"))
    assert set(glossary) == set(ENGLISH), f"{language}: glossary keys differ from English"
    for key, entry in glossary.items():
        assert all(entry.get(field, "").strip() for field in ("term", "plural", "explain")), f"{language}: {key}"
    catalogue = _catalogue(CATALOGUES / language / "LC_MESSAGES" / "messages.po")
    inconsistent = []
    for key, english in ENGLISH.items():
        words = re.compile(rf"\b({re.escape(english['term'])}|{re.escape(english['plural'])})\b", re.I)
        for message in catalogue:
            said = PLACEHOLDER.sub("", " ".join(_ids(message)).replace("Twin Cities", ""))  # names, not terms
            if message.id and words.search(said) and all(_strings(message)):
                if not any(_uses(s, stems) for s in _strings(message) for stems in _names(glossary[key])):
                    inconsistent.append(f"{key} ({glossary[key]['term']}): {_strings(message)[0]!r}")
    assert not inconsistent, f"{language}: {len(inconsistent)} messages name a term otherwise: {inconsistent[:5]}"
