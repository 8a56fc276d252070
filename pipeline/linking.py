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

import re

from pipeline.schema import TRIGGER, Event, Span

_SENT_END = re.compile(r"[.!?][\"”’')]?\s+(?=[A-Z\"“‘'(\[])|\n\s*\n")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Rough sentence spans ``[start, end)`` covering the whole text."""
    bounds, start = [], 0
    for m in _SENT_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


def _sentence_of(pos: int, bounds: list[tuple[int, int]]) -> int:
    for i, (s, e) in enumerate(bounds):
        if s <= pos < e:
            return i
    return len(bounds) - 1


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
    bounds = sentence_bounds(text)
    trig_sent = [_sentence_of(t.start, bounds) for t in triggers]
    for a in sorted(args, key=lambda s: s.start):
        if strategy == "nearest":
            cands = list(range(len(triggers)))
        else:
            sent = _sentence_of(a.start, bounds)
            cands = [i for i, s in enumerate(trig_sent) if s == sent]
            if not cands:
                before = [i for i, t in enumerate(triggers) if t.end <= a.start
                          and a.start - t.end <= max_gap]
                cands = before[-1:]
            if not cands:
                continue
        best = min(cands, key=lambda i: (_distance(a, triggers[i]), -triggers[i].start))
        events[best].arguments.append(a)
    if strategy == "sentence":
        _share_expellers(text, events, bounds, trig_sent)
    return events


def _share_expellers(text: str, events: list[Event], bounds, trig_sent) -> None:
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
