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

from pipeline.baselines import Sentence, reason_clause, word_spans
from pipeline.linking import sentence_bounds
from pipeline.schema import TRIGGER, Span

# How far after a trigger an EXPELLED span may start and still push the clause search
# past it ("expels [two diplomats] for ..."), in characters.
_EXPELLED_GAP = 40
REASON_SOURCES = ("rules", "model")


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
            if reason is None:
                continue
            if any(reason.start < f.end and f.start < reason.end for f in found):
                continue
            if any(reason.start <= t.start < reason.end for t in triggers):
                continue
            found.append(reason)
    return out + found
