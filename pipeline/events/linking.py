"""Attach argument spans to trigger spans, turning tagged spans into events.

Two strategies, measured against each other as Arg-C+ on gold:

- ``nearest``: every argument goes to the nearest trigger (character distance);
- ``sentence`` (default): an argument goes to the nearest trigger of its own sentence;
  an argument in a sentence without a trigger goes to the nearest trigger before it
  within ``max_gap`` characters ("The officials must leave by October 31" after the
  sentence that expels them). An EXPELLER placed before a run of coordinated triggers
  ("Poland and Hungary expel ... ; Bulgaria expels ...") is shared by the triggers it
  precedes in the same clause when they have no expeller of their own.
"""

from __future__ import annotations

import bisect

from pipeline.schema import TRIGGER, Event, Span
from pipeline.text import sentences


def _distance(a: Span, b: Span) -> int:
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def link(text: str, spans: list[Span], strategy: str = "sentence", max_gap: int = 400) -> list[Event]:
    """Group spans into events, one event per trigger.

    Args:
        text: the document text (for sentence boundaries).
        spans: predicted spans, triggers and arguments, in any order.
        strategy: ``"sentence"`` or ``"nearest"``.
        max_gap: in ``sentence`` mode, how far (characters) an argument in a sentence
            without a trigger may be from the previous trigger.

    Returns:
        Events in trigger order; arguments with no trigger to attach to are left out
        (a prediction without a trigger is not an event).

    Raises:
        ValueError: on an unknown strategy.
    """
    if strategy not in ("sentence", "nearest"):
        raise ValueError(f"unknown linking strategy {strategy!r}; use 'sentence' or 'nearest'")
    triggers = sorted((s for s in spans if s.label == TRIGGER), key=lambda s: s.start)
    args = [s for s in spans if s.label != TRIGGER]
    events = [Event(trigger=t) for t in triggers]
    if not triggers:
        return events
    sents = sentences(text)
    # A sentence is named by its start; only paragraphs holding a trigger are split.
    trig_sent = [sents.at(t.start)[0] for t in triggers]
    trig_paragraphs = {sents.paragraph(t.start) for t in triggers}
    trig_starts = [t.start for t in triggers]
    by_sent: dict[int, list[int]] = {}
    for i, sent in enumerate(trig_sent):
        by_sent.setdefault(sent, []).append(i)
    for a in sorted(args, key=lambda s: s.start):
        # Candidates are looked up, not scanned, so long documents stay near-linear.
        k = bisect.bisect_left(trig_starts, a.start)
        if strategy == "nearest":
            cands = [i for i in (k - 1, k) if 0 <= i < len(triggers)]
        else:
            same = sents.paragraph(a.start) in trig_paragraphs
            cands = by_sent.get(sents.at(a.start)[0], []) if same else []
            if not cands:
                # Spans never overlap, so the trigger starting just before ends before.
                prev = k - 1
                cands = [prev] if prev >= 0 and 0 <= a.start - triggers[prev].end <= max_gap else []
            if not cands:
                continue
        best = min(cands, key=lambda i: (_distance(a, triggers[i]), -triggers[i].start))
        events[best].arguments.append(a)
    if strategy == "sentence":
        _share_expellers(events, trig_sent)
    return events


def _share_expellers(events: list[Event], trig_sent: list[int]) -> None:
    """Copy an EXPELLER to later triggers of its sentence that have none of their own.

    "Germany and France expel diplomats, and Italy expels two": each trigger keeps
    its own expeller; "The US expels 35 diplomats and closes ... and orders ..." shares
    the one expeller with every trigger that follows it without one.
    """
    for i, ev in enumerate(events):
        expellers = [a for a in ev.arguments if a.label == "EXPELLER" and a.end <= ev.trigger.start]
        if not expellers:
            continue
        for j in range(i + 1, len(events)):
            other = events[j]
            if trig_sent[j] != trig_sent[i]:
                break
            if any(a.label == "EXPELLER" for a in other.arguments):
                break
            other.arguments.extend(expellers)
