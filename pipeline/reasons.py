"""REASON clauses by rule, anchored on the tagger's triggers (``reason=rules``).

ANNOTATION.md makes a REASON "the whole cause clause": everything after the causal word
("for", "over", "after", "accused of", "in response to" ...) up to the clause's end.  The
fine-tuned tagger finds *where* an expulsion is but, with ~110 REASON examples, draws the
clause's edges poorly (dev Arg-C F1 on REASON 0.47); the lexicon baseline's clause rule
draws them well (0.61 on its own triggers).  Here the rule runs from each trigger the
model found, after the model's EXPELLED span when one follows the trigger closely, and
the model's own REASON spans are replaced.  ``reason=model`` keeps the tagger's spans.

Example:
    >>> from pipeline.schema import make_span
    >>> text = "Peru expels two Chilean diplomats for spying on its navy."
    >>> spans = [make_span(text, "TRIGGER", 5, 11), make_span(text, "EXPELLED", 12, 33)]
    >>> [s.text for s in rule_reasons(text, spans) if s.label == "REASON"]
    ['spying on its navy']
"""

from __future__ import annotations

import re

from pipeline.baselines import Sentence, reason_clause, word_spans
from pipeline.linking import sentence_bounds
from pipeline.schema import TRIGGER, Span, make_span

# How far after a trigger an EXPELLED span may start and still push the clause search
# past it ("expels [two diplomats] for ..."), in characters.
_EXPELLED_GAP = 40
REASON_SOURCES = ("rules", "model")
_WORD = re.compile(r"\w[\w'’-]*")
# Words a clause cut short must not end on (a cut clause ending "... the" is no clause).
_TRAILING = frozenset("a an the of in on at to for from by with since between and or but "
                      "its their his her after over against".split())


def rule_reasons(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` with REASON spans drawn by the clause rule from each trigger.

    A clause that overlaps one already found, or that would swallow a trigger, is skipped.
    """
    out = [s for s in spans if s.label != "REASON"]
    triggers = sorted((s for s in spans if s.label == TRIGGER), key=lambda s: s.start)
    if not triggers:
        return out
    expelled = [s for s in spans if s.label == "EXPELLED"]
    words = word_spans(text)
    found: list[Span] = []
    for ss, se in sentence_bounds(text):
        here = [t for t in triggers if ss <= t.start < se]
        if not here:
            continue
        sent = Sentence(text, ss, se, [w for w in words if ss <= w[0] < se])
        for trig in here:
            after = trig.end
            nxt = [e for e in expelled if trig.end <= e.start < se and e.start - trig.end <= _EXPELLED_GAP]
            if nxt:
                after = max(after, min(nxt, key=lambda e: e.start).end)
            reason = reason_clause(sent, after)
            if reason is None or any(reason.start <= t.start < reason.end for t in triggers):
                continue    # "in response to the expulsion of ...": another event, not a cause clause
            reason = _clear_of(text, reason, out)
            if reason is None or any(reason.start < f.end and f.start < reason.end for f in found):
                continue
            found.append(reason)
    return out + found


def _clear_of(text: str, reason: Span | None, others: list[Span]) -> Span | None:
    """The clause cut short before the first of the model's spans it runs into (the
    model's spans win: spans never overlap); None when nothing of it is left."""
    if reason is None:
        return None
    clash = [s.start for s in others if s.start < reason.end and reason.start < s.end]
    if not clash:
        return reason
    words = [m for m in _WORD.finditer(text, reason.start, min(clash)) if m.end() <= min(clash)]
    while words and words[-1].group(0).lower() in _TRAILING:
        words.pop()      # "... between the two countries since" -> "... between the two countries"
    if not words or words[-1].end() - reason.start < 3:
        return None
    return make_span(text, "REASON", reason.start, words[-1].end())
