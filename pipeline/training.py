"""The training loop: gold documents and a fresh model in, the fine-tuned model out.

:func:`fit` runs a ``transformers.Trainer`` with the O tag down-weighted in the loss,
the positives repeated, early stopping on dev seqeval F1 and checkpoints beside the
output model, so that the same command resumes after an interrupt.

Example:
    >>> model = fit(model, tokenizer, train_docs, dev_docs, cfg, ckpt_dir)   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pipeline.encoding import BIO_LABELS, IGNORE, EncodeStats, encode_documents
from pipeline.schema import Document

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (in eval mode) and what it saw."""

    model: Any
    train_windows: int
    dev_windows: int
    encode_stats: EncodeStats
    resumed_from: str | None


def windows_dataset(docs: Sequence[Document], tokenizer, max_length: int, stride: int):
    """A ``datasets.Dataset`` of labelled windows, and the encoding report."""
    from datasets import Dataset

    windows, stats = encode_documents(docs, tokenizer, max_length=max_length, stride=stride,
                                      with_labels=True)
    rows = [{"input_ids": w.input_ids, "labels": w.labels} for w in windows]
    return Dataset.from_list(rows), stats


def seqeval_f1(eval_pred) -> dict[str, float]:
    """seqeval strict micro F1 over words (the early-stopping metric)."""
    import numpy as np
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    logits, labels = eval_pred
    pred = np.argmax(logits, axis=-1)
    y_true, y_pred = [], []
    for p_row, l_row in zip(pred, labels):
        keep = l_row != IGNORE
        y_true.append([BIO_LABELS[i] for i in l_row[keep]])
        y_pred.append([BIO_LABELS[i] for i in p_row[keep]])
    return {"f1": f1_score(y_true, y_pred, mode="strict", scheme=IOB2, zero_division=0)}


def _weighted_trainer_class():
    from transformers import Trainer

    class WeightedTrainer(Trainer):
        """Cross-entropy with a smaller weight on the O tag."""

        def __init__(self, *args, o_weight: float = 1.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.o_weight = o_weight

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            import torch

            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits                       # (batch, tokens, labels)
            weight = torch.ones(logits.shape[-1], device=logits.device)
            weight[0] = self.o_weight                     # BIO_LABELS[0] == "O"
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                weight=weight, ignore_index=IGNORE)
            return (loss, outputs) if return_outputs else loss

    return WeightedTrainer


# ---------------------------------------------------------------------------- checkpoints


def fingerprint(resolved_config: dict[str, Any]) -> str:
    """What must match for a checkpoint to be resumed: the whole config but the paths out."""
    conf = {k: v for k, v in resolved_config.items() if k != "output_dir"}
    return hashlib.sha256(json.dumps(conf, sort_keys=True).encode()).hexdigest()[:16]


def last_checkpoint(ckpt_dir: Path) -> Path | None:
    found = [p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def resume_point(ckpt_dir: Path, stamp_value: str) -> str | None:
    """The checkpoint to resume from, or None; checkpoints of another config are set aside."""
    stamp = ckpt_dir / "fingerprint.txt"
    last = last_checkpoint(ckpt_dir)
    if last and stamp.is_file() and stamp.read_text().strip() == stamp_value:
        return str(last)
    if ckpt_dir.exists():
        log.warning("%s holds checkpoints of another configuration; starting afresh", ckpt_dir)
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(stamp_value)
    return None


# ------------------------------------------------------------------------------ the loop


def fit(model, tokenizer, train_docs: Sequence[Document], dev_docs: Sequence[Document], data, trainer,
        ckpt_dir: Path, stamp: str, callbacks: Sequence = ()) -> FitResult:
    """Fine-tune ``model`` on ``train_docs``, keeping the best epoch on ``dev_docs``.

    Args:
        model, tokenizer: a token-classification model with the schema's labels.
        train_docs, dev_docs: gold documents.
        data: the ``data`` config (windows, positive repeats).
        trainer: the ``trainer`` config (epochs, batch size, learning rate, O weight, ...).
        ckpt_dir: where epoch checkpoints go (resumed from when ``stamp`` matches).
        stamp: the run's config fingerprint (:func:`fingerprint`).
        callbacks: extra ``transformers.TrainerCallback`` objects.

    Raises:
        KeyboardInterrupt: on Ctrl-C, saying where the last finished epoch is saved.
    """
    from transformers import DataCollatorForTokenClassification, EarlyStoppingCallback, TrainingArguments

    # Nine in ten documents have no event: repeating the positives keeps the tagger from
    # settling on all-O for many epochs.
    repeated = list(train_docs) + [d for d in train_docs if d.events] * (data.positive_repeat - 1)
    train_ds, stats = windows_dataset(repeated, tokenizer, data.max_length, data.stride)
    dev_ds, _ = windows_dataset(dev_docs, tokenizer, data.max_length, data.stride)
    log.info("train: %d documents -> %d windows; dev: %d documents -> %d windows",
             len(train_docs), len(train_ds), len(dev_docs), len(dev_ds))
    t = trainer
    args = TrainingArguments(
        output_dir=str(ckpt_dir), num_train_epochs=t.epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate, weight_decay=t.weight_decay, warmup_ratio=t.warmup_ratio,
        eval_strategy="epoch", save_strategy="epoch", save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="f1", greater_is_better=True,
        seed=t.seed, data_seed=t.seed, report_to=[], logging_strategy="epoch",
        save_safetensors=True, dataloader_num_workers=0, group_by_length=True,
    )
    hf_trainer = _weighted_trainer_class()(
        o_weight=t.o_weight, model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
        data_collator=DataCollatorForTokenClassification(tokenizer), compute_metrics=seqeval_f1,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience), *callbacks],
    )
    resume = resume_point(ckpt_dir, stamp)
    if resume:
        log.info("resuming from %s (same config, interrupted earlier)", resume)
    try:
        hf_trainer.train(resume_from_checkpoint=resume)
    except KeyboardInterrupt:
        last = last_checkpoint(ckpt_dir)
        where = f"the last finished epoch is saved in {last}" if last else "no epoch had finished"
        raise KeyboardInterrupt(f"training interrupted; {where}. Run the same command again to resume.") from None
    return FitResult(hf_trainer.model.eval(), len(train_ds), len(dev_ds), stats, resume)
