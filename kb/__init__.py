"""The Twin Cities knowledge base core: documents, chunking, embedding, store, index, search."""

from kb.documents import Practice, ValidationErrors, validate
from kb.embedder import Embedder, EmbedderError, FakeEmbedder, load_embedder
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchError, SearchResult, search
from kb.settings import Settings
from kb.store import City, Store

__all__ = [
    "City", "Embedder", "EmbedderError", "FakeEmbedder", "KnowledgeBase", "Practice", "SearchError",
    "SearchResult", "Settings", "Store", "ValidationErrors", "load_embedder", "search", "validate",
]
