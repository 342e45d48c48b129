"""Reads a corpus folder or JSON Lines file, validates it, and syncs it into the knowledge base."""

from indexer.sources import Corpus, LoadError, read_corpus
from indexer.sync import SyncReport, sync

__all__ = ["Corpus", "LoadError", "SyncReport", "read_corpus", "sync"]
