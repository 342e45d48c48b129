"""The sections of a replication plan, and the plan as one Markdown text and as a document."""

from __future__ import annotations

import re
from datetime import date

from kb.documents import Practice, validate
from kb.store import City, PlanRecord

SECTIONS = (("situation", "Starting situation"), ("practices", "Practices adopted"), ("steps", "Planned steps"),
            ("costs", "Costs and funding sources"), ("indicators", "Indicators to follow"),
            ("risks", "Risks and mitigations"))
SECTION_NAMES = dict(SECTIONS)


def plan_markdown(twin: City, plan: PlanRecord) -> str:
    """The plan as one Markdown document, its sections as headings."""
    parts = [f"## {title}\n\n{plan.sections.get(name, '').strip() or '_Not written yet._'}" for name, title in SECTIONS]
    return "\n\n".join(parts) + "\n"


def plan_document(twin: City, plan: PlanRecord, adopted: list[Practice]) -> Practice:
    """The searchable document of a final plan."""
    domains = sorted({d for doc in adopted for d in doc.domains})
    levers = sorted({lv for doc in adopted for lv in doc.levers})
    slug = re.sub(r"[^a-z0-9]+", "-", twin.city.casefold()).strip("-")
    return validate({"id": f"plan-{slug}", "title": f"{twin.city}'s replication plan", "kind": "replication_plan",
                     "city": twin.city, "country": twin.country, "domains": domains, "levers": levers,
                     "date": date.today().isoformat()}, plan_markdown(twin, plan))
