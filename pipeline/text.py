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


def line_ends(text: str) -> list[int]:
    r"""Positions of the single line breaks of ``text`` that end a sentence or a line that
    stands alone: after sentence punctuation or a headline or byline, and before a capital
    or an opening quote.  The others wrap a line inside a sentence.  (The breaks of a blank
    line are not listed: a blank line always ends a paragraph.)

    Example:
        >>> line_ends("Peru expels a
consul.
It says so.

Next.")
        [21]
    """
    ends, prev = [], 0
    for m in _LINE_END.finditer(text):
        line = text[prev:m.start()]
        nxt = text[m.end():m.end() + 1]
        if "\n" not in line and (nxt.isupper() or nxt in "\"“‘(") \
                and (bool(re.search(r"[.!?:\"”’)]$", line.strip())) or _headline(line.strip())):
            ends.append(m.start())
        prev = m.end()
    return ends


def unwrapped(text: str) -> str:
    """``text`` with the line breaks of wrapped lines turned into spaces (same length): a
    line break ends a sentence only where :func:`line_ends` lists it; pySBD ends one at
    every line break."""
    out = list(text)
    kept = set(line_ends(text))
    for m in _LINE_END.finditer(text):
        if m.start() not in kept:
            out[m.start()] = " "
    return "".join(out)


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


# Longer texts (a whole book, a hostile 5 MB document) get the rough splitter: pySBD costs
# about a millisecond per sentence in pure Python, news articles are far below this.
LONG_TEXT = 200_000


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


def _paragraph_starts(paragraph: str) -> tuple[int, ...]:
    """Sentence starts inside one paragraph (offsets into it; its own start not listed
    unless a sentence starts there): pySBD on the paragraph with wrapped lines joined, a
    long paragraph in pieces.  Paragraphs up to :data:`CHUNK_CHARS` are cached by their
    text (boilerplate paragraphs repeat across articles; longer ones would make the cache
    large)."""
    if len(paragraph) <= CHUNK_CHARS:
        return _short_paragraph_starts(paragraph)
    return _split_paragraph(paragraph)


@lru_cache(maxsize=4096)
def _short_paragraph_starts(paragraph: str) -> tuple[int, ...]:
    return _split_paragraph(paragraph)


def _split_paragraph(paragraph: str) -> tuple[int, ...]:
    seg, flat, out = _segmenter(), unwrapped(paragraph), []
    for a, b in _chunks(paragraph, 0, len(paragraph)):
        piece = flat[a:b]
        if not piece.strip():
            continue
        out.append(a)
        out.extend(a + s.start for s in seg.segment(piece)[1:])
    return tuple(out)


class Sentences:
    r"""The sentences of a text, each paragraph split only when a position in it is asked
    about: pySBD costs about a millisecond a sentence in pure Python, and linking, the
    rules and the records need only the sentences around an event's spans.

    A blank line always ends a sentence, and a paragraph's sentences never depend on the
    other paragraphs, so :meth:`at` gives exactly the sentence that :meth:`bounds` (all of
    them, in order, covering the text) holds for the position.  A text longer than
    :data:`LONG_TEXT` characters gets the rough splitter throughout.

    Example:
        >>> s = Sentences("Peru expels a consul. He leaves.

Markets fell.")
        >>> s.at(25), s.at(40)
        ((22, 34), (34, 47))
    """

    def __init__(self, text: str):
        self.text = text
        self._all: list[tuple[int, int]] | None = None
        self._inner: dict[int, list[int]] = {}
        if len(text) > LONG_TEXT:
            self._all = rough_sentence_bounds(text)
            self._rough_starts = [a for a, _ in self._all]
            return
        self._los, self._his = [0], []
        for m in _PARAGRAPH.finditer(text):
            self._his.append(m.start())
            self._los.append(m.end())
        self._his.append(len(text))

    def _starts(self, k: int) -> list[int]:
        """The sentence starts of paragraph ``k`` (its own start first), offsets into the text."""
        got = self._inner.get(k)
        if got is None:
            lo, hi = self._los[k], self._his[k]
            got = sorted({lo, *(lo + r for r in _paragraph_starts(self.text[lo:hi]))})
            self._inner[k] = got
        return got

    def paragraph(self, pos: int) -> int:
        """The number of the blank-line paragraph holding ``pos`` (0 for a text split roughly)."""
        import bisect

        if len(self.text) > LONG_TEXT:
            return 0
        return max(bisect.bisect_right(self._los, min(pos, len(self.text) - 1)) - 1, 0)

    def at(self, pos: int) -> tuple[int, int]:
        """``[start, end)`` of the sentence holding character ``pos`` (clamped to the text)."""
        import bisect

        n = len(self.text)
        if n > LONG_TEXT:
            return self._all[max(bisect.bisect_right(self._rough_starts, pos) - 1, 0)]
        if n == 0:
            return 0, 0
        pos = min(max(pos, 0), n - 1)
        k = bisect.bisect_right(self._los, pos) - 1
        starts = self._starts(k)
        i = bisect.bisect_right(starts, pos) - 1
        end = starts[i + 1] if i + 1 < len(starts) else (self._los[k + 1] if k + 1 < len(self._los) else n)
        return starts[i], min(end, n)

    def bounds(self) -> list[tuple[int, int]]:
        """Every sentence ``[start, end)``, in order, covering the whole text."""
        if self._all is None:
            n = len(self.text)
            starts = sorted({x for k in range(len(self._los)) if self._los[k] < n for x in self._starts(k)} or {0})
            self._all = list(zip(starts, starts[1:] + [n]))
        return self._all


@lru_cache(maxsize=256)
def sentences(text: str) -> Sentences:
    """The :class:`Sentences` of ``text``, cached per text: linking, the rules and the
    records all ask about the same document's sentences."""
    return Sentences(text)


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` covering the whole text, in order (the space after a
    sentence belongs to it); a blank line always ends one.  Splits every paragraph; to ask
    about a few positions, use :func:`sentences` (``sentences(text).at(pos)``)."""
    return list(sentences(text).bounds())


def sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding character ``pos`` starts."""
    return sentences(text).at(pos)[0]


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
        >>> WordGate(r"\\boust|expel").search("a joust at the fair")     # "oust" inside a word
        False

    The pattern must use ``\\b`` only as the word-boundary assertion (not inside a
    character class, not escaped): the patterns come from code (:data:`EXPULSION_WORDS`).
    """

    def __init__(self, pattern: str):
        if re.search(r"\[[^\]]*\\b[^\]]*\]|\\\\b", pattern):
            raise ValueError(f"{pattern!r} has \\b inside a character class or escaped; WordGate drops "
                             "every \\b, so write the pattern without it there")
        self.exact = re.compile(pattern)
        self.loose = re.compile(pattern.replace(r"\b", ""))

    def search(self, lowered: str) -> bool:
        """Whether the pattern occurs in ``lowered`` (text already lower-cased)."""
        return self.loose.search(lowered) is not None and self.exact.search(lowered) is not None