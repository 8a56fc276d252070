"""The evaluate stage: a model and a gold file in, ``metrics.json`` and ``report.md`` out.

``evaluate(cfg, run_dir)`` is a plain function; ``pipeline.cli`` wraps it for Hydra.
Scoring is :mod:`pipeline.evaluation.runs`, the baselines :mod:`pipeline.baselines`, the
report :mod:`pipeline.report`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pipeline.config import EvaluateConfig

log = logging.getLogger(__name__)

# Report row of the model with ``reason=model`` when the default ``reason=rules`` is scored.
MODEL_ALONE = "fine-tuned model, REASON from the tagger"


def evaluate(cfg: EvaluateConfig, run_dir: str | Path) -> dict[str, Any]:
    """Score a trained model on a gold file and write the report.

    Returns:
        ``{"metrics": ..., "report": path, "metrics_path": path}``.

    Raises:
        ModelDirError: the model directory is missing or unsafe.
        MissingFileError / CorpusError: the gold file is missing or broken.
        PrecisionError: a faster precision asked for without a passing measurement.
    """
    from pipeline.training.corpus import load_gold
    from pipeline.evaluation.runs import predict_and_score, token_level
    from pipeline.formats.jsonl import write_events_jsonl
    from pipeline.tagger.loading import check_model_dir
    from pipeline.report import MODEL, write_report
    from pipeline.evaluation.scoring import score_documents
    from pipeline.tagger import Tagger, resolve_settings

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    check_model_dir(cfg.model_dir)          # fail before reading anything heavy
    gold = load_gold(cfg.gold)
    tagger = Tagger.from_dir(cfg.model_dir, resolve_settings(cfg.tagger, cfg.model_dir))
    scores, pred = predict_and_score(tagger, gold)
    tl = token_level(gold, pred, tagger.tokenizer)
    from pipeline.evaluation.scoring import field_agreement, recall_by_trigger_form

    seen = _training_ids(cfg.model_dir) & {d.id for d in gold}
    metrics: dict[str, Any] = {"model": scores, "seqeval": tl["seqeval"], "token": tl["token"],
                               "gold": cfg.gold, "model_dir": cfg.model_dir, "documents": len(gold),
                               "in_sample_documents": len(seen), "precision": tagger.settings.precision,
                               "trigger_forms": recall_by_trigger_form(gold, pred),
                               "fields": field_agreement(gold, pred)}
    metrics["estimate"] = _estimate(cfg)
    if seen:
        log.warning("%d of the %d scored documents were in the model's training data: the scores are "
                    "in-sample", len(seen), len(gold))
    systems = {MODEL: (scores, pred)}
    if tagger.settings.reason == "rules":
        # The same model with its own REASON spans, so the rule's share is visible.
        alone_scores, alone_pred = predict_and_score(tagger.with_settings(reason="model"), gold)
        systems[MODEL_ALONE] = (alone_scores, alone_pred)
        metrics["model_reason_from_tagger"] = alone_scores
    if cfg.baselines:
        from pipeline.baselines import run_baselines

        for name, base_pred in run_baselines(gold, _training_files(cfg.model_dir), seed=cfg.seed).items():
            systems[name] = (score_documents(gold, base_pred), base_pred)
        metrics["baselines"] = {n: s for n, (s, _) in systems.items() if n not in (MODEL, MODEL_ALONE)}
    write_events_jsonl(pred, str(run_dir / "predictions.jsonl"))
    report = write_report(run_dir, gold, systems, metrics, tl, cfg)
    metrics_path = run_dir / "metrics.json"
    metrics_path.write_text(json.dumps(_jsonable(metrics), indent=2), encoding="utf-8")
    return {"metrics": metrics, "report": str(report), "report_html": str(Path(report).with_suffix(".html")),
            "metrics_path": str(metrics_path)}


def _estimate(cfg: EvaluateConfig) -> dict[str, Any] | None:
    """The model's cross-validated estimate (``estimate.json`` beside it, written by
    expel-train), with a note when this evaluation decodes otherwise than the recipe that
    was cross-validated."""
    from dataclasses import asdict

    from pipeline.evaluation.crossval import ESTIMATE_FILE, DECODING_KEYS

    path = Path(cfg.model_dir) / ESTIMATE_FILE
    try:
        est = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        log.warning("%s is not readable JSON; the report shows no cross-validated estimate", path)
        return None
    if not isinstance(est, dict):
        return None
    if est.get("measured"):
        now = asdict(cfg.tagger)
        then = est.get("recipe", {}).get("tagger", {})
        diff = [f"tagger.{k} ({now[k]} here, {then[k]} cross-validated)" for k in DECODING_KEYS
                if k in then and now.get(k) != then[k]]
        if diff:
            est = {**est, "measured": False,
                   "note": "this evaluation decodes otherwise than the cross-validated recipe: " + ", ".join(diff)}
    return est


def _training_ids(model_dir: str) -> set[str]:
    """Ids of the documents the model was trained on (saved with it), or an empty set."""
    from pipeline.tagger.loading import SCHEMA_FILE

    info_file = Path(model_dir) / SCHEMA_FILE
    if info_file.is_file():
        return set(json.loads(info_file.read_text(encoding="utf-8")).get("train_ids") or [])
    return set()


def _training_files(model_dir: str) -> list[str]:
    """The gold files a model was trained on (the baselines train on the same)."""
    from pipeline.tagger.loading import SCHEMA_FILE

    info_file = Path(model_dir) / SCHEMA_FILE
    if info_file.is_file():
        info = json.loads(info_file.read_text(encoding="utf-8"))
        files = info.get("config", {}).get("data", {}).get("train")
        if files and all(Path(f).is_file() for f in files):
            return list(files)
    return ["data/gold/train.jsonl"]


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        return x.item()
    return x
