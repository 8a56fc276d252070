"""The Rust tokenizer of a model directory (``tokenizer.json``) with the little of the
transformers tokenizer interface that :mod:`pipeline.tagger.encoding` uses; imports neither
torch nor transformers (the ONNX Runtime path of :mod:`pipeline.tagger.ort` needs neither).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class _Encoding:
    """What ``tokenizer(text, ...)`` returns, as far as :mod:`pipeline.tagger.encoding` reads it."""

    def __init__(self, enc):
        self._enc = enc

    def __getitem__(self, key: str):
        if key == "input_ids":
            return self._enc.ids
        if key == "offset_mapping":
            return self._enc.offsets
        raise KeyError(key)

    def word_ids(self) -> list[int | None]:
        return self._enc.word_ids


class RustTokenizer:
    """A fast tokenizer from a model directory's ``tokenizer.json``, through the ``tokenizers``
    library alone (no truncation, no padding, special tokens added only when asked)."""

    is_fast = True

    def __init__(self, path: str | Path):
        from tokenizers import Tokenizer

        path = Path(path)
        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        specials = _special_tokens(path)
        self.cls_token_id = self._tok.token_to_id(specials.get("cls_token", "[CLS]"))
        self.sep_token_id = self._tok.token_to_id(specials.get("sep_token", "[SEP]"))
        self.pad_token_id = self._tok.token_to_id(specials.get("pad_token", "[PAD]"))
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=False)
        if self.cls_token_id is None or self.sep_token_id is None:
            raise ValueError(f"{path}/tokenizer.json has no {specials.get('cls_token')!r} / "
                             f"{specials.get('sep_token')!r} token")

    def __call__(self, text: str, add_special_tokens: bool = True, **_: Any) -> _Encoding:
        return _Encoding(self._tok.encode(text, add_special_tokens=add_special_tokens))


def _special_tokens(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        f = path / name
        if f.is_file():
            try:
                obj = json.loads(f.read_text(encoding="utf-8"))
            except ValueError:
                continue
            for key in ("cls_token", "sep_token", "pad_token"):
                v = obj.get(key)
                v = v.get("content") if isinstance(v, dict) else v
                if isinstance(v, str):
                    out.setdefault(key, v)
    return out
