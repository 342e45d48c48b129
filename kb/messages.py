"""Messages people read, in every language of the interface. The core writes them in English;
a `Message` is that English text (a `str`, so logs, the CLI and the JSON API's English contract
see nothing new) which also keeps its template and values, so that a page, an inbox or an
e-mail can show it in its reader's language: `Message("Keep this to %(n)s characters.",
field="contact", n=1000)` is 'contact: Keep this to 1000 characters.'.

The catalogues are gettext's (Babel): `kb/locales/LANG/LC_MESSAGES/messages.po`, compiled by
`make install`; `make messages` extracts every marked string (`Message("…")`, `_("…")` and
`N_("…")` in the code, `_()` and `{% trans %}` in the templates). `en-XA` is a pseudo-locale
for tests: every catalogued string wrapped in ⟦ ⟧ and 40 % longer, so that text left outside
the catalogues and layouts that break with longer words show."""

from __future__ import annotations

import gettext
import json
import re
from functools import cache
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

LOCALES = ("en", "sv", "de", "fr", "es", "it", "pl", "el", "pt", "nl", "fi", "ro")
PSEUDO = "en-XA"
CATALOGUES = Path(__file__).parent / "locales"


class Message(str):
    """English text with its translatable template, its values and the form field it is about."""

    template: str
    values: dict
    field: str | None

    def __new__(cls, template: str, /, field: str | None = None, **values) -> Message:
        text = template % values if values else template
        self = super().__new__(cls, f"{field}: {text}" if field else text)
        self.template, self.values, self.field = template, values, field
        return self

    def dumps(self) -> str:
        """The message as a store keeps it (an inbox event's text), to be shown later in any language."""
        return json.dumps({"message": self.template, "field": self.field, "values": self.values},
                          ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> str:
        """What `dumps` kept, as a Message again; any other text as it is (events told before)."""
        if not text.startswith('{"message": '):
            return text
        try:
            kept = json.loads(text)
            return cls(kept["message"], field=kept["field"], **kept["values"])
        except (ValueError, KeyError, TypeError):
            return text


def in_field(message: str, field: str) -> str:
    """A refusal's message as a problem of a form's `field` ('field: …'), still translatable."""
    if isinstance(message, Message) and message.field is None:
        return Message(message.template, field=field, **message.values)
    return f"{field}: {message}"


def N_(message: str) -> str:
    """Marks a string for the catalogue where it is defined; it is translated where shown."""
    return message


class Pseudo(gettext.NullTranslations):
    """Every message of the catalogues wrapped and lengthened, %(name)s placeholders and HTML tags
    kept as they are; a text the catalogues do not hold comes back as it is, so that it shows."""

    _KEEP = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|<[^>]*>|&[a-z]+;")
    _ACCENTS = str.maketrans("aeiouyAEIOUYcnCN", "áéîõüÿÅÉÎÕÜŸçñÇÑ")

    def __init__(self):
        super().__init__()
        with (CATALOGUES / "messages.pot").open("rb") as f:
            self.known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(f) if m.id}

    def gettext(self, message: str) -> str:
        return self.wrap(message) if message in self.known else message

    def wrap(self, message: str) -> str:
        """`message` as a catalogue's string reads in the pseudo-locale (what Babel formats too)."""
        parts = self._KEEP.split(message)
        kept = self._KEEP.findall(message)
        text = "".join(part.translate(self._ACCENTS) + (kept[i] if i < len(kept) else "")
                       for i, part in enumerate(parts))
        letters = sum(ch.isalpha() for part in parts for ch in part)
        padding = letters * 2 // 5  # 40 % longer, in words of up to five letters as a language's would wrap
        tail = " ".join("~" * min(5, padding - i) for i in range(0, padding, 5))
        return f"⟦{text}{' ' + tail if tail else ''}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        chosen = singular if n == 1 else plural
        return self.wrap(chosen) if singular in self.known else chosen


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of `locale` (English: the messages as written)."""
    if locale == PSEUDO:
        return Pseudo()
    if locale not in LOCALES or locale == "en":
        return gettext.NullTranslations()
    path = CATALOGUES / locale / "LC_MESSAGES" / "messages.mo"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: `make install` compiles the catalogues "
                           "(pybabel compile -d kb/locales)")
    with path.open("rb") as f:
        return gettext.GNUTranslations(f)


def translate(message: str, locale: str) -> str:
    """A message in `locale`: a `Message`'s template translated, then its values put in (each
    translated too if it is a Message); any other text as the catalogue has it, or as it is."""
    catalogue = translations(locale)
    if not isinstance(message, Message):
        return catalogue.gettext(message) if message else message
    values = {name: translate(value, locale) if isinstance(value, Message) else value
              for name, value in message.values.items()}
    text = catalogue.gettext(message.template) % values if values else catalogue.gettext(message.template)
    return f"{message.field}: {text}" if message.field else text


@cache
def glossary(locale: str) -> dict[str, dict[str, str]]:
    """The programme's terms in `locale` (kb/locales/LANG/glossary.yaml): per key its `term`,
    `plural` and `explain`; English for a language that has none (and the pseudo-locale)."""
    path = CATALOGUES / locale / "glossary.yaml"
    return yaml.safe_load(path.read_text("utf-8")) if path.exists() else glossary("en")
