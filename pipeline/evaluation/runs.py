"""Scoring a tagger on gold documents: the scores of ANNOTATION.md, word-level reports,
and the F1 cost of running it in a faster numeric precision.

Used by the evaluate stage, by training's dev scoring and by the benchmarks.

Example:
    >>> scores, pred = predict_and_score(tagger, load_gold("data/gold/dev.jsonl"))  # doctest: +SKIP
    >>> scores["argument"]["f1"]                                                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from pipeline.tagger.encoding import BIO_LABELS, word_spans, word_tags
from pipeline.schema import Document
from pipeline.evaluation.scoring import score_documents

log = logging.getLogger(__name__)


def predict_and_score(tagger, gold: Sequence[Document]) -> tuple[dict[str, Any], list[Document]]:
    """Predict on the gold texts (events removed first) and score against the gold events."""
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


def measure_precision_cost(tagger, gold: Sequence[Document], fp32_scores: dict[str, Any] | None = None,
                           precisions: Sequence[str] | None = None) -> dict[str, Any]:
    """Dev F1 of ``tagger``'s model in fp32 and in each faster variant the machine can run
    (:func:`pipeline.tagger.precision.measure`): what ``precision.json`` holds.

    The variants are bf16 and ONNX Runtime in float32 (``onnx``, for the record: float32
    needs no gate) and in int8 (``onnx_int8``: :data:`pipeline.tagger.ort.ORT_INT8`, the
    gate of ``precision=int8``), the last two on the CPU where it is installed.

    Args:
        tagger: a :class:`pipeline.tagger.Tagger` (its float weights are used).
        gold: the gold documents to score on (dev).
        fp32_scores: the float32 scores when already computed.
        precisions: which to measure; default as above.
    """
    from pipeline.tagger.ort import available
    from pipeline.tagger.precision import measure

    cpu = tagger.settings.device == "cpu"
    if precisions is None:
        precisions = ["bf16"] + (["onnx", "onnx_int8"] if cpu and available() else [])
    reference = tagger.with_settings(precision="fp32", runtime="torch")

    def variant(name: str):
        if name.startswith("onnx"):
            return reference.with_settings(runtime="onnx", precision="int8" if name == "onnx_int8" else "fp32")
        return reference.with_settings(precision=name)

    def score(name: str) -> dict[str, Any]:
        return predict_and_score(variant(name), gold)[0]

    return measure(score, precisions, fp32_scores=fp32_scores)
