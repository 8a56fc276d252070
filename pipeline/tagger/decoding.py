"""From per-word label probabilities to spans, following ANNOTATION.md's span rules.

Windows of one document (:mod:`pipeline.tagger.encoding`) give each word a probability vector
over the BIO labels; :func:`decode_spans` turns them into labelled spans (constrained
Viterbi by default), :func:`repair_spans` mends two fragmentation errors, and
:func:`without_overlaps` guarantees the output never holds overlapping spans.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from pipeline.tagger.encoding import BIO_LABELS, Window
from pipeline.schema import TRIGGER, Span

log = logging.getLogger(__name__)


def _words(windows: list[Window], probs: list[np.ndarray]):
    """(start, end, prob vector) for every word of a document, in text order."""
    words = []
    for w, p in zip(windows, probs):
        n = len(w.input_ids)
        for t in range(n):
            if not (w.word_starts[t] and w.owned[t]):
                continue
            end = w.offsets[t][1]
            u = t + 1
            while u < n and not w.word_starts[u] and w.offsets[u] != (0, 0):
                end = w.offsets[u][1]
                u += 1
            words.append((w.offsets[t][0], end, p[t]))
    words.sort(key=lambda x: x[0])
    return words


def _allowed_transitions() -> tuple[np.ndarray, np.ndarray]:
    """BIO constraints as additive scores: ``I-X`` only after ``B-X`` or ``I-X``."""
    n = len(BIO_LABELS)
    trans = np.zeros((n, n))
    first = np.zeros(n)
    for j, tag in enumerate(BIO_LABELS):
        if tag.startswith("I-"):
            first[j] = -np.inf
            for i, prev in enumerate(BIO_LABELS):
                if prev not in (f"B-{tag[2:]}", tag):
                    trans[i, j] = -np.inf
    return trans, first


_TRANS, _FIRST = _allowed_transitions()


def viterbi_tags(probs: np.ndarray) -> list[int]:
    """Most probable tag sequence (sum of log-probabilities) that is valid BIO.

    Word tags are predicted independently; taken one by one (argmax) they break a span
    whenever a middle word's best tag is ``O`` ("ten [U.S.] diplomats").  Constrained
    decoding keeps such a span whole when continuing it is the likelier reading.
    """
    if len(probs) == 0:
        return []
    logp = np.log(np.clip(probs, 1e-12, None))
    score = logp[0] + _FIRST
    back = np.zeros(probs.shape, dtype=np.int64)
    for t in range(1, len(probs)):
        cand = score[:, None] + _TRANS          # (previous tag, tag)
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[t]
    tags = [int(score.argmax())]
    for t in range(len(probs) - 1, 0, -1):
        tags.append(int(back[t, tags[-1]]))
    return tags[::-1]


def decode_spans(text: str, windows: list[Window], probs: list[np.ndarray],
                 method: str = "viterbi") -> list[Span]:
    """BIO decoding over words; a span's score is the mean probability of its tags.

    ``method="viterbi"`` (default) picks the most probable valid BIO sequence;
    ``"argmax"`` takes each word's best tag, and an ``I-X`` that does not continue an
    ``X`` span starts one (lenient BIO).  Either way a ``B-X`` adjacent to an ``X``
    span (whitespace between) extends it.
    """
    words = _words(windows, probs)
    if method == "viterbi":
        tags = viterbi_tags(np.stack([p for _, _, p in words])) if words else []
    elif method == "argmax":
        tags = [int(np.argmax(p)) for _, _, p in words]
    else:
        raise ValueError(f"decoding must be 'viterbi' or 'argmax', got {method!r}")
    spans: list[Span] = []
    cur: list | None = None  # [label, start, end, [probs]]

    def close():
        if cur is not None:
            spans.append(Span(cur[0], cur[1], cur[2], text[cur[1]:cur[2]], float(np.mean(cur[3]))))

    for (start, end, p), k in zip(words, tags):
        tag = BIO_LABELS[k]
        if tag == "O":
            close(); cur = None
            continue
        prefix, label = tag.split("-", 1)
        # Continue the open span on I-X, and also on B-X right after an X span with
        # only whitespace between: gold never has two same-label spans that close
        # ("persona non grata" predicted B B B is one trigger).
        joins = cur is not None and cur[0] == label and (
            prefix == "I" or not text[cur[2]:start].strip())
        if joins:
            cur[2] = end; cur[3].append(float(p[k]))
        else:
            close(); cur = [label, start, end, [float(p[k])]]
    close()
    return spans


# Words that are never a span on their own in the gold data (and cannot be one by the
# contract: leading prepositions and determiners alone carry no argument).
_FUNCTION_WORDS = frozenset("a an the of in for to by and on at from with that who which".split())
_CLAUSE_BREAK = re.compile(r"[.;!?()\n]")


def repair_spans(text: str, spans: list[Span], max_gap: int = 30) -> list[Span]:
    """Mend two fragmentation errors of the tagger, following ANNOTATION.md's span rules.

    - A REASON is "the whole cause clause": REASON pieces separated by a short gap
      without a clause break are one span (the tagger often drops a word or two
      inside a long clause).
    - A span that is a lone function word ("a", "the", "of") is dropped.
    """
    out: list[Span] = []
    for sp in sorted(spans, key=lambda x: x.start):
        prev = out[-1] if out else None
        if (prev is not None and prev.label == sp.label == "REASON"
                and sp.start - prev.end <= max_gap
                and not _CLAUSE_BREAK.search(text[prev.end:sp.start])):
            score = (prev.score + sp.score) / 2 if prev.score is not None and sp.score is not None else None
            out[-1] = Span("REASON", prev.start, sp.end, text[prev.start:sp.end], score)
            continue
        out.append(sp)
    return [sp for sp in out if sp.text.strip().lower() not in _FUNCTION_WORDS]


_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")
_OPENERS = {")": "(", "]": "[", "}": "{", "”": "“", "’": "‘", "»": "«"}
_QUOTES = "\"'"
# A full stop that belongs to the word before it: "U.S.", "U.K.", "Jr.", "Co.", "Gen."
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Za-z]\.){2,}|\b(?:Jr|Sr|Co|Inc|Ltd|Corp|Gen|Col|Lt|Sgt|St|Mt|No)\.)$")


def tidy_span(text: str, start: int, end: int) -> tuple[int, int]:
    r"""``[start, end)`` shrunk to what ANNOTATION.md lets a span hold (R7 of the guide): no
    whitespace or sentence punctuation at either edge, a closing quote or bracket only
    with its opener inside, and never across a paragraph break (the part before the
    first break is kept, or the first part that holds a word).  ``(start, start)`` when
    nothing is left.

    Example:
        >>> t = "expelled four Russian diplomats.\n\nAlexander Litvinenko"
        >>> s, e = tidy_span(t, 9, len(t)); t[s:e]
        'four Russian diplomats'
    """
    piece = text[start:end]
    parts = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(piece)]
    if parts:
        bounds, lo = [], 0
        for a, b in parts:
            bounds.append((lo, a))
            lo = b
        bounds.append((lo, len(piece)))
        lo, hi = next(((a, b) for a, b in bounds if re.search(r"\w", piece[a:b])), bounds[0])
        start, end = start + lo, start + hi
    while start < end:
        ch = text[start]
        if ch.isspace() or ch in ".,;:!?)]}”’»" or (ch in _QUOTES and text.count(ch, start, end) % 2 == 1):
            start += 1
        else:
            break
    while end > start:
        ch = text[end - 1]
        if ch.isspace() or ch in ",;:":
            end -= 1
        elif ch in ".!?" and not _ABBREVIATION.search(text[start:end]):
            end -= 1
        elif ch in _OPENERS and _OPENERS[ch] not in text[start:end - 1]:
            end -= 1
        elif ch in _QUOTES and text.count(ch, start, end) % 2 == 1:
            end -= 1
        elif ch in "([{“‘«":
            end -= 1
        else:
            break
    return start, end


# Words an argument never ends with (no gold argument does): "40 German diplomatic staff in"
# is "40 German diplomatic staff" (the model read on into the next phrase).
# Lower case only: "Plan A" and "Nguyen Van An" keep their last word.
_DANGLING = re.compile(r"[\s,]+(?:in|by|of|from|to|the|and|a|an|at|on|for|with|its|their|his|her|or|as)$")


def _without_dangling(text: str, start: int, end: int) -> tuple[int, int]:
    """An argument's ``[start, end)`` without trailing function words (then tidied again)."""
    while start < end and (m := _DANGLING.search(text, start, end)):
        start, end = tidy_span(text, start, m.start())
    return start, end


def tidy_spans(text: str, spans: list[Span]) -> list[Span]:
    """Every span through :func:`tidy_span` (arguments also lose a dangling function word
    at their end: ``staff in`` -> ``staff``); spans left empty are dropped."""
    out = []
    for sp in spans:
        a, b = tidy_span(text, sp.start, sp.end)
        if sp.label != TRIGGER:
            a, b = _without_dangling(text, a, b)
        if a < b:
            out.append(sp if (a, b) == (sp.start, sp.end) else Span(sp.label, a, b, text[a:b], sp.score))
    return out


def without_overlaps(doc_id: str, spans: list[Span]) -> list[Span]:
    """Spans never overlap (ANNOTATION.md); decoding cannot produce an overlap, but if a
    later step ever did, the later span is dropped with a warning rather than writing an
    output line that readers refuse (and stopping a long run on one document)."""
    kept: list[Span] = []
    for sp in sorted(spans, key=lambda s: (s.start, s.end)):
        if kept and sp.start < kept[-1].end:
            log.warning("document %s: dropped %s %r, which overlaps %s %r", doc_id, sp.label,
                        sp.text, kept[-1].label, kept[-1].text)
            continue
        kept.append(sp)
    return kept
