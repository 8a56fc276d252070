"""The evaluate stage: a model and a gold file in, ``metrics.json`` and ``report.md`` out."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Sequence

from pipeline.config import EvaluateConfig
from pipeline.encoding import BIO_LABELS, word_spans, word_tags
from pipeline.schema import Document
from pipeline.scoring import score_documents

log = logging.getLogger(__name__)

# Report row of the model with ``reason=model`` when the default ``reason=rules`` is scored.
MODEL_ALONE = "fine-tuned model, REASON from the tagger"


def predict_and_score(tagger, gold: Sequence[Document]) -> tuple[dict[str, Any], list[Document]]:
    """Predict on the gold texts and score against the gold events."""
    blank = [Document(id=d.id, text=d.text, meta=dict(d.meta)) for d in gold]
    pred = tagger.predict(blank)
    return score_documents(gold, pred), pred


def token_level(gold: Sequence[Document], pred: Sequence[Document], tokenizer) -> dict[str, Any]:
    """seqeval strict entity scores and scikit-learn's token (word) report."""
    from seqeval.metrics import classification_report as seq_report
    from seqeval.scheme import IOB2
    from sklearn.metrics import classification_report

    y_true, y_pred = [], []
    by_id = {d.id: d for d in pred}
    for g in gold:
        spans = word_spans(g.text, tokenizer)
        y_true.append(word_tags(g, spans))
        y_pred.append(word_tags(by_id[g.id], spans))
    seq = seq_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    flat_t = [t for s in y_true for t in s]
    flat_p = [t for s in y_pred for t in s]
    labels = [lab for lab in BIO_LABELS if lab != "O"]
    tok = classification_report(flat_t, flat_p, labels=labels, output_dict=True, zero_division=0)
    seq = {k: {m: float(v) for m, v in d.items()} for k, d in seq.items()}
    tok = {k: {m: float(v) for m, v in d.items()} for k, d in tok.items() if isinstance(d, dict)}
    return {"seqeval": seq, "token": tok, "y_true": y_true, "y_pred": y_pred}


def evaluate(cfg: EvaluateConfig, run_dir: str | Path) -> dict[str, Any]:
    """Score a trained model on a gold file and write the report.

    Returns:
        ``{"metrics": ..., "report": path, "metrics_path": path}``.

    Raises:
        ModelDirError: the model directory is missing or unsafe.
        FileNotFoundError / CorpusError: the gold file is missing or broken.
    """
    from pipeline.modeling import check_model_dir
    from pipeline.precision import set_precision
    from pipeline.predictor import Tagger, TaggerSettings
    from pipeline.report import write_report
    from pipeline.train import load_gold

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    check_model_dir(cfg.model_dir)          # fail before reading anything heavy
    gold = load_gold(cfg.gold)
    settings = TaggerSettings(max_length=cfg.max_length, stride=cfg.stride,
                              batch_size=cfg.batch_size, linking=cfg.linking,
                              decoding=cfg.decoding, reason=cfg.reason)
    tagger = Tagger.from_dir(cfg.model_dir, settings)
    set_precision(tagger, cfg.precision, cfg.model_dir)
    scores, pred = predict_and_score(tagger, gold)
    tl = token_level(gold, pred, tagger.tokenizer)
    metrics: dict[str, Any] = {"model": scores, "seqeval": tl["seqeval"], "token": tl["token"],
                               "gold": cfg.gold, "model_dir": cfg.model_dir, "documents": len(gold)}
    systems = {"fine-tuned model": (scores, pred)}
    if cfg.reason == "rules":
        # The same model with its own REASON spans, so the rule's share is visible.
        from dataclasses import replace

        alone = Tagger(tagger.model, tagger.tokenizer, replace(settings, reason="model"))
        alone_scores, alone_pred = predict_and_score(alone, gold)
        systems[MODEL_ALONE] = (alone_scores, alone_pred)
        metrics["model_reason_from_tagger"] = alone_scores
    if cfg.baselines:
        from pipeline.baselines import run_baselines

        train_files = _training_files(cfg.model_dir)
        for name, base_pred in run_baselines(gold, train_files, seed=cfg.seed).items():
            systems[name] = (score_documents(gold, base_pred), base_pred)
        metrics["baselines"] = {n: s for n, (s, _) in systems.items()
                                if n not in ("fine-tuned model", MODEL_ALONE)}
    from pipeline.formats.jsonl import write_events_jsonl

    write_events_jsonl(pred, str(run_dir / "predictions.jsonl"))
    report = write_report(run_dir, gold, systems, metrics, tl, cfg)
    metrics_path = run_dir / "metrics.json"
    metrics_path.write_text(json.dumps(_jsonable(metrics), indent=2), encoding="utf-8")
    return {"metrics": metrics, "report": str(report), "metrics_path": str(metrics_path)}


def _training_files(model_dir: str) -> list[str]:
    """The gold files a model was trained on (the baselines train on the same)."""
    from pipeline.modeling import SCHEMA_FILE

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
