"""The train stage: gold documents in, a saved model directory out.

``train(cfg, run_dir)`` is a plain function; ``pipeline.cli`` wraps it for Hydra.  The
work is done by library modules: :mod:`pipeline.training.corpus` reads the split (held-out dev, a
cross-validation fold, or nothing held out), :mod:`pipeline.training.loop` fine-tunes,
:mod:`pipeline.evaluation.runs` scores and measures the faster precisions,
:mod:`pipeline.batch.docfilter` trains the document filter.

What the run scored goes into its directory: ``scores.json`` (with ``in_sample``),
``epochs.json`` (loss and held-out figures per epoch), ``split.json`` and, when something
was held out, ``heldout_predictions.jsonl`` (what a cross-validation report pools).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any, Callable

from pipeline.config import TrainConfig

log = logging.getLogger(__name__)

PRECISION_SAMPLE = 400   # documents the precision check scores on when nothing is held out


def train(cfg: TrainConfig, run_dir: str | Path,
          on_checkpoint: Callable[[Path], None] | None = None) -> dict[str, Any]:
    """Fine-tune the tagger on gold documents; score what was held out (or, with nothing
    held out, the training documents themselves, in-sample).

    Args:
        cfg: the resolved train config.
        run_dir: this run's own directory (scores, epochs, predictions, resolved config).
        on_checkpoint: called with the checkpoint folder after each epoch (tests).

    Returns:
        ``{"model_dir", "scores", "in_sample", "scored_on", "split", "train_docs",
        "scored_docs", "epochs", "misaligned_spans", "resumed_from", "doc_filter",
        "seconds"}``; ``model_dir`` and ``doc_filter`` are None when not saved / trained.

    Raises:
        MissingFileError: a gold file is missing.
        CorpusError: a gold file breaks the contract (file, line and id named), or a
            document is in both splits.
    """
    import torch

    from pipeline.training.corpus import load_split
    from pipeline.evaluation.runs import predict_and_score
    from pipeline.formats.jsonl import write_events_jsonl
    from pipeline.training.modeling import make_model
    from pipeline.tagger import Tagger, resolve_settings
    from pipeline.training.loop import fingerprint, fit

    settings = resolve_settings(cfg.tagger, None)        # a bad value fails before training
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = _resolved(cfg)
    split = load_split(cfg.data, cfg.trainer.seed)
    if cfg.trainer.threads > 0:
        torch.set_num_threads(cfg.trainer.threads)
    model, tokenizer = make_model(cfg.model.encoder, cfg.trainer.seed)

    def score(m) -> dict[str, Any]:
        return predict_and_score(Tagger(m, tokenizer, settings), split.heldout)[0]

    wants_scores = split.heldout is not None and (cfg.trainer.score_each_epoch
                                                  or cfg.trainer.early_stopping_patience > 0)
    # Checkpoints live beside the output model, so that the same command finds them
    # again after an interrupt even though Hydra gives every run a new directory.
    ckpt_dir = Path(f"{cfg.output_dir}.checkpoints") if cfg.output_dir else run_dir / "checkpoints"
    fitted = fit(model, tokenizer, split.train + split.synthetic, cfg.data, cfg.trainer, ckpt_dir, fingerprint(resolved),
                 score=score if wants_scores else None, augmenter=_augmenter(cfg, split.train + split.synthetic),
                 on_checkpoint=on_checkpoint)

    tagger = Tagger(fitted.model, tokenizer, settings)
    # The trigger verifier learns from the same documents (pipeline/events/verifier.py; about 2 s)
    # and is saved with every model, so tagger.verifier=0.4 can turn it on at prediction;
    # it acts on the held-out scores below only when this run's tagger.verifier is above 0.
    from pipeline.events.verifier import fit_verifier

    tagger.verifier = fit_verifier(split.train + split.synthetic)
    in_sample = split.heldout is None
    scored = split.train if in_sample else split.heldout
    scores, pred = predict_and_score(tagger, scored)
    scored_on = ("the training documents (in-sample)" if in_sample else
                 f"held-out {'dev' if split.kind == 'dev' else 'fold ' + str(cfg.data.fold)}")
    (run_dir / "scores.json").write_text(json.dumps(scores | {"in_sample": in_sample}, indent=2))
    (run_dir / "epochs.json").write_text(json.dumps(fitted.history, indent=1))
    (run_dir / "split.json").write_text(json.dumps(split.describe(), indent=1))
    if not in_sample:
        write_events_jsonl(pred, str(run_dir / "heldout_predictions.jsonl"))

    model_dir, doc_filter, estimate = None, None, None
    if cfg.save_model:
        out_dir = Path(cfg.output_dir) if cfg.output_dir else run_dir / "model"
        info = {"config": resolved, "dev_scores": scores, "in_sample": in_sample, "scored_on": scored_on,
                "train_docs": len(split.train), "dev_docs": len(scored),
                "train_ids": sorted(d.id for d in split.train), "best_epoch": fitted.best_epoch,
                "window": {"max_length": cfg.data.max_length, "stride": cfg.data.stride},
                "linking": settings.linking, "decoding": settings.decoding, "reason": settings.reason}
        if cfg.doc_filter:
            info["doc_filter"] = doc_filter = _train_doc_filter(cfg, split.train, split.heldout, out_dir)
        _save(tagger, scores, scored, in_sample, info, out_dir, cfg)
        model_dir, estimate = str(out_dir), info["estimate"]
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # the run is finished; checkpoints are ~250 MB
    return {"model_dir": model_dir, "scores": scores, "in_sample": in_sample, "scored_on": scored_on,
            "split": split.describe(), "train_docs": len(split.train), "scored_docs": len(scored),
            "epochs": fitted.history, "best_epoch": fitted.best_epoch,
            "misaligned_spans": len(fitted.encode_stats.misaligned), "resumed_from": fitted.resumed_from,
            "doc_filter": doc_filter, "seconds": round(fitted.seconds, 1),
            "estimate": estimate}


def _augmenter(cfg: TrainConfig, pool):
    if not cfg.augment.enabled:
        return None
    from pipeline.training.augment import Augmenter

    return Augmenter(cfg.augment, pool=list(pool))


def _save(tagger, scores, scored, in_sample: bool, info: dict[str, Any], out_dir: Path, cfg: TrainConfig) -> None:
    """Weights, tokenizer, info, the precision measurement and the model card."""
    from pipeline.evaluation.runs import measure_precision_cost
    from pipeline.training.model_card import write_model_card
    from pipeline.training.modeling import save_model
    from pipeline.tagger.precision import write_check

    # Dev F1 in the faster precisions too: expel-predict uses one only if no F1 drops > 1 point.
    # With nothing held out it is measured in-sample, on the positives and a sample of the rest.
    docs, fp32 = scored, scores
    if in_sample and len(scored) > PRECISION_SAMPLE:
        pos = [d for d in scored if d.events]
        neg = [d for d in scored if not d.events]
        docs, fp32 = pos + random.Random(cfg.trainer.seed).sample(neg, max(0, PRECISION_SAMPLE - len(pos))), None
    save_model(tagger.base_model, tagger.tokenizer, out_dir, info)
    # The recipe's cross-validated figures, when this recipe was cross-validated (else why not):
    # the model card and expel-evaluate's report lead with them.
    from pipeline.evaluation.crossval import ESTIMATE_FILE, find_estimate

    info["estimate"] = find_estimate(info["config"], cfg.crossval_estimates)
    (out_dir / ESTIMATE_FILE).write_text(json.dumps(info["estimate"], indent=1), encoding="utf-8")
    if tagger.verifier is not None:
        from pipeline.events.verifier import VERIFIER_FILE

        tagger.verifier.save(out_dir / VERIFIER_FILE)
    if cfg.measure_precision:
        check = measure_precision_cost(tagger, docs, fp32)
        write_check(out_dir, check | {"scored_on": info["scored_on"], "documents": len(docs),
                                      "in_sample": in_sample})
    write_model_card(out_dir, info)


def _resolved(cfg: TrainConfig) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)  # type: ignore[return-value]


def _train_doc_filter(cfg: TrainConfig, train_docs, heldout, out_dir: Path) -> dict[str, Any]:
    """Train the cascade's document filter beside the model; its recall on the held-out
    documents when there are some (else its own cross-validated recall on the training set)."""
    from pipeline.batch.docfilter import DocFilter, filter_recall, train_filter

    res = train_filter(train_docs, out_dir, seed=cfg.trainer.seed)
    out = {"threshold": res["threshold"], "gated_docs": res["gated_docs"], "gate_missed": res["gate_missed"],
           "cv_recall": res["cv_recall"], "cv_negative_pass_rate": res["cv_negative_pass_rate"]}
    if heldout:
        dev = filter_recall(DocFilter.load(res["path"]), heldout)
        log.info("document filter: held-out recall %.3f on %d event documents, %.1f%% of held-out "
                 "negatives pass", dev["recall"], dev["positives"], 100 * dev["negative_pass_rate"])
        out.update(dev_recall=dev["recall"], dev_missed=dev["missed"],
                   dev_negative_pass_rate=dev["negative_pass_rate"])
    return out
