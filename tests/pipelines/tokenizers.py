"""Tokenizers built offline, for tiny random-weight pipelines.

Real checkpoints ship their tokenizers from the hub, which tests cannot reach. These
builders write small but complete tokenizers that load through the same transformers
classes the real models use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["build_clip_tokenizer", "build_t5_tokenizer", "CLIP_SPECIAL_TOKENS"]

CLIP_SPECIAL_TOKENS = ("<|startoftext|>", "<|endoftext|>")
_CLIP_MERGES = ("t h", "th e</w>", "o n</w>", "a n", "e r</w>")


def _byte_symbols() -> list[str]:
    """Map the 256 byte values to printable characters, as byte-level BPE vocabularies do."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    symbols = {byte: chr(byte) for byte in printable}
    offset = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = chr(256 + offset)
            offset += 1
    return [symbols[byte] for byte in range(256)]


def build_clip_tokenizer(folder: Path, model_max_length: int = 77) -> Any:
    """Write a byte-level CLIP tokenizer to `folder` and return it loaded with `from_pretrained`.

    The end-of-text token has the highest id because the CLIP text model pools at
    argmax(input_ids); the text encoder config must use the returned ids.
    """
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = _byte_symbols()
    tokens = symbols + [symbol + "</w>" for symbol in symbols]
    tokens += ["".join(merge.split()) for merge in _CLIP_MERGES]
    tokens += list(CLIP_SPECIAL_TOKENS)
    vocab = {token: index for index, token in enumerate(dict.fromkeys(tokens))}

    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(_CLIP_MERGES) + "\n", encoding="utf-8")
    return CLIPTokenizer.from_pretrained(str(folder), model_max_length=model_max_length, pad_token="<|endoftext|>")


def build_t5_tokenizer(folder: Path, model_max_length: int = 128) -> Any:
    """Write a small Unigram T5 tokenizer (pad=0, eos=1, unk=2) to `folder` and load it back."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [(f"▁{letter}", -3.0) for letter in "abcdefghijklmnopqrstuvwxyz"]
    pieces += [(letter, -4.0) for letter in "abcdefghijklmnopqrstuvwxyz0123456789"]
    backend = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()

    tokenizer = T5Tokenizer(tokenizer_object=backend, extra_ids=0, model_max_length=model_max_length)
    tokenizer.save_pretrained(str(folder))
    return T5Tokenizer.from_pretrained(str(folder))
