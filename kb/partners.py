"""Partner suggestions: the pilot cities whose practices match a twin's challenge, and why.

Evidence first: the practices that match the challenge (hybrid search) are aggregated per pilot
city so that one strong match and several good ones both count; then profile fit (same
country or neighbouring region, similar population, shared domains) adds a smaller bonus."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from kb.core import Core
from kb.regions import region_of
from kb.search import SearchError, SearchResult, check_k, search
from kb.store import City
from kb.vocab import DOMAINS

MAX_CHALLENGE = 2000
EVIDENCE_DEPTH = 100  # practices ranked before aggregating by city
# A city's evidence: its best practice counts whole, the next ones less and less.
DECAY = (1.0, 0.5, 0.25, 0.125)
# Workshop outputs are evidence that the hosting pilot works on the topic, but less direct
# than the pilot's own practice.
KIND_WEIGHT = {"measure": 1.0, "case_note": 1.0, "workshop_output": 0.6}
SAME_COUNTRY, SAME_REGION, SIZE, SHARED_DOMAIN = 0.15, 0.07, 0.10, 0.04


@dataclass(frozen=True)
class Profile:
    """What is known of the twin city asking."""

    city: str | None = None
    country: str | None = None
    population: int | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    title: str
    score: float


@dataclass
class PartnerSuggestion:
    city: str
    country: str
    score: float
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def check_challenge(challenge: str) -> str:
    if not isinstance(challenge, str) or not challenge.strip():
        raise SearchError("describe the challenge in a few words, e.g. 'district heating still runs on coal'")
    if len(challenge) > MAX_CHALLENGE:
        raise SearchError(f"the challenge is {len(challenge)} characters long; shorten it to at most {MAX_CHALLENGE}")
    return challenge.strip()


def check_profile(profile: Profile) -> Profile:
    if profile.population is not None and not (isinstance(profile.population, int) and profile.population > 0):
        raise SearchError(f"population must be a positive whole number, got {profile.population!r}")
    unknown = [d for d in profile.domains if d not in DOMAINS]
    if unknown:
        raise SearchError(f"unknown domain {unknown[0]!r}; use one of {', '.join(DOMAINS)}")
    return profile


def suggest(
    kb: Core, challenge: str, profile: Profile | None = None, k: int = 5,
    results: list[SearchResult] | None = None,
) -> list[PartnerSuggestion]:
    """Pilot cities to pair with a twin facing `challenge`, best first, each with its reasons and
    evidence. `results` may pass an already computed hybrid search for the challenge."""
    challenge, k = check_challenge(challenge), check_k(k)
    profile = check_profile(profile or Profile())
    pilots = {c.city: c for c in kb.store.cities() if c.role == "pilot"}
    if results is None:
        results = search(kb, challenge[:1000], k=EVIDENCE_DEPTH, mode="hybrid").results
    top = max((r.score for r in results), default=0.0) or 1.0

    evidence: dict[str, list[tuple[SearchResult, float]]] = {}
    for r in results:
        if r.city in pilots and r.city != profile.city and r.kind in KIND_WEIGHT:
            evidence.setdefault(r.city, []).append((r, KIND_WEIGHT[r.kind] * r.score / top))

    suggestions = []
    for name, items in evidence.items():
        items.sort(key=lambda item: -item[1])
        strength = sum(w * s for w, (_, s) in zip(DECAY, items))
        fit, fit_reasons = profile_fit(profile, pilots[name])
        suggestions.append(PartnerSuggestion(
            city=name, country=pilots[name].country, score=round(strength + fit, 4),
            reasons=evidence_reasons(items) + fit_reasons,
            evidence=[Evidence(r.doc_id, r.title, round(s, 4)) for r, s in items],
        ))
    suggestions.sort(key=lambda s: (-s.score, s.city))
    return suggestions[:k]


def evidence_reasons(items: list[tuple[SearchResult, float]]) -> list[str]:
    domains = Counter(d for r, _ in items for d in r.domains)
    topic = ", ".join(d.replace("-", " ") for d, _ in domains.most_common(2))
    count = len(items)
    practices = f"{count} matching {'practice' if count == 1 else 'practices'}"
    return [f"{practices} on {topic}" if topic else practices, f"best match: “{items[0][0].title}”"]


def profile_fit(profile: Profile, pilot: City) -> tuple[float, list[str]]:
    """The bonus for conditions shared with the pilot, and the words that say so."""
    bonus, reasons = 0.0, []
    if profile.country and profile.country.casefold() == pilot.country.casefold():
        bonus += SAME_COUNTRY
        reasons.append(f"same country: {pilot.country}")
    elif (region := region_of(profile.country)) and region == region_of(pilot.country):
        bonus += SAME_REGION
        reasons.append(f"neighbouring region: {region}")
    if profile.population and pilot.population:
        closeness = max(0.0, 1 - abs(math.log10(profile.population / pilot.population)) / 2)
        if closeness > 0.5:
            bonus += SIZE * closeness
            reasons.append(f"similar size: {_people(pilot.population)} vs {_people(profile.population)}")
    shared = [d for d in profile.domains if d in pilot.domains]
    if shared:
        bonus += SHARED_DOMAIN * len(shared)
        reasons.append("shares domains: " + ", ".join(d.replace("-", " ") for d in shared))
    return bonus, reasons


def _people(n: int) -> str:
    return f"{n / 1_000_000:.1f}M" if n >= 1_000_000 else f"{round(n / 1000)}k"
