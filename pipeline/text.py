"""Sentences of a news text, for linking, the REASON rule, event records and reports.

:func:`sentence_bounds` splits with pySBD (Sadvilkar & Neumann 2020, a maintained,
rule-based, pure-Python segmenter) inside each paragraph, so that "U.S.", "Mr.", "Gen."
and "George W. Bush" do not end a sentence and a quotation's full stop does not cut it,
while a blank line always does (a headline, a dateline, a new paragraph) and a wrapped
line's break does not (:func:`unwrapped`); a paragraph of
over 2,000 characters is cut into pieces at the rough splitter's ends first, which keeps
the time linear.
:func:`rough_sentence_bounds` is the old one-regex splitter, kept where speed matters more
than abbreviations (the document filter cuts long texts into pieces with it).

Example:
    >>> text = "The U.S. expels two Russian diplomats. Moscow vows to respond."
    >>> [text[a:b] for a, b in sentence_bounds(text)]
    ['The U.S. expels two Russian diplomats. ', 'Moscow vows to respond.']
"""

from __future__ import annotations

import re
from functools import lru_cache

# Month and weekday names as news writes them (regex fragments shared by the rules that
# read dates: the lexicon baseline and the deadline rules of pipeline/events/consistency.py).
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|"
         r"November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)")
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_SENT_END = re.compile(r"[.!?][\"”’')]?\s+(?=[A-Z\"“‘'(\[])|\n\s*\n")
_PARAGRAPH = re.compile(r"\n\s*\n")


def rough_sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` covering the text, by one regex (fast; ends a
    sentence after "U.S." or "Mr." too)."""
    bounds, start = [], 0
    for m in _SENT_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


_LINE_END = re.compile(r"\n(?![ \t\r\f\v]*\n)")


def _headline(line: str) -> bool:
    """A line that stands alone: a Title-Case headline or a byline ("By Jane Doe")."""
    words = re.findall(r"[^\W\d_][\w'’-]*", line)
    if not words or len(words) > 20:
        return False
    caps = sum(w[0].isupper() for w in words if w.lower() not in _SMALL)
    return line.startswith("By ") or caps >= 0.7 * max(1, sum(w.lower() not in _SMALL for w in words))


_SMALL = frozenset("a an and as at by for from in of on or over the to with".split())


def unwrapped(text: str) -> str:
    """``text`` with the line breaks of wrapped lines turned into spaces (same length): a
    line break ends a sentence only after sentence punctuation or a stand-alone line (a
    headline, a byline), and before a capital; pySBD ends one at every line break."""
    out = list(text)
    prev = 0
    for m in _LINE_END.finditer(text):
        line = text[prev:m.start()].strip()
        nxt = text[m.end():m.end() + 1]
        ends = bool(re.search(r"[.!?:\"”’)]$", line)) or _headline(line)
        if not (ends and (nxt.isupper() or nxt in "\"“‘(")):
            out[m.start()] = " "
        prev = m.end()
    return "".join(out)


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


# Longer texts (a whole book, a hostile 5 MB document) get the rough splitter: pySBD costs
# about a millisecond per sentence in pure Python, news articles are far below this.
LONG_TEXT = 200_000


@lru_cache(maxsize=256)
def _sentence_bounds(text: str) -> tuple[tuple[int, int], ...]:
    if len(text) > LONG_TEXT:
        return tuple(rough_sentence_bounds(text))
    starts = [0]
    paragraphs, lo = [], 0
    for m in _PARAGRAPH.finditer(text):
        paragraphs.append((lo, m.start()))
        lo = m.end()
        starts.append(lo)
    paragraphs.append((lo, len(text)))
    seg = _segmenter()
    flat = unwrapped(text)
    for a, b in (chunk for p in paragraphs for chunk in _chunks(text, *p)):
        piece = flat[a:b]
        if not piece.strip():
            continue
        starts.append(a)
        for s in seg.segment(piece)[1:]:
            starts.append(a + s.start)
    starts = sorted({s for s in starts if s < len(text)} or {0})
    return tuple(zip(starts, starts[1:] + [len(text)]))


# pySBD's time grows with the square of what it is given (2,000 sentences in one paragraph:
# 15 s), so a long paragraph is given to it in pieces of about this many characters, cut
# where the rough splitter ends a sentence.
CHUNK_CHARS = 2000


def _chunks(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    if hi - lo <= CHUNK_CHARS:
        return [(lo, hi)]
    out, start = [], lo
    for a, b in rough_sentence_bounds(text[lo:hi]):
        if lo + b - start > CHUNK_CHARS and lo + a > start:
            out.append((start, lo + a))
            start = lo + a
    out.append((start, hi))
    return out


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` covering the whole text, in order (the space after a
    sentence belongs to it); a blank line always ends one.  Cached per text: linking, the
    REASON rule and the records all ask for the same document's sentences."""
    return list(_sentence_bounds(text))


@lru_cache(maxsize=256)
def sentence_starts(text: str) -> tuple[int, ...]:
    """The start offsets of :func:`sentence_bounds`, cached, for ``bisect`` look-ups (a long
    document asks for the sentence of every span)."""
    return tuple(a for a, _ in _sentence_bounds(text))


def sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding character ``pos`` starts."""
    import bisect

    starts = sentence_starts(text)
    return starts[max(bisect.bisect_right(starts, pos) - 1, 0)]


# Words without which a text cannot report an expulsion, matched against lower-cased text:
# the document filter's keyword gate ("keywords-1", pipeline/batch/docfilter.py) and the
# tagger's choice of paragraphs to read (tagger.paragraphs=keywords).
EXPULSION_WORDS = (r"expel|expul|persona non.grata|diplomat|embass|envoy|ambassador|consul|attach[eé]|"
                   r"charg[eé]s? d|leave the country|\bto leave\b|kick\w* out|\boust|deport")


class WordGate:
    """A pattern of words, searched in two steps: first with its ``\\b`` assertions left
    out (a looser pattern that the regex engine scans several times faster, as every
    branch then starts with a letter), then, only where that matches, the pattern itself.
    The answer is the pattern's own.

    Example:
        >>> WordGate(r"\\boust|expel").search("the house was sold")
        False
    """

    def __init__(self, pattern: str):
        self.exact = re.compile(pattern)
        self.loose = re.compile(pattern.replace(r"\b", ""))

    def search(self, lowered: str) -> bool:
        """Whether the pattern occurs in ``lowered`` (text already lower-cased)."""
        return self.loose.search(lowered) is not None and self.exact.search(lowered) is not None