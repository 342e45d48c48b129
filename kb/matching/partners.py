"""Partner suggestions: the pilot cities whose documented practices match a twin's challenge.

Evidence, not circumstance. The practices matching the challenge (hybrid search) are the only
thing that qualifies a pilot: a document counts as evidence when it is the pilot's own practice
(a measure, a case note, or a workshop it hosted), matches at least EVIDENCE_FLOOR as well as the
best result, and is not about the asking city (its own documents, or ones that name it, would
be circular). A pilot's strength is its best practice, then less and less for each next one, so
one document, a new case note included, can never weigh more than one practice. Only then does
profile fit (same country or region, similar size, shared domains) re-rank, by at most
MAX_FIT: it can order pilots with evidence, never qualify one. When the challenge matches
nothing well, the answer says so instead of filling the slots."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from kb.core import Core
from kb.documents import DOMAIN_NAMES, DOMAINS, Practice, markdown_to_plain
from kb.matching.regions import region_of
from kb.messages import Message
from kb.search import SearchError, SearchResponse, SearchResult, check_k, search
from kb.store import City

MAX_CHALLENGE = 2000
MAX_POPULATION = 100_000_000  # more than any city; bounds what a form or an API body may claim
EVIDENCE_DEPTH = 100  # practices ranked before aggregating by city
# A document is evidence only if it matches at least this share of the best result's score
# (on the dev half of the judged challenges it keeps 80% of the pilots a matching officer accepts).
EVIDENCE_FLOOR = 0.3
DECAY = (1.0, 0.5, 0.25, 0.125)  # a city's best practice counts whole, the next ones less and less
# Workshop outputs show that the hosting pilot works on the topic, less directly than its own practice.
KIND_WEIGHT = {"measure": 1.0, "case_note": 1.0, "workshop_output": 0.6}
SAME_COUNTRY, SAME_REGION, SIZE, SHARED_DOMAIN, MAX_FIT = 0.15, 0.075, 0.05, 0.02, 0.25
SHOWN_EVIDENCE = 3


@dataclass(frozen=True)
class Profile:
    """What is known of the twin city asking."""

    city: str | None = None
    country: str | None = None
    population: int | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """One practice of the pilot that matches, with the passage that matches and what was done."""

    doc_id: str
    title: str
    kind: str
    score: float
    passage: str
    what_was_done: str = ""
    answers: str | None = None  # of a challenge written as a paragraph, the sentence it answers best
    language: str | None = None  # the language `passage` is written in


@dataclass
class PartnerSuggestion:
    city: str
    country: str
    score: float  # for ordering and the API; the page shows reasons, not numbers
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PartnerResponse:
    challenge: str
    suggestions: list[PartnerSuggestion]
    weak_match: bool = False  # no pilot has documented a practice that matches well

    def to_json(self) -> dict:
        return {"challenge": self.challenge, "weak_match": self.weak_match,
                "suggestions": [s.to_json() for s in self.suggestions]}


def check_challenge(challenge: str) -> str:
    if not isinstance(challenge, str) or not challenge.strip():
        raise SearchError(Message("describe the challenge in a few words, e.g. 'district heating still runs on coal'"))
    if len(challenge) > MAX_CHALLENGE:
        raise SearchError(Message("the challenge is %(n)s characters long; shorten it to at most %(max)s",
                                  n=len(challenge), max=MAX_CHALLENGE))
    return challenge.strip()


def check_profile(profile: Profile) -> Profile:
    if profile.population is not None and not (isinstance(profile.population, int)
                                               and 0 < profile.population <= MAX_POPULATION):
        raise SearchError(Message("population must be a whole number from 1 to %(max)s, got %(population)s",
                                  max=format(MAX_POPULATION, ","), population=repr(profile.population)))
    unknown = [d for d in profile.domains if d not in DOMAINS]
    if unknown:
        raise SearchError(Message("unknown domain %(domain)s; use one of %(domains)s", domain=repr(unknown[0]),
                                  domains=", ".join(DOMAINS)))
    return profile


def suggest(kb: Core, challenge: str, profile: Profile | None = None, k: int = 5,
            response: SearchResponse | None = None, correct: bool = True) -> PartnerResponse:
    """Pilot cities to pair with a twin facing `challenge`, best first, each with its evidence
    and reasons. `response` may pass an already computed hybrid search for the challenge;
    `correct=False` leaves its spelling as it is (a challenge made of documents' own titles)."""
    challenge, k = check_challenge(challenge), check_k(k)
    profile = check_profile(profile or Profile())
    response = response or search(kb, challenge[:1000], k=EVIDENCE_DEPTH, mode="hybrid", correct=correct)
    results, weak = response.results, response.weak_match
    pilots = {c.city: c for c in kb.store.cities() if c.role == "pilot"}
    documents = kb.store.documents(r.doc_id for r in results)
    # what is about the asking city is neither evidence nor the bar evidence is measured against
    results = [r for r in results if r.doc_id in documents and not about(documents[r.doc_id], profile.city)]
    floor = EVIDENCE_FLOOR * (results[0].score if results else 0.0)
    evidence: dict[str, list[tuple[SearchResult, float]]] = {}
    for r in results:
        if r.city in pilots and r.kind in KIND_WEIGHT and r.score >= floor:
            evidence.setdefault(r.city, []).append((r, KIND_WEIGHT[r.kind] * r.score))
    suggestions = []
    for name, items in evidence.items():
        items.sort(key=lambda item: -item[1])
        strength = sum(w * s for w, (_, s) in zip(DECAY, items))
        fit, fit_reasons = profile_fit(profile, pilots[name])
        suggestions.append(PartnerSuggestion(
            city=name, country=pilots[name].country, score=round(strength * (1 + fit), 4),
            reasons=evidence_reasons(items) + fit_reasons,
            evidence=[_evidence(r, s, documents[r.doc_id]) for r, s in items[:SHOWN_EVIDENCE]],
        ))
    suggestions.sort(key=lambda s: (-s.score, s.city))
    return PartnerResponse(challenge, [] if weak else suggestions[:k], weak or not suggestions)


def about(doc: Practice, city: str | None) -> bool:
    """Whether a document is about `city`: the city's own, or one that names it."""
    if not city:
        return False
    if doc.city and doc.city.casefold() == city.casefold():
        return True
    return re.search(rf"(?<!\w){re.escape(city)}(?!\w)", f"{doc.title}\n{doc.body}", re.IGNORECASE) is not None


def _evidence(result: SearchResult, score: float, doc: Practice) -> Evidence:
    return Evidence(result.doc_id, result.title, result.kind, round(score, 4), result.snippet, what_was_done(doc),
                    result.answers, result.passage_language)


def what_was_done(doc: Practice, limit: int = 240) -> str:
    """The opening of the document's "What was done" section, in plain words."""
    match = re.search(r"^##\s*What was done\s*\n(.+?)(?=^##\s|\Z)", doc.body, re.MULTILINE | re.DOTALL)
    text = markdown_to_plain(match.group(1)) if match else ""
    return text if len(text) <= limit else text[:text.rfind(" ", 0, limit)] + " …"


def evidence_reasons(items: list[tuple[SearchResult, float]]) -> list[Message]:
    """Why a pilot is suggested, as messages each reader reads in their language."""
    counted = Counter(d for r, _ in items for d in r.domains)
    domains = [Message(DOMAIN_NAMES.get(d, d)) for d, _ in counted.most_common(2)]
    count = len(items)
    practices = (Message("%(n)s documented practice matches", n=count) if count == 1
                 else Message("%(n)s documented practices match", n=count))
    topic = (Message("%(practices)s, on %(domain)s", practices=practices, domain=domains[0]) if len(domains) == 1
             else Message("%(practices)s, on %(domain)s and %(other)s", practices=practices, domain=domains[0],
                          other=domains[1]) if domains else practices)
    return [topic, Message("best match: “%(title)s”", title=items[0][0].title)]


def profile_fit(profile: Profile, pilot: City) -> tuple[float, list[str]]:
    """How much closer the pilot's conditions bring it (at most MAX_FIT), and the words that say so."""
    bonus, reasons = 0.0, []
    if profile.country and profile.country.casefold() == pilot.country.casefold():
        bonus += SAME_COUNTRY
        reasons.append(Message("same country: %(country)s", country=pilot.country))
    elif (region := region_of(profile.country)) and region == region_of(pilot.country):
        bonus += SAME_REGION
        reasons.append(Message("neighbouring region: %(region)s", region=region))
    if profile.population and pilot.population:
        closeness = max(0.0, 1 - abs(math.log10(profile.population / pilot.population)) / 2)
        if closeness > 0.5:
            bonus += SIZE * closeness
            reasons.append(Message("similar size: %(pilot)s vs %(yours)s", pilot=_people(pilot.population),
                                   yours=_people(profile.population)))
    shared = [d for d in profile.domains if d in pilot.domains]
    if shared:
        bonus += SHARED_DOMAIN * len(shared)
        reasons.append(Message("shares domains: %(domains)s", domains=", ".join(d.replace("-", " ") for d in shared)))
    return min(bonus, MAX_FIT), reasons


def _people(n: int) -> str:
    return f"{n / 1_000_000:.1f}M" if n >= 1_000_000 else f"{round(n / 1000)}k"
