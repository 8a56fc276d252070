"""The train stage: gold documents in, a saved model directory out.

``train(cfg, run_dir)`` is a plain function; ``pipeline.cli`` wraps it for Hydra.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any, Sequence

from pipeline.config import TrainConfig
from pipeline.encoding import BIO_LABELS, IGNORE, encode_documents
from pipeline.formats import read_corpus
from pipeline.schema import CorpusError, Document

log = logging.getLogger(__name__)

TINY_BERT = "tiny-bert"


def load_gold(paths: list[str] | str) -> list[Document]:
    """Read and validate gold files (any supported format)."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    docs: list[Document] = []
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(f"gold file {p!r} not found (working directory: {Path.cwd()}); "
                                    "run from the project root or set data.train / data.dev")
        docs.extend(read_corpus(p))
    return docs


def subsample(docs: list[Document], fraction: float, seed: int) -> list[Document]:
    """A seeded share of the documents, keeping the share of positives."""
    if not 0 < fraction <= 1:
        raise ValueError(f"data.fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return docs
    rng = random.Random(seed)
    pos = [d for d in docs if d.events]
    neg = [d for d in docs if not d.events]
    keep = rng.sample(pos, max(1, round(len(pos) * fraction))) + rng.sample(neg, round(len(neg) * fraction))
    return sorted(keep, key=lambda d: d.id)


def build_tiny_bert(seed: int):
    """A tiny randomly initialised BERT (2 layers, 32 wide) with the packaged tokenizer; for tests."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from pipeline.encoding import LABEL2ID
    from pipeline.modeling import PACKAGED_MINILM, load_tokenizer, resolve_encoder

    torch.manual_seed(seed)
    tok = load_tokenizer(resolve_encoder(PACKAGED_MINILM))
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                     num_labels=len(BIO_LABELS), id2label=dict(enumerate(BIO_LABELS)), label2id=LABEL2ID)
    return BertForTokenClassification(cfg), tok


def make_model(encoder: str, seed: int):
    """(model, tokenizer) for the configured encoder."""
    if encoder == TINY_BERT:
        return build_tiny_bert(seed)
    from pipeline.modeling import build_model

    return build_model(encoder, seed=seed)


def _windows_dataset(docs, tokenizer, cfg: TrainConfig):
    from datasets import Dataset

    windows, stats = encode_documents(docs, tokenizer, max_length=cfg.data.max_length,
                                      stride=cfg.data.stride, with_labels=True)
    rows = [{"input_ids": w.input_ids, "labels": w.labels} for w in windows]
    return Dataset.from_list(rows), stats


def _compute_metrics(eval_pred) -> dict[str, float]:
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


def _resolved(cfg: TrainConfig) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)  # type: ignore[return-value]


def _fingerprint(cfg: TrainConfig) -> str:
    """What must match for a checkpoint to be resumed: the whole config but the paths out."""
    conf = {k: v for k, v in _resolved(cfg).items() if k != "output_dir"}
    return hashlib.sha256(json.dumps(conf, sort_keys=True).encode()).hexdigest()[:16]


def _last_checkpoint(ckpt_dir: Path) -> Path | None:
    found = [p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def _resume_point(ckpt_dir: Path, cfg: TrainConfig) -> str | None:
    """The checkpoint to resume from, or None; a checkpoint of another config is set aside."""
    stamp = ckpt_dir / "fingerprint.txt"
    last = _last_checkpoint(ckpt_dir)
    if last and stamp.is_file() and stamp.read_text().strip() == _fingerprint(cfg):
        return str(last)
    if ckpt_dir.exists():
        log.warning("%s holds checkpoints of another configuration; starting afresh", ckpt_dir)
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(_fingerprint(cfg))
    return None


def train(cfg: TrainConfig, run_dir: str | Path, callbacks: Sequence = ()) -> dict[str, Any]:
    """Fine-tune the tagger on the gold training documents, pick the best epoch on dev.

    Args:
        cfg: the resolved train config.
        run_dir: this run's own directory (checkpoints, resolved config, logs).
        callbacks: extra ``transformers.TrainerCallback`` objects (logging, tests).

    Returns:
        ``{"model_dir", "dev_scores", "train_docs", "dev_docs", "misaligned_spans", "resumed_from"}``.

    Raises:
        FileNotFoundError: a gold file is missing.
        CorpusError: a gold file breaks the contract (file, line and id named).
    """
    import torch
    from transformers import DataCollatorForTokenClassification, EarlyStoppingCallback, TrainingArguments

    from pipeline.evaluate import predict_and_score
    from pipeline.modeling import save_model
    from pipeline.precision import measure_tagger, write_check
    from pipeline.predictor import Tagger, TaggerSettings

    TaggerSettings(linking=cfg.linking, decoding=cfg.decoding, reason=cfg.reason)  # bad value: fail now
    WeightedTrainer = _weighted_trainer_class()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # Checkpoints live beside the output model, so that the same command finds them
    # again after an interrupt even though Hydra gives every run a new directory.
    ckpt_dir = Path(f"{cfg.output_dir}.checkpoints") if cfg.output_dir else run_dir / "checkpoints"
    resolved = _resolved(cfg)
    train_docs = subsample(load_gold(cfg.data.train), cfg.data.fraction, cfg.trainer.seed)
    dev_docs = load_gold(cfg.data.dev)
    overlap = {d.id for d in train_docs} & {d.id for d in dev_docs}
    if overlap:
        raise CorpusError(f"{len(overlap)} document(s) are in both train and dev, e.g. "
                          f"{sorted(overlap)[:3]}; remove them from one split")
    if cfg.trainer.threads > 0:
        torch.set_num_threads(cfg.trainer.threads)
    model, tokenizer = make_model(cfg.model.encoder, cfg.trainer.seed)
    # Nine in ten documents have no event: repeating the positives keeps the tagger from
    # settling on all-O for many epochs.
    repeated = train_docs + [d for d in train_docs if d.events] * (cfg.data.positive_repeat - 1)
    train_ds, stats = _windows_dataset(repeated, tokenizer, cfg)
    dev_ds, _ = _windows_dataset(dev_docs, tokenizer, cfg)
    log.info("train: %d documents -> %d windows; dev: %d documents -> %d windows",
             len(train_docs), len(train_ds), len(dev_docs), len(dev_ds))

    t = cfg.trainer
    args = TrainingArguments(
        output_dir=str(ckpt_dir), num_train_epochs=t.epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate, weight_decay=t.weight_decay, warmup_ratio=t.warmup_ratio,
        eval_strategy="epoch", save_strategy="epoch", save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="f1", greater_is_better=True,
        seed=t.seed, data_seed=t.seed, report_to=[], logging_strategy="epoch",
        save_safetensors=True, dataloader_num_workers=0, group_by_length=True,
    )
    trainer = WeightedTrainer(
        o_weight=t.o_weight, model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=_compute_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience), *callbacks],
    )
    resume = _resume_point(ckpt_dir, cfg)
    if resume:
        log.info("resuming from %s (same config, interrupted earlier)", resume)
    try:
        trainer.train(resume_from_checkpoint=resume)
    except KeyboardInterrupt:
        last = _last_checkpoint(ckpt_dir)
        raise KeyboardInterrupt(
            f"training interrupted; {'the last finished epoch is saved in ' + str(last) if last else 'no epoch had finished'}. "
            "Run the same command again to resume.") from None
    model = trainer.model.eval()

    settings = TaggerSettings(max_length=cfg.data.max_length, stride=cfg.data.stride,
                              batch_size=t.eval_batch_size, linking=cfg.linking,
                              decoding=cfg.decoding, reason=cfg.reason)
    dev_scores, _ = predict_and_score(Tagger(model, tokenizer, settings), dev_docs)
    # Dev F1 in bfloat16 too: expel-predict precision=auto uses it only if no F1 drops > 1 point.
    precision_check = measure_tagger(Tagger(model, tokenizer, settings), dev_docs, dev_scores)
    out_dir = Path(cfg.output_dir) if cfg.output_dir else run_dir / "model"
    info = {"config": resolved, "dev_scores": dev_scores, "train_docs": len(train_docs),
            "dev_docs": len(dev_docs), "window": {"max_length": cfg.data.max_length,
                                                  "stride": cfg.data.stride},
            "linking": cfg.linking, "decoding": cfg.decoding, "reason": cfg.reason}
    info["doc_filter"] = _train_doc_filter(cfg, train_docs, dev_docs, out_dir)
    save_model(model, tokenizer, out_dir, info)
    write_check(out_dir, precision_check)
    write_model_card(out_dir, info)
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # the model is saved; checkpoints are ~200 MB
    (run_dir / "dev_scores.json").write_text(json.dumps(dev_scores, indent=2))
    return {"model_dir": str(out_dir), "dev_scores": dev_scores, "train_docs": len(train_docs),
            "dev_docs": len(dev_docs), "misaligned_spans": len(stats.misaligned), "resumed_from": resume,
            "doc_filter": info["doc_filter"]}


def _train_doc_filter(cfg: TrainConfig, train_docs, dev_docs, out_dir: Path) -> dict[str, Any]:
    """Train the cascade's document filter beside the model; report its recall on dev."""
    from pipeline.docfilter import DocFilter, filter_recall, train_filter

    background = cfg.data.filter_background
    if background and not Path(background).is_file():
        log.warning("data.filter_background %r not found: the document filter is trained on the "
                    "gold documents only and will pass more ordinary news", background)
        background = None
    res = train_filter(train_docs, out_dir, background=background, seed=cfg.trainer.seed)
    dev = filter_recall(DocFilter.load(res["path"]), dev_docs)
    log.info("document filter: dev recall %.3f on %d event documents, %.1f%% of dev negatives pass",
             dev["recall"], dev["positives"], 100 * dev["negative_pass_rate"])
    return {"threshold": res["threshold"], "background": res.get("background", 0),
            "dev_recall": dev["recall"], "dev_missed": dev["missed"],
            "dev_negative_pass_rate": dev["negative_pass_rate"]}


def write_model_card(out_dir: Path, info: dict[str, Any]) -> None:
    """A README.md model card with the data, the encoder and the dev scores."""
    s = info["dev_scores"]

    def row(name: str, m: dict) -> str:
        return f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |"

    lines = [
        "---", "library_name: transformers", "pipeline_tag: token-classification", "tags: [expulsion-events]",
        "---", "", "# Diplomatic expulsion event tagger", "",
        f"Encoder: `{info['config']['model']['encoder']}`; trained on {info['train_docs']} gold documents, "
        f"scored on {info['dev_docs']} dev documents (ANNOTATION.md scoring).", "",
        "| metric | precision | recall | F1 |", "|---|---|---|---|",
        row("Trigger (Tri-C)", s["trigger"]), row("Argument (Arg-C)", s["argument"]),
        row("Argument attached (Arg-C+)", s["argument_attached"]),
        *(row(f"Arg-C {r}", m) for r, m in s["per_role"].items()), "",
        "Labels: " + ", ".join(BIO_LABELS), "",
        "Training text: Wikipedia Current Events Portal, CC BY-SA 4.0, by Wikipedia contributors.",
    ]
    (out_dir / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
