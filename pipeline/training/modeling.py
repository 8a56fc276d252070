"""Building and saving the token-classification model (loading it back, safely, is
:mod:`pipeline.tagger.loading`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.errors import ModelDirError
from pipeline.tagger.encoding import BIO_LABELS, LABEL2ID
from pipeline.tagger.loading import PACKAGED_MINILM, SCHEMA_FILE, check_model_dir, load_tokenizer, resolve_encoder

# A tiny randomly initialised BERT built in-process (tests and smoke runs).
TINY_BERT = "tiny-bert"


def make_model(encoder: str, seed: int):
    """``(model, tokenizer)`` for ``model.encoder``: ``tiny-bert`` or any encoder :func:`build_model` takes."""
    if encoder == TINY_BERT:
        return build_tiny_bert(seed)
    return build_model(encoder, seed=seed)


def build_tiny_bert(seed: int):
    """A tiny randomly initialised BERT (2 layers, 32 wide) with the packaged tokenizer; for tests."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    torch.manual_seed(seed)
    tok = load_tokenizer(resolve_encoder(PACKAGED_MINILM))
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                     num_labels=len(BIO_LABELS), id2label=dict(enumerate(BIO_LABELS)), label2id=LABEL2ID)
    return BertForTokenClassification(cfg), tok


def build_model(encoder: str, *, seed: int | None = None):
    """A fresh token-classification head on ``encoder`` with the schema's labels.

    Returns:
        ``(model, tokenizer)``.

    Raises:
        ModelDirError: an unsafe or broken local directory, or a name that cannot be
            loaded (named in the message).
    """
    import logging

    from transformers import AutoModelForTokenClassification, set_seed
    from transformers.utils import logging as hf_logging

    if not logging.getLogger("pipeline").isEnabledFor(logging.DEBUG):
        hf_logging.set_verbosity_error()   # "Some weights ... newly initialized": expected for a new head
    if seed is not None:
        set_seed(seed)
    path = resolve_encoder(encoder)
    if Path(path).is_dir():
        check_model_dir(path)
    try:
        tokenizer = load_tokenizer(path)
        model = AutoModelForTokenClassification.from_pretrained(
            path, num_labels=len(BIO_LABELS), id2label=dict(enumerate(BIO_LABELS)), label2id=LABEL2ID,
            trust_remote_code=False, use_safetensors=True, ignore_mismatched_sizes=True)
    except OSError as e:
        raise ModelDirError(
            f"cannot load encoder {encoder!r}: it is not a local directory and could not be fetched "
            f"from the Hugging Face hub ({str(e).splitlines()[0]}). Use model.encoder={PACKAGED_MINILM} "
            "(offline, packaged), a local model directory, or a hub name with network access.") from None
    return model, tokenizer


def save_model(model, tokenizer, out_dir: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Save weights (safetensors), tokenizer, label schema and ``info`` (resolved config, scores)."""
    p = Path(out_dir)
    p.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(p, safe_serialization=True)
    tokenizer.save_pretrained(p)
    record = {"labels": list(BIO_LABELS), **info}
    (p / SCHEMA_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    return p
