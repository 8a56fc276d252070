"""What the report says about errors: each error classified by kind, trigger scores
against outcomes, the precision-recall curve over score thresholds.

Pure functions over documents; rendering is :mod:`pipeline.report.render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from pipeline.schema import TRIGGER, Document, Span


ERROR_KINDS = ("wrong boundary", "wrong role", "missed event", "spurious event",
               "missed argument", "spurious argument")


@dataclass
class ErrorItem:
    """One error of a system on one document; ``gold``/``pred`` are the spans involved."""

    kind: str
    doc: Document
    gold: Span | None
    pred: Span | None


# A block is ("h1" | "h2" | "h3" | "p", text), ("table", header, rows), ("img", file, alt)
# or ("example", ErrorItem, gold spans, predicted spans).


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def classify_errors(gold: Document, pred: Document) -> list[ErrorItem]:
    """The errors of one predicted document against its gold, by kind.

    Triggers: a gold trigger without an exact prediction is a *wrong boundary* when a
    predicted trigger overlaps it, else a *missed event*; a predicted trigger overlapping
    no gold trigger is a *spurious event*.  Arguments (distinct role and span): same span
    with another role is a *wrong role*, an overlapping span with the same role a *wrong
    boundary*, otherwise a *missed* or *spurious argument*.
    """
    g_spans, p_spans = gold.spans(), pred.spans()
    g_keys, p_keys = {s.key for s in g_spans}, {s.key for s in p_spans}
    items: list[ErrorItem] = []
    for g in (s for s in g_spans if s.key not in p_keys):
        trig = g.label == TRIGGER
        same_span = [p for p in p_spans if (p.start, p.end) == (g.start, g.end) and (p.label == TRIGGER) == trig]
        near = [p for p in p_spans if p.label == g.label and _overlaps(p, g)]
        if same_span and not trig:
            items.append(ErrorItem("wrong role", gold, g, same_span[0]))
        elif near:
            items.append(ErrorItem("wrong boundary", gold, g, near[0]))
        else:
            items.append(ErrorItem("missed event" if trig else "missed argument", gold, g, None))
    for p in (s for s in p_spans if s.key not in g_keys):
        trig = p.label == TRIGGER
        explained = any(((g.start, g.end) == (p.start, p.end) and not trig and g.label != TRIGGER)
                        or (g.label == p.label and _overlaps(g, p)) for g in g_spans)
        if not explained:
            items.append(ErrorItem("spurious event" if trig else "spurious argument", gold, None, p))
    return items


def trigger_outcomes(gold: Sequence[Document], pred: Sequence[Document]) -> tuple[list[tuple[float, bool]], int]:
    """(score, correct) for every scored predicted trigger, and the number of gold triggers."""
    gold_t = {(d.id, e.trigger.start, e.trigger.end) for d in gold for e in d.events}
    seen: set = set()
    out = []
    for d in pred:
        for e in d.events:
            key = (d.id, e.trigger.start, e.trigger.end)
            if e.trigger.score is not None and key not in seen:
                seen.add(key)
                out.append((float(e.trigger.score), key in gold_t))
    return out, len(gold_t)


def pr_curve(outcomes: list[tuple[float, bool]], n_gold: int) -> tuple[list[float], list[float], list[float]]:
    """Precision and recall of the triggers kept at each score threshold (high to low).

    Returns:
        ``(thresholds, precision, recall)``, one point per distinct score.
    """
    ranked = sorted(outcomes, key=lambda x: -x[0])
    thresholds, precision, recall, tp = [], [], [], 0
    for k, (score, ok) in enumerate(ranked, start=1):
        tp += ok
        if k < len(ranked) and ranked[k][0] == score:
            continue                              # ties enter together
        thresholds.append(score)
        precision.append(tp / k)
        recall.append(tp / n_gold if n_gold else 0.0)
    return thresholds, precision, recall


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
