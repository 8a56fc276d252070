"""A light inference path for BERT-family taggers: plain PyTorch and the ``tokenizers``
library, without importing ``transformers``.

Importing ``transformers`` and building a model through its auto machinery costs
seconds before the first document is tagged (most of ``expel-predict``'s start-up, and
all of what a user waits for to tag one sentence).  A trained model directory holds
everything needed to run a BERT encoder: ``config.json``, ``model.safetensors`` and
``tokenizer.json``.  This module rebuilds the same network (embeddings, ``n`` layers of
self-attention and feed-forward with post-layer-norm, the token classifier), loads the
safetensors weights by their transformers names (strictly: any missing or unexpected
weight, and the caller falls back to transformers); the Rust tokenizer is wrapped by
:mod:`pipeline.tagger.tokenizer`.

Only what the architecture says is accepted: ``model_type`` ``bert`` (also MiniLM, which
is a BERT), absolute position embeddings and the exact GELU.  Anything else (RoBERTa,
DeBERTa, another activation) loads through transformers as before.  Tests check that
logits and encodings equal the transformers ones.

Shapes in comments: B batch, T tokens, D hidden size, H heads, d = D / H.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from pipeline.tagger.ort import SUPPORTED, supported  # noqa: F401  (the architectures both light paths run)


class _Embeddings(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c.get("type_vocab_size", 2), c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c.get("layer_norm_eps", 1e-12))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:              # (B, T) -> (B, T, D)
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        d = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape

        def split(y):                                                    # (B, T, D) -> (B, H, T, d)
            return y.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        a = nn.functional.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                                       split(self.value(x)), attn_mask=mask)
        return a.transpose(1, 2).reshape(b, t, d)


class _Residual(nn.Module):
    """``LayerNorm(dense(h) + x)``: the attention output and the layer output of BERT."""

    def __init__(self, d_in: int, d: int, eps: float):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(d_in, d), nn.LayerNorm(d, eps=eps)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + x)


class _Attention(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        d, eps = c["hidden_size"], c.get("layer_norm_eps", 1e-12)
        setattr(self, "self", _SelfAttention(c))                         # transformers' weight names
        self.output = _Residual(d, d, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(getattr(self, "self")(x, mask), x)


class _Intermediate(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Residual(c["intermediate_size"], c["hidden_size"], c.get("layer_norm_eps", 1e-12))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, mask)
        return self.output(self.intermediate(x), x)


class _Encoder(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class _Bert(nn.Module):
    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.embeddings = _Embeddings(c)
        self.encoder = _Encoder(c)


class BertTagger(nn.Module):
    """``BertForTokenClassification`` for inference: ``model(input_ids=, attention_mask=).logits``.

    Attributes:
        config: ``pad_token_id``, ``num_labels`` and ``id2label``, as the tagger reads them.
    """

    def __init__(self, c: dict[str, Any]):
        super().__init__()
        self.bert = _Bert(c)
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))
        self.raw_config = dict(c)                                        # config.json, as read
        self.config = SimpleNamespace(pad_token_id=c.get("pad_token_id") or 0, num_labels=len(c["id2label"]),
                                      id2label={int(k): v for k, v in c["id2label"].items()})

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        mask = attention_mask[:, None, None, :].bool()                     # (B, 1, 1, T): keys to attend
        x = self.bert.embeddings(input_ids)
        for layer in self.bert.encoder.layer:
            x = layer(x, mask)
        return SimpleNamespace(logits=self.classifier(x))               # (B, T, labels)

    @classmethod
    def from_dir(cls, path: str | Path, config: dict[str, Any]) -> "BertTagger | None":
        """The model of a checked directory, or None when its weights do not fit exactly
        (the caller then loads it through transformers)."""
        from safetensors.torch import load_file

        files = sorted(Path(path).glob("*.safetensors"))
        if len(files) != 1:
            return None
        model = cls(config)
        state = load_file(str(files[0]))
        state = {k: v for k, v in state.items() if not k.startswith("bert.pooler.")}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError:
            return None
        return model.eval()


# The tokenizer lives in pipeline.tagger.tokenizer (no torch import); kept importable here.
from pipeline.tagger.tokenizer import RustTokenizer  # noqa: E402,F401
