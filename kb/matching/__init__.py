"""Matching twins and pilots: practices like a practice (similarity), pilot cities for a twin's
challenge (partners, regions), the matching team's explorer with its map (explorer, geography),
the pairings the team records and each pairing's meetings (pairings, journal), and cities taken
in between corpus syncs, placed by GeoNames (registry, gazetteer). Uses search and the inbox;
knows nothing of notes or the workspace."""

from kb.matching.explorer import EuropeMap, Explorer, ExplorerView, Heatmap
from kb.matching.gazetteer import Gazetteer
from kb.matching.geography import Outline, extent, outlines, project
from kb.matching.journal import MAX_FILES, MEETING_KINDS, Journal
from kb.matching.pairings import MATCHING_ROLES, Pairings
from kb.matching.partners import MAX_POPULATION, PartnerResponse, PartnerSuggestion, Profile, suggest
from kb.matching.regions import region_of
from kb.matching.registry import Ambiguous, Registry, is_added
from kb.matching.similarity import UnknownDocument, similar

__all__ = [
    "Ambiguous", "EuropeMap", "Explorer", "ExplorerView", "Gazetteer", "Heatmap", "Journal", "MATCHING_ROLES",
    "MAX_FILES", "MAX_POPULATION", "MEETING_KINDS", "Outline", "PartnerResponse", "PartnerSuggestion", "Pairings",
    "Profile", "Registry", "UnknownDocument", "extent", "is_added", "outlines", "project", "region_of", "similar",
    "suggest",
]
