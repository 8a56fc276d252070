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
from dataclasses import dataclass

from pipeline.text import sentences
from pipeline.schema import TRIGGER, Span, make_span


# The clause rule, shared with the lexicon baseline (pipeline.baselines.lexicon).

WORD_RE = re.compile(r"\w+|[^\w\s]")

def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` (``\\w+`` runs and single symbols)."""
    return [m.span() for m in WORD_RE.finditer(text)]


# --------------------------------------------------------------------------- lexicons

_NUMBER = (r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
           r"fifteen|twenty|thirty|forty|forty-eight|seventy-two|several|few)")

_DURATION = rf"(?:{_NUMBER}\s+(?:hours?|days?|weeks?|months?))"

CAUSE_RE = re.compile(
    r"\b(?:in response to|in retaliation for|in order to|because of|due to|for|over|after|amid|"
    r"following|as (?:a |an )?(?:\w+ )?(?:measure|reaction|response|punishment) (?:to|for)|"
    r"on(?=\s+(?:suspicion|charges|allegations|grounds))|in(?=\s+(?:a|the)\s+(?:\w+\s+)?(?:row|dispute|spat)))"
    r"\s+|(?=\baccus(?:ing|ed)\b)", re.I)
# A cause that opens the sentence: "Following an attack on the embassy, Britain expels ..."

LEADING_CAUSE_RE = re.compile(
    r"\W*(?:in response to|in retaliation for|following|after|citing|amid|over)\s+(?P<v>[^,]{3,200}),",
    re.I)

@dataclass
class Sentence:
    """A sentence of a document and its words, for scanning left and right of a trigger."""

    text: str
    start: int
    end: int
    words: list[tuple[int, int]]

    def word(self, i: int) -> str:
        s, e = self.words[i]
        return self.text[s:e]

    def index_at(self, pos: int) -> int:
        """Index of the first word starting at or after ``pos`` (``len(words)`` if none)."""
        return next((i for i, (s, _) in enumerate(self.words) if s >= pos), len(self.words))

    def span(self, label: str, i: int, j: int) -> Span | None:
        """Span from word ``i`` to word ``j`` inclusive, or None when empty."""
        if i > j or i < 0 or j >= len(self.words):
            return None
        return make_span(self.text, label, self.words[i][0], self.words[j][1])

_REASON_END = re.compile(r"[;(\[]|\s\"?\(|,\s+(?:and|but|while|saying|says|said|according|which|"
                         r"who|as|whereas|although|though)\b|$")

_CAUSE_MAX = 200   # characters: the longest causal phrase CAUSE_RE matches, spaces included

def reason_clause(sent: Sentence, after: int) -> Span | None:
    """REASON: the clause after the first causal word within 80 characters of ``after``."""
    # A causal word must start within 80 characters: search no further than that (plus the
    # length of the longest causal phrase), or a long sentence costs a scan per trigger.
    m = CAUSE_RE.search(sent.text, after, min(sent.end, after + 80 + _CAUSE_MAX))
    if not m or m.start() - after > 80:
        lead = LEADING_CAUSE_RE.match(sent.text, sent.start)
        return trimmed_span(sent.text, *lead.span("v"), "REASON") if lead and lead.end() <= after else None
    start = m.end()
    end_m = _REASON_END.search(sent.text, start + 1, sent.end)
    end = end_m.start() if end_m else sent.end
    span = trimmed_span(sent.text, start, end, "REASON")
    if span is None or re.fullmatch(_DURATION, span.text, re.I):
        return None
    return span

def trimmed_span(text: str, start: int, end: int, label: str) -> Span | None:
    """Span without edge spaces and punctuation; quotes go only when they wrap the whole span."""
    while end > start and text[end - 1] in " ,:.":
        end -= 1
    while start < end and text[start] == " ":
        start += 1
    if end - start >= 2 and text[start] in "\"“‘'" and text[end - 1] in "\"”’'":
        start, end = start + 1, end - 1
    return make_span(text, label, start, end) if end - start >= 3 else None

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
    sents = sentences(text)
    for ss, se in sorted({sents.at(t.start) for t in triggers}):     # the sentences with a trigger
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
