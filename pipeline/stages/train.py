"""The train stage: gold documents in, a saved model directory out.

``train(cfg, run_dir)`` is a plain function; ``pipeline.cli`` wraps it for Hydra.  The
work is done by library modules: :mod:`pipeline.corpus` reads the splits,
:mod:`pipeline.training` fine-tunes, :mod:`pipeline.evaluation` scores dev and measures
the faster precisions, :mod:`pipeline.batch.docfilter` trains the document filter.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, Sequence

from pipeline.config import TrainConfig

log = logging.getLogger(__name__)


def train(cfg: TrainConfig, run_dir: str | Path, callbacks: Sequence = ()) -> dict[str, Any]:
    """Fine-tune the tagger on the gold training documents, pick the best epoch on dev.

    Args:
        cfg: the resolved train config.
        run_dir: this run's own directory (checkpoints, resolved config, logs).
        callbacks: extra ``transformers.TrainerCallback`` objects (logging, tests).

    Returns:
        ``{"model_dir", "dev_scores", "train_docs", "dev_docs", "misaligned_spans",
        "resumed_from", "doc_filter"}``.

    Raises:
        MissingFileError: a gold file is missing.
        CorpusError: a gold file breaks the contract (file, line and id named), or a
            document is in both splits.
    """
    import torch

    from pipeline.corpus import check_disjoint, load_gold, subsample
    from pipeline.evaluation import measure_precision_cost, predict_and_score
    from pipeline.model_card import write_model_card
    from pipeline.modeling import make_model, save_model
    from pipeline.tagger import Tagger, resolve_settings
    from pipeline.tagger.precision import write_check
    from pipeline.training import fingerprint, fit

    settings = resolve_settings(cfg.tagger, None)        # a bad value fails before training
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # Checkpoints live beside the output model, so that the same command finds them
    # again after an interrupt even though Hydra gives every run a new directory.
    ckpt_dir = Path(f"{cfg.output_dir}.checkpoints") if cfg.output_dir else run_dir / "checkpoints"
    resolved = _resolved(cfg)
    train_docs = subsample(load_gold(cfg.data.train), cfg.data.fraction, cfg.trainer.seed)
    dev_docs = load_gold(cfg.data.dev)
    check_disjoint(train_docs, dev_docs)
    if cfg.trainer.threads > 0:
        torch.set_num_threads(cfg.trainer.threads)
    model, tokenizer = make_model(cfg.model.encoder, cfg.trainer.seed)
    fitted = fit(model, tokenizer, train_docs, dev_docs, cfg.data, cfg.trainer, ckpt_dir,
                 fingerprint(resolved), callbacks)

    tagger = Tagger(fitted.model, tokenizer, settings)
    dev_scores, _ = predict_and_score(tagger, dev_docs)
    # Dev F1 in the faster precisions too: expel-predict uses one only if no F1 drops > 1 point.
    precision_check = measure_precision_cost(tagger, dev_docs, dev_scores)
    out_dir = Path(cfg.output_dir) if cfg.output_dir else run_dir / "model"
    info = {"config": resolved, "dev_scores": dev_scores, "train_docs": len(train_docs),
            "dev_docs": len(dev_docs), "window": {"max_length": cfg.data.max_length,
                                                  "stride": cfg.data.stride},
            "linking": settings.linking, "decoding": settings.decoding, "reason": settings.reason}
    info["doc_filter"] = _train_doc_filter(cfg, train_docs, dev_docs, out_dir)
    save_model(fitted.model, tokenizer, out_dir, info)
    write_check(out_dir, precision_check | {"dev": cfg.data.dev})
    write_model_card(out_dir, info)
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # the model is saved; checkpoints are ~200 MB
    (run_dir / "dev_scores.json").write_text(json.dumps(dev_scores, indent=2))
    return {"model_dir": str(out_dir), "dev_scores": dev_scores, "train_docs": len(train_docs),
            "dev_docs": len(dev_docs), "misaligned_spans": len(fitted.encode_stats.misaligned),
            "resumed_from": fitted.resumed_from, "doc_filter": info["doc_filter"]}


def _resolved(cfg: TrainConfig) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)  # type: ignore[return-value]


def _train_doc_filter(cfg: TrainConfig, train_docs, dev_docs, out_dir: Path) -> dict[str, Any]:
    """Train the cascade's document filter beside the model; report its recall on dev."""
    from pipeline.batch.docfilter import DocFilter, filter_recall, train_filter

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
