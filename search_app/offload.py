"""Embedding a query off the event loop."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from kb.knowledge_base import KnowledgeBase
from kb.search import SearchError, dense_text


async def embed_ahead(kb: KnowledgeBase, query: str, mode: str = "hybrid") -> None:
    """Embed `query` on a worker thread into the knowledge base's query cache, where the
    search that follows finds it. The model releases the GIL while it computes, so the event
    loop meanwhile serves other requests, and one server process can use more than one core:
    it keeps up when the connections are shared unevenly between the worker processes."""
    if mode == "keyword":
        return
    try:
        text = dense_text(query)
    except SearchError:
        return  # the search itself reports it
    await run_in_threadpool(kb.embed_query, text)
