"""The Twin Cities knowledge base core: documents, chunking, embedding, store, index, search."""

from kb.documents import Practice, ValidationErrors, validate
from kb.embedding import Embedder, EmbedderError
from kb.errors import Conflict, Forbidden, Invalid, KBError, NotFound, RateLimited, Unauthenticated
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchError, SearchResult
from kb.settings import Settings
from kb.store import City, Store

__all__ = [
    "City", "Conflict", "Embedder", "EmbedderError", "Forbidden", "Invalid", "KBError", "KnowledgeBase", "NotFound",
    "Practice", "RateLimited", "SearchError", "SearchResult", "Settings", "Store", "Unauthenticated",
    "ValidationErrors", "validate",
]
