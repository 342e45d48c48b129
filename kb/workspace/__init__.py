"""A twin's workspace: its shortlist of practices and its replication plan (versions, sharing,
comments, finalising into a searchable document) and who may do what (workspace); the plan's
sections (sections); the plan as Markdown, Word and PDF (export)."""

from kb.workspace.export import FORMATS, MAX_BLOCKS, export
from kb.workspace.sections import SECTIONS, SECTION_NAMES, plan_document, plan_markdown
from kb.workspace.workspace import STATUSES, PlanConflict, Workspace

__all__ = ["FORMATS", "MAX_BLOCKS", "PlanConflict", "SECTIONS", "SECTION_NAMES", "STATUSES", "Workspace", "export",
           "plan_document", "plan_markdown"]
