"""The interface's language for each request: the account's choice, else the switch on every
page (a cookie), else the browser's Accept-Language; an API request follows Accept-Language
alone, English by default, so that its messages stay a stable contract. It lives in a context
variable set once per request (`SessionAndHeaders`), which the routes, the templates and the
error pages read. The catalogues themselves, and the core's messages, are kb/messages.py's;
dates and numbers are formatted here by Babel for the locale."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal

from kb.documents import language_name
from kb.messages import LOCALES, PSEUDO, N_, glossary, translate, translations  # noqa: F401 (N_ for the app)

COOKIE = "lang"

_current: ContextVar[str] = ContextVar("locale", default="en")


def current() -> str:
    """The locale this request is answered in."""
    return _current.get()


def use(locale: str) -> None:
    """Answer the rest of this request (this context) in `locale`."""
    _current.set(locale if locale in LOCALES or locale == PSEUDO else "en")


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def translated(message: str) -> str:
    """A message of the core, or any text the catalogues may hold, in this request's language."""
    return translate(message, _current.get())


def choose(account: str | None, cookie: str | None, accept_language: str | None, api: bool = False) -> str:
    """The locale of a request: for a page the account's choice, then the cookie, then the header;
    for the API the header alone."""
    if not api:
        for chosen in (account, cookie):
            if chosen in LOCALES or chosen == PSEUDO:
                return chosen
    return negotiate(accept_language)


def negotiate(accept_language: str | None) -> str:
    """'sv-SE,sv;q=0.9,en;q=0.5' -> 'sv'; anything we do not speak -> 'en'."""
    ranked = []
    for i, item in enumerate((accept_language or "")[:500].split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, i, tag.strip()))
    preferred = [tag for _q, _i, tag in sorted(ranked)]
    return negotiate_locale(preferred, LOCALES, sep="-") or "en"


def language_choices() -> list[tuple[str, str]]:
    """The interface's languages, each named in itself: [('en', 'English'), ('sv', 'Svenska'), …]."""
    return [(code, language_name(code)) for code in LOCALES]


def term(key: str) -> dict[str, str]:
    """A programme term in this request's language: term('lever')['explain']."""
    locale = _current.get()
    entry = glossary("en" if locale == PSEUDO else locale)[key]
    return {name: _pseudo(value) for name, value in entry.items()} if locale == PSEUDO else entry


@cache
def _territories() -> dict[str, str]:
    return {name.casefold(): code for code, name in Locale("en").territories.items()}


def country(name: str | None) -> str:
    """A country as the corpus names it in English ('Denmark'), in this request's language
    ('Δανία'), by Babel's (CLDR's) names; a name CLDR does not know stays as it is."""
    known = _territories()
    code = known.get((name or "").casefold()) or known.get((name or "").replace(" and ", " & ").casefold())
    locale = _current.get()
    if code is None or locale == "en":
        return name or ""
    return _pseudo(name) if locale == PSEUDO else Locale.parse(locale).territories.get(code, name)


def _pseudo(formatted: str) -> str:
    """What Babel formatted, wrapped as a catalogue's string in the pseudo-locale (it is localised)."""
    return translations(PSEUDO).wrap(formatted) if _current.get() == PSEUDO else formatted


def _babel_locale() -> str:
    locale = _current.get()
    return "en" if locale == PSEUDO else locale


def _parse(stamp: str | datetime | None) -> datetime | None:
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def when(stamp: str | datetime | None) -> str:
    """A stored UTC time as people of the locale read it: 'Dec 7, 2026 2:07 AM UTC' (en),
    '7 dec. 2026 02:07 UTC' (sv)."""
    moment = _parse(stamp)
    if moment is None:
        return str(stamp or "")
    locale = _babel_locale()
    return _pseudo(f"{format_date(moment, 'medium', locale=locale)} "
                   f"{format_time(moment, 'short', tzinfo=UTC, locale=locale)} UTC")


def ago(stamp: str | datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago', 'för 3 timmar sedan'."""
    moment = _parse(stamp)
    if moment is None:
        return str(stamp or "")
    delta = moment - (now or datetime.now(UTC))
    return _pseudo(format_timedelta(delta, add_direction=True, locale=_babel_locale()))


def number(value: float | int | None) -> str:
    """1234.5 -> '1,234.5' (en), '1 234,5' (sv)."""
    return "" if value is None else format_decimal(value, locale=_babel_locale())
