"""Bootstrap confidence intervals for the scores of :mod:`pipeline.evaluation.scoring`.

Documents are resampled with replacement.  Micro P/R/F1 are ratios of counts summed
over documents, so each document is scored once with
:func:`~pipeline.evaluation.scoring.score_documents` and every resample only re-sums those counts:
the result is what ``score_documents`` would give on the resampled set (a document
drawn twice counts twice), at a fraction of the cost.

Example:
    >>> from pipeline.schema import Document, Event, Span
    >>> gold = [Document("d", "Peru expels a diplomat", [Event(Span("TRIGGER", 5, 11, "expels"))])]
    >>> bootstrap_ci(gold, gold, resamples=50, seed=1)["trigger"]["f1"]
    (1.0, 1.0)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.schema import ROLES, CorpusError, Document
from pipeline.evaluation.scoring import lookup, score_documents

# Score entries with counts, as paths into the dict score_documents returns.
METRIC_PATHS: tuple[tuple[str, ...], ...] = (
    ("trigger",), ("argument",), ("argument_attached",), ("document",),
    *(("per_role", r) for r in ROLES), *(("per_role_attached", r) for r in ROLES),
)


def document_counts(gold: Sequence[Document], pred: Sequence[Document]) -> np.ndarray:
    """Per-document (tp, pred, gold) counts for every metric.

    Returns:
        An int array of shape ``[n_docs, len(METRIC_PATHS), 3]``.

    Raises:
        CorpusError: when predictions and gold do not cover the same documents.
    """
    by_id = {d.id: d for d in pred}
    if set(by_id) != {d.id for d in gold} or len(pred) != len(gold):
        raise CorpusError("predictions and gold cover different documents; predict on the gold "
                          "file itself (score_documents names the ids)")
    out = np.zeros((len(gold), len(METRIC_PATHS), 3), dtype=np.int64)
    for i, g in enumerate(gold):
        s = score_documents([g], [by_id[g.id]])
        for j, path in enumerate(METRIC_PATHS):
            m = lookup(s, path)
            out[i, j] = (m["tp"], m["pred"], m["gold"])
    return out


def _prf(counts: np.ndarray) -> np.ndarray:
    """Vectorised P/R/F1 (0 where undefined) from ``[..., 3]`` counts -> ``[..., 3]``."""
    tp, npred, ngold = (counts[..., k].astype(float) for k in range(3))
    p = np.divide(tp, npred, out=np.zeros_like(tp), where=npred > 0)
    r = np.divide(tp, ngold, out=np.zeros_like(tp), where=ngold > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=(p + r) > 0)
    return np.stack([p, r, f], axis=-1)


def bootstrap_ci(gold: Sequence[Document], pred: Sequence[Document], *, resamples: int = 1000,
                 seed: int = 13, level: float = 0.95) -> dict:
    """Percentile bootstrap intervals for every score of :func:`score_documents`.

    Args:
        gold: gold documents.
        pred: predicted documents (same ids).
        resamples: number of document resamples; 0 returns ``{}``.
        seed: seeds the resampling, so the same call gives the same intervals.
        level: coverage of the interval.

    Returns:
        The layout of ``score_documents`` with ``(low, high)`` pairs in place of the
        numbers: ``ci["trigger"]["f1"]``, ``ci["per_role"]["EXPELLER"]["recall"]``.
        Only precision, recall and f1 are given.

    Raises:
        ValueError: ``resamples`` is negative or ``level`` is not in (0, 1).
    """
    if resamples < 0 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 0 and 0 < level < 1, got {resamples} and {level}")
    if resamples == 0 or not gold:
        return {}
    counts = document_counts(gold, pred)                       # [docs, metrics, 3]
    rng = np.random.default_rng(seed)
    n = len(gold)
    # How often each document is drawn in each resample: [resamples, docs].
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    sums = (weights @ counts.reshape(n, -1)).reshape(resamples, *counts.shape[1:])
    prf = _prf(sums)                                           # [resamples, metrics, 3]
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(prf, [tail, 100 - tail], axis=0)    # [metrics, 3] each
    out: dict = {}
    for j, path in enumerate(METRIC_PATHS):
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = {name: (float(lo[j, k]), float(hi[j, k]))
                          for k, name in enumerate(("precision", "recall", "f1"))}
    return out
