"""Which embedder a knowledge base uses: the model backend named by the settings, with its
ONNX export composed in when one has been made.

A new model backend is one module in this package and one line in `passage_embedder`."""

from __future__ import annotations

import logging
from pathlib import Path

from kb.embedding.base import Embedder, EmbedderError
from kb.embedding.composed import Exported
from kb.embedding.e5 import E5, E5Embedder
from kb.embedding.onnx import OnnxEncoder, current, export_apart
from kb.embedding.sentence_transformers import MINILM, PROBE, SentenceTransformerEmbedder
from kb.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "multilingual-e5-small"
# KB_MODEL names (short and long) of the models that ship with the project; any other name is
# a sentence-transformers model on disk or in the local cache.
MODELS = {
    "multilingual-e5-small": lambda precision: E5Embedder(precision=precision),
    E5: lambda precision: E5Embedder(precision=precision),
    "all-MiniLM-L6-v2": lambda precision: SentenceTransformerEmbedder(None, precision=precision),
    MINILM: lambda precision: SentenceTransformerEmbedder(None, precision=precision),
}


def passage_embedder(settings: Settings) -> Embedder:
    """The model backend named by KB_MODEL (default: multilingual-e5-small)."""
    name = settings.model or DEFAULT_MODEL
    if name in MODELS:
        return MODELS[name](settings.precision)
    return SentenceTransformerEmbedder(name, precision=settings.precision)


def load_embedder(settings: Settings, onnx_dir: Path) -> Embedder:
    """The configured model, run by its ONNX export in `onnx_dir` when there is a current one
    in the variant KB_QUERY_ENCODER names."""
    backend = passage_embedder(settings)
    if settings.query_encoder == "torch" or backend.export_key is None:
        return backend
    encoder = OnnxEncoder.load(onnx_dir, backend, settings.query_encoder)
    return Exported(backend, encoder, onnx_dir) if encoder is not None else backend


def with_fast_queries(embedder: Embedder, onnx_dir: Path, variant: str) -> Embedder:
    """`embedder` with its queries embedded by ONNX Runtime, exporting the model to `onnx_dir`
    first unless a current export is there. An embedder that cannot be exported, or whose
    export does not agree with it, is returned as it was (queries then stay on PyTorch)."""
    if variant == "torch" or isinstance(embedder, Exported) or embedder.export_key is None:
        return embedder
    if current(onnx_dir, embedder.export_key, variant) is None:
        try:
            export_apart(embedder, onnx_dir, PROBE)
        except EmbedderError as exc:
            log.warning("queries will be embedded by PyTorch: %s", exc)
            return embedder
    encoder = OnnxEncoder.load(onnx_dir, embedder, variant)
    return Exported(embedder, encoder, onnx_dir) if encoder is not None else embedder
