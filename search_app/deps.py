"""Dependencies shared by the routes, as typed aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kb.accounts import User
from kb.knowledge_base import KnowledgeBase
from search_app.auth import api_reader, api_writer


async def get_kb(request: Request) -> KnowledgeBase:
    return request.app.state.kb


KB = Annotated[KnowledgeBase, Depends(get_kb)]
# The account behind an API write: a bearer token, or a session cookie plus X-CSRF-Token.
Writer = Annotated[User, Depends(api_writer)]
# The account behind an API read of private data: a bearer token, or a session cookie.
Reader = Annotated[User, Depends(api_reader)]
