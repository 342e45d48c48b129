"""A twin's workspace: its shortlist of practices and its replication plan (versions, sharing,
comments, finalising into a searchable document) and who may do what (workspace); the plan's
sections (sections); the plan as Markdown, Word and PDF (export)."""

from kb.workspace.export import FORMATS, MAX_BLOCKS, export
from kb.workspace.sections import (ACTION_FIELDS, GUIDANCE, SECTION_NAMES, SECTIONS, action_rows, actions_markdown,
                                   plan_doc_id, plan_document, plan_markdown)
from kb.workspace.workspace import STATUSES, PlanConflict, Workspace

__all__ = ["ACTION_FIELDS", "FORMATS", "GUIDANCE", "MAX_BLOCKS", "PlanConflict", "SECTIONS", "SECTION_NAMES", "STATUSES",
           "Workspace", "action_rows", "actions_markdown", "export", "plan_doc_id", "plan_document", "plan_markdown"]
