"""Embedding models: a base class, one module per backend, and a factory that picks one."""

from kb.embedding.base import Embedder, EmbedderError
from kb.embedding.factory import load_embedder, passage_embedder, with_fast_queries

__all__ = ["Embedder", "EmbedderError", "load_embedder", "passage_embedder", "with_fast_queries"]
