"""Controlled vocabularies of the corpus format (see DESIGN.md), and the words people read for
the domains (translated where shown: kb/messages.py)."""

from kb.messages import N_

DOCUMENT_KINDS = ("measure", "case_note", "workshop_output", "portal_resource", "replication_plan")
DOMAINS = ("energy", "buildings", "mobility", "waste-circular", "industry", "green-infrastructure")
LEVERS = (
    "technology",
    "governance-policy",
    "finance-funding",
    "social-innovation",
    "participation",
    "learning-capabilities",
    "data-digital",
)
DOMAIN_NAMES = {"energy": N_("Energy"), "buildings": N_("Buildings"), "mobility": N_("Mobility"),
                "waste-circular": N_("Waste and circular economy"), "industry": N_("Industry"),
                "green-infrastructure": N_("Green infrastructure and nature")}
MODULES = ("getting-started", "co-creation", "capitalisation")  # the twinning programme's modules, in order
# A city's part in the programme (cities.csv), not an account's role (kb/accounts.py).
CITY_ROLES = ("pilot", "twin", "mission")
FILTER_KEYS = ("domain", "lever", "kind", "module", "twin", "country", "city", "language")

# Kinds that describe one city's own practice (or plan) and so must name it.
CITY_KINDS = ("measure", "case_note", "replication_plan")
