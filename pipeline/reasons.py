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
from bisect import bisect_left

from pipeline.baselines.lexicon import Sentence, reason_clause, word_spans
from pipeline.text import sentence_bounds
from pipeline.schema import TRIGGER, Span, make_span

# How far after a trigger an EXPELLED span may start and still push the clause search
# past it ("expels [two diplomats] for ..."), in characters.
_EXPELLED_GAP = 40
_WORD = re.compile(r"\w[\w'’-]*")
# Words a clause cut short must not end on (a cut clause ending "... the" is no clause).
_TRAILING = frozenset("a an the of in on at to for from by with since between and or but "
                      "its their his her after over against".split())


def rule_reasons(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` with REASON spans drawn by the clause rule from each trigger.

    A clause that holds a trigger, or overlaps one already found, is skipped; one that runs
    into another of the model's spans is cut short before it.  Linear in the number of
    spans and sentences (a 5 MB document with 100,000 spans stays fast).
    """
    out = sorted((s for s in spans if s.label != "REASON"), key=lambda s: (s.start, s.end))
    triggers = [s for s in out if s.label == TRIGGER]
    if not triggers:
        return out
    trig_starts = [t.start for t in triggers]
    expelled = [s for s in out if s.label == "EXPELLED"]
    exp_starts = [e.start for e in expelled]
    out_starts = [s.start for s in out]
    words = word_spans(text)
    word_starts = [w[0] for w in words]
    found: list[Span] = []
    for ss, se in sentence_bounds(text):
        lo, hi = bisect_left(trig_starts, ss), bisect_left(trig_starts, se)
        if lo == hi:
            continue
        sent = Sentence(text, ss, se, words[bisect_left(word_starts, ss):bisect_left(word_starts, se)])
        for trig in triggers[lo:hi]:
            after = trig.end
            k = bisect_left(exp_starts, trig.end)     # the first EXPELLED starting after the trigger
            if k < len(expelled) and expelled[k].start < se and expelled[k].start - trig.end <= _EXPELLED_GAP:
                after = max(after, expelled[k].end)
            reason = reason_clause(sent, after)
            if reason is None or bisect_left(trig_starts, reason.start) < bisect_left(trig_starts, reason.end):
                continue    # "in response to the expulsion of ...": another event, not a cause clause
            reason = _clear_of(text, reason, out, out_starts)
            if reason is None or (found and reason.start < found[-1].end and found[-1].start < reason.end):
                continue
            found.append(reason)
    return out + found


def _clear_of(text: str, reason: Span, others: list[Span], starts: list[int]) -> Span | None:
    """The clause cut short before the first of the model's spans it runs into (the
    model's spans win: spans never overlap); None when nothing of it is left.
    ``others`` are sorted, non-overlapping spans and ``starts`` their starts."""
    i = bisect_left(starts, reason.start)
    if i > 0 and others[i - 1].end > reason.start:
        return None                 # a span covers the clause's start
    if i == len(others) or others[i].start >= reason.end:
        return reason
    end = others[i].start
    words = [m for m in _WORD.finditer(text, reason.start, end) if m.end() <= end]
    while words and words[-1].group(0).lower() in _TRAILING:
        words.pop()      # "... between the two countries since" -> "... between the two countries"
    if not words or words[-1].end() - reason.start < 3:
        return None
    return make_span(text, "REASON", reason.start, words[-1].end())
