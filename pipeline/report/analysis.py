"""What the report says about errors: each error classified by kind, trigger scores
against outcomes, the precision-recall curve over score thresholds.

Pure functions over documents; rendering is :mod:`pipeline.report.render`.
"""

from __future__ import annotations

import re
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


# What kind of mention a missed or spurious trigger is, read from its sentence: the kinds
# this event's errors come in (docs/ANNOTATION.md: only the removal of a posted
# official by the host state is an expulsion).  The first kind that matches is given.
EVENT_KINDS: tuple[tuple[str, str], ...] = (
    ("expelled from an organisation",
     r"\bexpel\w*\s+(?:\w+\s+){0,4}from\s+(?:the\s+)?(?:\w+\s+){0,3}(?:party|league|organi[sz]ation|council|union|"
     r"federation|commonwealth|group|assembly|committee|club|parliament|alliance|body|tournament|games)\b"
     r"|\b(?:suspend\w*|membership)\b"),
    ("threats and calls",
     r"\b(?:threat\w*|warn\w*|urg(?:e|es|ed|ing)|calls?\s+(?:for|on)|called\s+(?:for|on)|demand\w*|motion|"
     r"consider\w*|could|would|(?-i:may)|might|plans?\s+to|planning|propos\w*|vow\w*|den(?:y|ies|ied)|"
     r"rul\w+\s+out|options?|possible|if)\b"),
    ("entry bans",
     r"\b(?:ban(?:s|ned|ning)?|barred|entry|enter(?:ing)?|visas?|denied\s+entry|refused\s+entry)\b"
     r"|\b(?:head\s+of\s+state|secretary[- ]general|president)\b.{0,60}\b(?:ban\w*|barr\w*|entry|enter\w*|visit)"),
    ("recalls and summons",
     r"\b(?:recall\w*|summon\w*|withdr[ae]w\w*|clos\w*\s+(?:\w+\s+){0,2}(?:embassy|embassies|consulates?|mission)|"
     r"downgrad\w*|sever(?:s|ed|ing|ance)?|cut\w*\s+(?:diplomatic\s+)?ties)\b"),
    ("non-officials",
     r"\b(?:journalists?|reporters?|correspondents?|aid\s+workers?|NGOs?|missionar\w+|migrants?|refugees?|"
     r"citizens|nationals|students?|athletes?|coach\w*|team|players?|party\s+members?|members\s+of\s+the\s+party|"
     r"workers|monks?|priests?|activists?|tourists?|Roma(?:ni)?|business\w*|investors?|inspectors?|"
     r"observers?|peacekeepers?|troops|soldiers|generals?|famil(?:y|ies)|dependents|staff\s+of\s+the\s+UN)\b"),
)
_EVENT_KIND_RES = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in EVENT_KINDS)


def event_kind(text: str, trigger: Span) -> str:
    """The kind of mention around ``trigger`` (its sentence), one of :data:`EVENT_KINDS`'
    names or ``"other mentions"``.

    Example:
        >>> t = "Russia threatens to expel British journalists."
        >>> event_kind(t, Span("TRIGGER", 19, 24, "expel"))
        'threats and calls'
    """
    from pipeline.text import sentence_bounds

    lo, hi = next(((a, b) for a, b in sentence_bounds(text) if a <= trigger.start < b), (0, len(text)))
    sentence = text[lo:hi]
    for name, rx in _EVENT_KIND_RES:
        if rx.search(sentence):
            return name
    return "other mentions"
