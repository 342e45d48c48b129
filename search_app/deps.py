"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kb.knowledge_base import KnowledgeBase


def get_kb(request: Request) -> KnowledgeBase:
    """The knowledge base, its index caught up with anything another process wrote."""
    kb = request.app.state.kb
    kb.refresh_index()
    return kb


KB = Annotated[KnowledgeBase, Depends(get_kb)]
