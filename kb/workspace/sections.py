"""The sections of a replication plan, and the plan as one Markdown text and as a document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kb.documents import Practice, validate
from kb.messages import N_, Message, translate
from kb.store import City, PlanRecord

SECTIONS = (("situation", N_("Starting situation")), ("practices", N_("Practices adopted")),
            ("steps", N_("Planned steps")),
            ("costs", N_("Costs and funding sources")), ("governance", N_("Stakeholders and governance")),
            ("indicators", N_("Indicators to follow")), ("risks", N_("Risks and mitigations")))
SECTION_NAMES = dict(SECTIONS)


@dataclass(frozen=True)
class Guidance:
    what: str
    example: str
    length: str


# What each section asks, after the programme's replication plan: the actions to replicate, their
# timeline through the three modules, budget and funding, stakeholders and governance, risks, indicators.
GUIDANCE = {
    "situation": Guidance(N_("Where your city stands on the challenge today, and why it chose these pilots."),
                          N_("70 per cent of our district heat comes from an oil-fired plant; the council voted "
                             "to end fossil heat by 2030."), N_("One or two paragraphs.")),
    "practices": Guidance(N_("For each pilot practice you adopt: what you take over as it is, and what you adapt to "
                          "your city."), N_("Kalamata's one-stop shop: we keep the single advice desk, but run it with "
                          "the regional energy agency."), N_("A line or two per practice.")),
    "steps": Guidance(N_("The actions, each with who leads it, when it starts and ends, its budget and the indicator "
                      "that shows it is done, through getting started, co-creation and capitalisation."),
                      N_("Feasibility study for a heat-pump plant — energy department — 2027-01 to 2027-06 — "
                      "EUR 80,000 — study approved by the council."), N_("One row per action; five to fifteen rows.")),
    "costs": Guidance(N_("What the plan costs in all, and where the money comes from (own budget, national or EU "
                      "funds, loans, private partners)."),
                      N_("EUR 1.2 million: 40 per cent city budget, 60 per cent from the national recovery plan "
                         "(applied for in March)."), N_("A short paragraph or a table.")),
    "governance": Guidance(N_("Who takes part and who decides: departments, utilities, residents, businesses, the "
                           "pilot; how they meet."), N_("A steering group of the deputy mayor, the utility and two "
                           "residents' associations meets every quarter."), N_("One paragraph.")),
    "indicators": Guidance(N_("How you will know it works: each indicator with its unit, today's value and the "
                           "target."),
                           N_("Share of heat from renewable sources: 30 per cent today, 80 per cent in 2030."),
                           N_("Three to eight indicators.")),
    "risks": Guidance(N_("What could stop the plan, and what you will do about it."), N_("Residents oppose the new "
                      "plant: open site visits and a neighbourhood panel from the start."), N_("Three to six risks.")),
}

# The planned steps are a table of actions, edited as rows in the page and kept as Markdown.
ACTION_FIELDS = (("action", N_("Action")), ("owner", N_("Owner")), ("start", N_("Start")), ("end", N_("End")),
                 ("budget", N_("Budget")), ("indicator", N_("Indicator")))
_ALIASES = {"step": "action"}  # the older table's first column


def action_rows(markdown: str) -> tuple[list[dict[str, str]], str]:
    """The rows of the table in `markdown` (its first table line is the header), by field, and the
    text around it."""
    lines, rows, rest, header = markdown.splitlines(), [], [], None
    for line in lines:
        cells = _cells(line)
        if cells is None:
            rest.append(line)
        elif header is None:
            header = [_ALIASES.get(c.casefold(), c.casefold()) for c in cells]
        elif not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
            row = {name: "" for name, _ in ACTION_FIELDS}
            for i, cell in enumerate(cells):
                key = (header[i] if i < len(header) and header[i] in row
                       else ACTION_FIELDS[i][0] if i < len(ACTION_FIELDS) else None)
                if key:
                    row[key] = cell
            if any(row.values()):
                rows.append(row)
    return rows, "\n".join(rest).strip()


def actions_markdown(rows: list[dict[str, str]], rest: str = "", language: str = "en") -> str:
    """The table of actions (and any text beside it) as the section's Markdown, its header in
    `language` (read back by position, whatever the language)."""
    table = ["| " + " | ".join(translate(title, language) for _, title in ACTION_FIELDS) + " |",
             "|" + " --- |" * len(ACTION_FIELDS)]
    table += ["| " + " | ".join(table_cell(row.get(name, "")) for name, _ in ACTION_FIELDS) + " |"
              for row in rows if any(str(row.get(name, "")).strip() for name, _ in ACTION_FIELDS)]
    return "\n".join(table) + "\n" + (f"\n{rest.strip()}\n" if rest.strip() else "")


def _cells(line: str) -> list[str] | None:
    line = line.strip()
    if not (line.startswith("|") and line.endswith("|") and len(line) > 1):
        return None
    return [c.strip() for c in line[1:-1].split("|")]


def table_cell(text: str) -> str:
    return " ".join(str(text).replace("|", "/").split())


def plan_markdown(twin: City, plan: PlanRecord, language: str = "en") -> str:
    """The plan as one Markdown document, its sections as headings (in `language`; the
    searchable document's in English)."""
    unwritten = translate(Message("Not written yet."), language)
    parts = [f"## {translate(title, language)}\n\n{plan.sections.get(name, '').strip() or f'_{unwritten}_'}"
             for name, title in SECTIONS]
    return "\n\n".join(parts) + "\n"


def plan_doc_id(twin: City) -> str:
    """The id of a twin's final plan as a document."""
    return "plan-" + re.sub(r"[^a-z0-9]+", "-", twin.city.casefold()).strip("-")


def plan_document(twin: City, plan: PlanRecord, adopted: list[Practice]) -> Practice:
    """The searchable document of a final plan."""
    domains = sorted({d for doc in adopted for d in doc.domains})
    levers = sorted({lv for doc in adopted for lv in doc.levers})
    return validate({"id": plan_doc_id(twin), "title": f"{twin.city}'s replication plan", "kind": "replication_plan",
                     "city": twin.city, "country": twin.country, "domains": domains, "levers": levers,
                     "date": date.today().isoformat()}, plan_markdown(twin, plan))
