"""Replication: which pilots' practices twins keep, adopt, drop and write into final plans,
per practice, pilot city, domain or module, and month by month. Read from the shortlists and
the plans themselves, not from the search log."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.documents import Practice
from kb.errors import Invalid

if TYPE_CHECKING:
    from kb.core import Core

GROUPINGS = ("practice", "pilot", "domain", "module")
COUNTS = ("kept", "considering", "adopting", "dropped", "final")


@dataclass(frozen=True)
class ReplicationRow:
    key: str  # a document id, a city, a domain or a module
    label: str
    kept: int = 0  # twins keeping it (any status)
    considering: int = 0
    adopting: int = 0
    dropped: int = 0
    final: int = 0  # final plans adopting it
    twins: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"key": self.key, "label": self.label, **{c: getattr(self, c) for c in COUNTS},
                "twins": list(self.twins)}


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    kept: int = 0  # practices kept that month
    adopting: int = 0  # set to adopting that month
    final: int = 0  # adoptions in plans made final that month


@dataclass(frozen=True)
class Replication:
    by: str
    since: str | None
    rows: list[ReplicationRow]
    months: list[Month] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"by": self.by, "since": self.since, "rows": [r.to_json() for r in self.rows],
                "months": [vars(m) for m in self.months]}


def replication(kb: Core, by: str = "practice", since: str | None = None) -> Replication:
    """Kept, considering, adopting, dropped and in a final plan, per `by`, counting what was kept
    (or made final) from `since` (an ISO date; None: ever)."""
    if by not in GROUPINGS:
        raise Invalid(f"by: {by!r} is not one of {', '.join(GROUPINGS)}")
    kept = [k for k in kb.store.shortlists() if since is None or k.added_at >= since]
    plans = [p for p in kb.store.final_plans() if since is None or p.updated_at >= since]
    docs = kb.store.documents({k.doc_id for k in kept} | {d for p in plans for d in p.adopted})
    counts: dict[str, Counter] = defaultdict(Counter)
    twins: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    for item in kept:
        for key, label in _keys(docs.get(item.doc_id), item.doc_id, by):
            counts[key]["kept"] += 1
            counts[key][item.status] += 1
            twins[key].add(item.twin)
            labels[key] = label
    for plan in plans:
        for doc_id in plan.adopted:
            for key, label in _keys(docs.get(doc_id), doc_id, by):
                counts[key]["final"] += 1
                twins[key].add(plan.twin)
                labels[key] = label
    rows = [ReplicationRow(key, labels[key], **{c: counts[key][c] for c in COUNTS}, twins=tuple(sorted(twins[key])))
            for key in counts]
    rows.sort(key=lambda r: (-r.final, -r.adopting, -r.kept, r.label))
    return Replication(by, since, rows, _months(kept, plans))


def pilot_reach(kb: Core, city: str) -> ReplicationRow | None:
    """How far one pilot's practices travel: its row of `replication(by="pilot")`."""
    return next((r for r in replication(kb, "pilot").rows if r.key.casefold() == city.casefold()), None)


def _keys(doc: Practice | None, doc_id: str, by: str) -> list[tuple[str, str]]:
    if doc is None:  # removed since it was kept
        return [(doc_id, doc_id)] if by == "practice" else [("(removed)", "(removed)")]
    if by == "practice":
        return [(doc.id, doc.title)]
    if by == "pilot":
        return [(doc.city or "(no city)", doc.city or "(no city)")]
    if by == "domain":
        return [(d, d) for d in doc.domains] or [("(none)", "(none)")]
    return [(doc.module or "(none)", doc.module or "(none)")]


def _months(kept, plans) -> list[Month]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for item in kept:
        counts[item.added_at[:7]]["kept"] += 1
        if item.status == "adopting" and item.status_at:
            counts[item.status_at[:7]]["adopting"] += 1
    for plan in plans:
        counts[plan.updated_at[:7]]["final"] += len(plan.adopted)
    return [Month(month, c["kept"], c["adopting"], c["final"]) for month, c in sorted(counts.items())]
