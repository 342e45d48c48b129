"""Matching twins and pilots: practices like a practice (similarity), pilot cities for a twin's
challenge (partners, regions), the matching team's explorer with its map (explorer, geography),
and the pairings the team records. Uses search; knows nothing of notes or the workspace."""

from kb.matching.explorer import EuropeMap, Explorer, ExplorerView, Heatmap
from kb.matching.geography import Outline, extent, outlines, project
from kb.matching.pairings import MATCHING_ROLES, Pairings
from kb.matching.partners import MAX_POPULATION, PartnerResponse, PartnerSuggestion, Profile, suggest
from kb.matching.regions import region_of
from kb.matching.similarity import UnknownDocument, similar

__all__ = [
    "EuropeMap", "Explorer", "ExplorerView", "Heatmap", "MATCHING_ROLES", "MAX_POPULATION", "Outline",
    "PartnerResponse", "PartnerSuggestion", "Pairings", "Profile", "UnknownDocument", "extent", "outlines", "project",
    "region_of", "similar", "suggest",
]
