"""The training loop: gold documents and a fresh model in, the fine-tuned model out.

A plain PyTorch loop, small enough to read in one sitting:

- **each epoch draws its own training set**: every document with events
  (``data.positive_repeat`` times; with augmentation on, the repeats are fresh
  label-preserving variants, :mod:`pipeline.training.augment`) and a fresh seeded sample of
  ``data.negatives_per_epoch`` documents without events (all of them when 0);
- windows of similar length are batched together (dynamic padding);
- cross-entropy with the O tag down-weighted (``trainer.o_weight``), AdamW, linear
  warm-up then linear decay, gradient clipping at 1.0;
- after each epoch an optional ``score(model)`` callback scores held-out documents; with
  ``trainer.early_stopping_patience > 0`` the best epoch by Arg-C F1 is kept;
- a checkpoint after each epoch beside the output model, so the same command resumes
  after an interrupt (the epoch's data and dropout are seeded by epoch, so a resumed run
  trains on what the uninterrupted one would have).

Example:
    >>> result = fit(model, tokenizer, train_docs, data_cfg, trainer_cfg, ckpt_dir, stamp)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from pipeline.tagger.encoding import IGNORE, EncodeStats, Window, encode_document, length_batches
from pipeline.schema import Document

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
Scorer = Callable[[Any], dict[str, Any]]     # model -> scores as pipeline.evaluation.scoring returns


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (in eval mode) and how training went."""

    model: Any
    history: list[dict[str, Any]] = field(default_factory=list)  # one entry per epoch
    best_epoch: int | None = None
    encode_stats: EncodeStats = field(default_factory=EncodeStats)
    resumed_from: str | None = None
    seconds: float = 0.0


# ------------------------------------------------------------------------------ the data


def epoch_documents(docs: Sequence[Document], epoch: int, *, seed: int, positive_repeat: int,
                    negatives_per_epoch: int, augmenter=None) -> list[Document]:
    """The documents one epoch trains on (seeded by ``seed`` and ``epoch``).

    Positives appear ``positive_repeat`` times; with an ``augmenter``, every repeat after
    the first is an augmented variant (the original where none can be made).  Negatives
    are a fresh sample of ``negatives_per_epoch`` (all when 0 or more than there are).
    """
    rng = random.Random(f"{seed}:{epoch}")
    pos = [d for d in docs if d.events]
    neg = [d for d in docs if not d.events]
    if 0 < negatives_per_epoch < len(neg):
        neg = rng.sample(neg, negatives_per_epoch)
    out = list(pos)
    for _ in range(positive_repeat - 1):
        out.extend((augmenter(d, rng) or d) if augmenter else d for d in pos)
    return out + neg


def _window_cache(originals: Sequence[Document], tokenizer, data, stats: EncodeStats):
    """``encode(docs) -> windows`` that encodes each original document once (and reports
    its misaligned spans once); augmented variants are encoded as they come."""
    known = {id(d) for d in originals}
    cache: dict[int, list[Window]] = {}

    def encode(docs: Sequence[Document]) -> list[Window]:
        out: list[Window] = []
        for d in docs:
            if id(d) not in known:
                out.extend(encode_document(d, tokenizer, max_length=data.max_length, stride=data.stride,
                                           with_labels=True))
                continue
            if id(d) not in cache:
                cache[id(d)] = encode_document(d, tokenizer, max_length=data.max_length, stride=data.stride,
                                               with_labels=True, stats=stats)
            out.extend(cache[id(d)])
        return out

    return encode


def _collate(windows: Sequence[Window], idx: list[int], pad_id: int):
    import torch

    longest = max(len(windows[i].input_ids) for i in idx)
    ids = torch.full((len(idx), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), longest), dtype=torch.long)
    labels = torch.full((len(idx), longest), IGNORE, dtype=torch.long)
    for row, i in enumerate(idx):
        w = windows[i]
        n = len(w.input_ids)
        ids[row, :n] = torch.tensor(w.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(w.labels)
    return ids, mask, labels


# ------------------------------------------------------------------------------ checkpoints


def fingerprint(resolved_config: dict[str, Any]) -> str:
    """What must match for a checkpoint to be resumed: the whole config but the paths out
    (and where cross-validation estimates are looked up, which changes no weight)."""
    conf = {k: v for k, v in resolved_config.items() if k not in ("output_dir", "crossval_estimates")}
    return hashlib.sha256(json.dumps(conf, sort_keys=True).encode()).hexdigest()[:16]


def _save_checkpoint(ckpt_dir: Path, model, optimizer, scheduler, state: dict[str, Any],
                     best_weights: dict | None) -> Path:
    """Weights (safetensors), optimizer and schedule state (tensors only), and the loop's
    state; written to a temporary folder and renamed, so a kill leaves the last one whole."""
    import torch
    from safetensors.torch import save_file

    tmp = ckpt_dir / "checkpoint.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
    if best_weights is not None:
        save_file(best_weights, str(tmp / "best.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
               tmp / "optimizer.pt")
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1))
    final = ckpt_dir / "checkpoint"
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def _load_checkpoint(ckpt_dir: Path, stamp: str) -> dict[str, Any] | None:
    """The checkpoint's loop state when it belongs to this config; a checkpoint of another
    config is removed."""
    path = ckpt_dir / "checkpoint" / STATE_FILE
    if not path.is_file():
        if ckpt_dir.exists():
            shutil.rmtree(ckpt_dir)
        return None
    try:
        state = json.loads(path.read_text())
    except (ValueError, OSError):
        state = {}
    if state.get("stamp") != stamp:
        log.warning("%s holds a checkpoint of another configuration; starting afresh", ckpt_dir)
        shutil.rmtree(ckpt_dir)
        return None
    return state


def _restore(ckpt_dir: Path, model, optimizer, scheduler) -> dict | None:
    """Load weights and optimizer state (``weights_only``: tensors and plain values, never
    arbitrary pickled objects); returns the best weights saved so far, if any."""
    import torch
    from safetensors.torch import load_file

    ck = ckpt_dir / "checkpoint"
    model.load_state_dict(load_file(str(ck / "model.safetensors")))
    opt = torch.load(ck / "optimizer.pt", weights_only=True)
    optimizer.load_state_dict(opt["optimizer"])
    scheduler.load_state_dict(opt["scheduler"])
    best = ck / "best.safetensors"
    return load_file(str(best)) if best.is_file() else None


# ------------------------------------------------------------------------------ the loop


def _optimizer(model, trainer):
    import torch

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or name.endswith(".bias") else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": trainer.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=trainer.learning_rate)


def _schedule(optimizer, total_steps: int, warmup_ratio: float):
    import torch

    warmup = max(1, math.ceil(total_steps * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def fit(model, tokenizer, train_docs: Sequence[Document], data, trainer, ckpt_dir: Path | None,
        stamp: str, *, score: Scorer | None = None, augmenter=None,
        on_checkpoint: Callable[[Path], None] | None = None, show_progress: bool = True) -> FitResult:
    """Fine-tune ``model`` on ``train_docs``.

    Args:
        model, tokenizer: a token-classification model with the schema's labels.
        train_docs: gold documents (plus silver or augmented ones the caller adds).
        data: the ``data`` config (windows, positive repeats, negatives per epoch).
        trainer: the ``trainer`` config (epochs, batch size, learning rate, O weight, ...).
        ckpt_dir: where the epoch checkpoint goes (resumed from when ``stamp`` matches);
            None for no checkpoints.
        stamp: the run's config fingerprint (:func:`fingerprint`).
        score: ``score(model) -> scores`` run after each epoch (held-out documents); its
            Arg-C F1 picks the best epoch when ``trainer.early_stopping_patience > 0``.
        augmenter: ``augmenter(doc, rng) -> Document | None`` for the positive repeats.
        on_checkpoint: called with the checkpoint folder after each save (tests).
        show_progress: one progress bar over steps, and a line per epoch.

    Raises:
        KeyboardInterrupt: on Ctrl-C, saying where the last finished epoch is saved.
    """
    import torch
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    t = trainer
    epochs = int(math.ceil(t.epochs))
    pad_id = model.config.pad_token_id or 0
    plan = lambda e: epoch_documents(train_docs, e, seed=t.seed, positive_repeat=data.positive_repeat,  # noqa: E731
                                     negatives_per_epoch=data.negatives_per_epoch, augmenter=augmenter)
    stats = EncodeStats()
    encode = _window_cache(train_docs, tokenizer, data, stats)
    first = encode(plan(0))
    if stats.misaligned:
        log.warning("%d span(s) do not start or end on a token boundary and are labelled on the "
                    "words they touch, e.g. %s", len(stats.misaligned), stats.misaligned[:3])
    steps_per_epoch = math.ceil(len(first) / t.batch_size)
    total = steps_per_epoch * epochs if t.max_steps <= 0 else min(t.max_steps, steps_per_epoch * epochs)
    optimizer = _optimizer(model, t)
    scheduler = _schedule(optimizer, total, t.warmup_ratio)
    weight = torch.ones(model.config.num_labels)
    weight[0] = t.o_weight                                  # BIO_LABELS[0] == "O"

    state = {"stamp": stamp, "epoch": 0, "step": 0, "history": [], "best": None, "best_epoch": None}
    best_weights, resumed = None, None
    if ckpt_dir is not None:
        saved = _load_checkpoint(ckpt_dir, stamp)
        if saved:
            best_weights = _restore(ckpt_dir, model, optimizer, scheduler)
            state, resumed = saved, str(ckpt_dir / "checkpoint")
            log.info("resuming after epoch %d from %s (same config, interrupted earlier)", state["epoch"], resumed)
        ckpt_dir.mkdir(parents=True, exist_ok=True)

    # disable=None: no bar where the output is not a terminal (CI logs get the epoch lines only).
    bar = tqdm(total=total, initial=state["step"], unit="step", desc="expel-train", dynamic_ncols=True,
               disable=None if show_progress else True, leave=False)
    patience = t.early_stopping_patience if score is not None else 0
    try:
        for epoch in range(state["epoch"], epochs):
            if state["step"] >= total or (patience and _stale(state, patience)):
                break
            torch.manual_seed(t.seed * 1000 + epoch)                # dropout, seeded per epoch
            windows = first if epoch == 0 else encode(plan(epoch))
            losses = _train_epoch(model, windows, optimizer, scheduler, weight, pad_id, t, state,
                                  total, random.Random(f"{t.seed}:{epoch}:batches"), bar)
            entry: dict[str, Any] = {"epoch": epoch + 1, "loss": round(sum(losses) / max(1, len(losses)), 4),
                                     "windows": len(windows), "seconds": round(time.perf_counter() - t0, 1)}
            if score is not None:
                model.eval()
                entry["scores"] = _brief(score(model))
                if state["best"] is None or entry["scores"]["argument"] > state["best"]:
                    state["best"], state["best_epoch"] = entry["scores"]["argument"], epoch + 1
                    if patience:
                        best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state["history"].append(entry)
            state["epoch"] = epoch + 1
            if show_progress:
                tqdm.write(_epoch_line(entry))
            if ckpt_dir is not None:
                path = _save_checkpoint(ckpt_dir, model, optimizer, scheduler, state, best_weights)
                if on_checkpoint:
                    on_checkpoint(path)
    except KeyboardInterrupt:
        bar.close()
        where = (f"the last finished epoch ({state['epoch']}) is saved in {ckpt_dir / 'checkpoint'}"
                 if ckpt_dir is not None and (ckpt_dir / "checkpoint").is_dir() else "no epoch had finished")
        raise KeyboardInterrupt(f"training interrupted; {where}. Run the same command again to resume.") from None
    bar.close()
    if patience and best_weights is not None:
        model.load_state_dict(best_weights)
        log.info("kept epoch %s (best held-out Arg-C F1 %.3f)", state["best_epoch"], state["best"])
    return FitResult(model.eval(), state["history"], state["best_epoch"] if patience else None,
                     stats, resumed, time.perf_counter() - t0)


def _stale(state: dict[str, Any], patience: int) -> bool:
    return state["best_epoch"] is not None and state["epoch"] - state["best_epoch"] >= patience


def _train_epoch(model, windows, optimizer, scheduler, weight, pad_id, t, state, total, rng, bar) -> list[float]:
    import torch

    model.train()
    losses = []
    for idx in length_batches(windows, t.batch_size, rng):
        if state["step"] >= total:
            break
        ids, mask, labels = _collate(windows, idx, pad_id)
        logits = model(input_ids=ids, attention_mask=mask).logits        # (batch, tokens, labels)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                 weight=weight, ignore_index=IGNORE)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        state["step"] += 1
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    return losses


def _brief(scores: dict[str, Any]) -> dict[str, float]:
    """Tri-C, Arg-C and Arg-C+ F1 of a score dict (the per-epoch table)."""
    return {k: round(scores[k]["f1"], 4) for k in ("trigger", "argument", "argument_attached")}


def epoch_table(history: Sequence[dict[str, Any]]) -> str:
    """The epochs of a run as a short text table (loss, and held-out F1 when scored)."""
    scored = any("scores" in e for e in history)
    head = "epoch   loss    seconds" + ("   Tri-C   Arg-C   Arg-C+" if scored else "")
    rows = [head]
    for e in history:
        row = f"{e['epoch']:>5}  {e['loss']:.4f}  {e['seconds']:>7.0f}"
        if "scores" in e:
            s = e["scores"]
            row += f"   {s['trigger']:.3f}   {s['argument']:.3f}   {s['argument_attached']:.3f}"
        rows.append(row)
    return "\n".join(rows)


def _epoch_line(entry: dict[str, Any]) -> str:
    s = entry.get("scores")
    figures = (f" | held-out Tri-C {s['trigger']:.3f}  Arg-C {s['argument']:.3f}  Arg-C+ "
               f"{s['argument_attached']:.3f}") if s else ""
    return f"epoch {entry['epoch']:>2}  loss {entry['loss']:.4f}  ({entry['seconds']:.0f} s){figures}"
