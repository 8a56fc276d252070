"""One conversion path from a document to model inputs, shared by train, evaluate and predict.

A document is tokenised once (fast tokenizer, character offsets kept), then cut into
overlapping windows of at most ``max_length`` tokens (special tokens included).  For
training, each window carries BIO labels on the first sub-token of every word and
``-100`` elsewhere (as in transformers' ``run_ner.py``).  Each window also records
which of its tokens it "owns", so that predictions of overlapping windows merge
without double counting: every token is owned by exactly one window.
"""

from __future__ import annotations

import bisect
import logging
import random
import re
from dataclasses import dataclass, field
from typing import Sequence

from pipeline.schema import LABELS, Document
from pipeline.text import EXPULSION_WORDS, WordGate, line_ends, rough_sentence_bounds

log = logging.getLogger(__name__)

BIO_LABELS: tuple[str, ...] = ("O", *(f"{p}-{lab}" for lab in LABELS for p in "BI"))
LABEL2ID: dict[str, int] = {lab: i for i, lab in enumerate(BIO_LABELS)}
IGNORE = -100


_SURROGATE = re.compile("[\ud800-\udfff]")


def tokenizer_text(text: str) -> str:
    """``text`` as the tokenizer can take it, with the same length, so offsets still
    index the original text.

    A lone surrogate (a broken ``\\ud800`` escape in the input) makes the Rust tokenizer
    raise ``TypeError``; each becomes U+FFFD, one code point for one.
    """
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


@dataclass
class Window:
    """A slice of a document's tokens ready for the model.

    Attributes:
        doc_index: position of the document in the batch of documents encoded.
        input_ids: ``[CLS] tokens [SEP]``, length <= max_length.
        offsets: ``(start, end)`` character offsets of each input id (``(0, 0)`` for
            special tokens).
        word_starts: per input id, True when the token is the first sub-token of a word.
        owned: per input id, True when this window's prediction for it is the one kept.
        labels: per input id, a BIO label id or -100 (only when encoded with labels).
    """

    doc_index: int
    input_ids: list[int]
    offsets: list[tuple[int, int]]
    word_starts: list[bool]
    owned: list[bool]
    labels: list[int] | None = None


@dataclass
class EncodeStats:
    """What encoding had to report: spans that do not sit on token boundaries."""

    misaligned: list[tuple[str, str, str]] = field(default_factory=list)  # (doc id, label, text)


def _word_tags(doc: Document, word_spans: list[tuple[int, int]], stats: EncodeStats) -> list[int]:
    """BIO label id per word, from the document's spans (character offsets)."""
    tags = [LABEL2ID["O"]] * len(word_spans)
    starts = {ws[0]: i for i, ws in enumerate(word_spans)}
    ends = {ws[1] for ws in word_spans}
    for span in doc.spans():
        if span.start not in starts or span.end not in ends:
            # The span cuts through a word: it cannot be learnt exactly; report it.
            stats.misaligned.append((doc.id, span.label, span.text))
        first = True
        for i, (ws, we) in enumerate(word_spans):
            if ws >= span.end:
                break
            if we > span.start:  # the word overlaps the span (ws < span.end holds here)
                tags[i] = LABEL2ID[("B-" if first else "I-") + span.label]
                first = False
    return tags


def _tokenize(text: str, tokenizer):
    """Sub-tokens with character offsets into ``text`` (no special tokens)."""
    return tokenizer(tokenizer_text(text), add_special_tokens=False, return_offsets_mapping=True,
                     return_attention_mask=False, return_token_type_ids=False, verbose=False)


def _group_words(offsets, word_ids) -> tuple[list[tuple[int, int]], list[int]]:
    """Word character spans from sub-token offsets, and each token's word index (-1: none)."""
    spans: list[tuple[int, int]] = []
    token_word: list[int] = []
    prev = None
    for (s, e), w in zip(offsets, word_ids):
        if w is not None and w != prev:
            spans.append((s, e))
        elif w is not None:
            spans[-1] = (spans[-1][0], e)
        token_word.append(len(spans) - 1 if w is not None else -1)
        prev = w
    return spans, token_word


def word_spans(text: str, tokenizer) -> list[tuple[int, int]]:
    """Character spans of the tokenizer's words (its pre-tokenisation), in order."""
    enc = _tokenize(text, tokenizer)
    return _group_words(enc["offset_mapping"], enc.word_ids())[0]


def word_tags(doc: Document, spans: list[tuple[int, int]]) -> list[str]:
    """BIO tag strings per word for the document's spans (gold or predicted)."""
    return [BIO_LABELS[i] for i in _word_tags(doc, spans, EncodeStats())]


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


# Hard-wrapped text breaks its lines before about 80 characters; a paragraph with a line
# longer than this puts one paragraph on each line.
LONG_LINE = 100


def _paragraph_line_ends(text: str, matches: list) -> list[int]:
    """:func:`pipeline.text.line_ends` of the blank-line paragraphs (between ``matches``
    of the break) that have a line longer than :data:`LONG_LINE` characters."""
    ends = line_ends(text)
    if not ends:
        return []
    bounds = [0, *(x for m in matches for x in (m.start(), m.end())), len(text)]
    out = []
    for lo, hi in zip(bounds[::2], bounds[1::2]):
        inside = ends[bisect.bisect_left(ends, lo):bisect.bisect_left(ends, hi)]
        if inside and any(len(line) > LONG_LINE for line in text[lo:hi].split("\n")):
            out.extend(inside)
    return out


def paragraph_runs(offsets: list[tuple[int, int]], text: str, lines: bool = False) -> list[tuple[int, int]]:
    r"""Token index ranges ``[a, b)`` of the paragraphs of ``text`` (blank lines between
    them; a token never spans a blank line, as whitespace separates tokens).  With
    ``lines``, a single line break that ends a sentence or a headline
    (:func:`pipeline.text.line_ends`) ends a paragraph too where the paragraph has a line
    longer than :data:`LONG_LINE` characters: many dumps put one line break between
    paragraphs, while hard-wrapped lines (shorter) break anywhere.

    Example:
        >>> paragraph_runs([(0, 4), (5, 8), (10, 13)], "Lede one\n\nTwo")
        [(0, 2), (2, 3)]
        >>> text = "Lede " + "x" * 100 + ".\nTwo"
        >>> paragraph_runs([(0, 4), (5, 106), (107, 110)], text, lines=True)
        [(0, 2), (2, 3)]
    """
    matches = list(_PARAGRAPH_BREAK.finditer(text))
    breaks = [m.start() for m in matches]
    if lines:
        breaks = sorted(breaks + _paragraph_line_ends(text, matches))
    runs, a, k = [], 0, 0
    for i, (s, _) in enumerate(offsets):
        while k < len(breaks) and breaks[k] < s:
            if i > a:
                runs.append((a, i))
                a = i
            k += 1
    if len(offsets) > a or not runs:
        runs.append((a, len(offsets)))
    return runs


_KEYWORDS = WordGate(EXPULSION_WORDS)


def has_keyword(text: str) -> bool:
    """Whether ``text`` holds a word without which no expulsion is reported
    (:data:`pipeline.text.EXPULSION_WORDS`, the document filter's gate)."""
    return _KEYWORDS.search(text.lower())


def _start(offset: tuple[int, int]) -> int:
    return offset[0]


def sentence_pieces(lo: int, hi: int, offsets: list[tuple[int, int]], text: str,
                    body: int) -> list[tuple[int, int]]:
    """Token ranges covering ``[lo, hi)``, cut between sentences: whole sentences
    (:func:`pipeline.text.rough_sentence_bounds`) packed in order into pieces of at most
    ``body`` tokens.  A run that fits is one piece; a single sentence longer than ``body``
    is a piece of its own (windowed with overlap by the caller).

    Example:
        >>> text = "One two. Three four. Five."
        >>> offs = [(0, 3), (4, 7), (7, 8), (9, 14), (15, 19), (19, 20), (21, 25), (25, 26)]
        >>> sentence_pieces(0, 8, offs, text, body=6)
        [(0, 6), (6, 8)]
    """
    if hi - lo <= body:
        return [(lo, hi)]
    a = offsets[lo][0]
    cuts = sorted({bisect.bisect_left(offsets, a + s, lo, hi, key=_start)
                   for s, _ in rough_sentence_bounds(text[a:offsets[hi - 1][1]])[1:]} - {lo, hi})
    pieces, start, last = [], lo, lo
    for t in [*cuts, hi]:
        if t - start > body and last > start:
            pieces.append((start, last))
            start = last
        last = t
    pieces.append((start, hi))
    return pieces


def encode_document(doc: Document, tokenizer, *, max_length: int, stride: int,
                    doc_index: int = 0, with_labels: bool = False,
                    stats: EncodeStats | None = None, paragraphs: bool = False,
                    keywords_only: bool = False, sentences: bool = False) -> list[Window]:
    """Tokenise a document and cut it into overlapping windows.

    Args:
        doc: the document (its events are used only when ``with_labels``).
        tokenizer: a *fast* Hugging Face tokenizer (character offsets are needed).
        max_length: window size in tokens, special tokens included.
        stride: how many tokens consecutive windows share.
        doc_index: stored on each window so predictions find their document.
        with_labels: attach BIO labels from the document's events.
        stats: collects spans that do not align with token boundaries.
        paragraphs: no window crosses a paragraph break (a blank line): each paragraph
            is windowed on its own, so an unrelated paragraph never colours what the
            model reads in another (``tagger.windows=paragraph``; docs/training.md).
        keywords_only: with ``paragraphs``, a paragraph without an expulsion word
            (:func:`has_keyword`) gets no window: the tagger does not read it
            (``tagger.paragraphs=keywords``); it can hold no trigger.
        sentences: with ``paragraphs``, a line break that ends a sentence ends a paragraph
            too (:func:`paragraph_runs` with ``lines``), and a paragraph longer than one
            window is cut between sentences into pieces of at most one window, read
            without overlap (:func:`sentence_pieces`; ``tagger.windows=sentences``); with
            ``keywords_only``, a piece without an expulsion word is not read either.

    Returns:
        At least one window (an empty text gives one window of special tokens only).
    """
    body = max_length - 2
    if body <= stride:
        raise ValueError(f"max_length ({max_length}) must exceed stride ({stride}) + 2")
    enc = _tokenize(doc.text, tokenizer)
    ids, offsets, word_ids = enc["input_ids"], enc["offset_mapping"], enc.word_ids()
    word_starts = [w is not None and (i == 0 or word_ids[i - 1] != w) for i, w in enumerate(word_ids)]

    token_labels = None
    if with_labels:
        words, token_word = _group_words(offsets, word_ids)
        tags = _word_tags(doc, words, stats or EncodeStats())
        token_labels = [tags[token_word[i]] if word_starts[i] else IGNORE for i in range(len(ids))]

    step = body - stride
    runs = paragraph_runs(offsets, doc.text, lines=sentences) if paragraphs else [(0, len(ids))]
    if paragraphs and sentences:
        runs = [piece for lo, hi in runs for piece in sentence_pieces(lo, hi, offsets, doc.text, body)]
    if paragraphs and keywords_only and len(runs) > 1:
        runs = [(lo, hi) for lo, hi in runs
                if lo < hi and has_keyword(doc.text[offsets[lo][0]:offsets[hi - 1][1]])] or runs[:1]
    windows = []
    for lo, hi in runs:
        starts = list(range(lo, max(hi - stride, lo + 1), step)) or [lo]
        windows.extend(_windows(starts, hi, body, stride, doc_index, tokenizer, ids, offsets,
                                word_starts, token_labels))
    return windows


def _windows(starts, hi, body, stride, doc_index, tokenizer, ids, offsets, word_starts, token_labels):
    """The windows of tokens ``[starts[0], hi)``, one per start, overlaps owned half and half."""
    windows = []
    for k, s in enumerate(starts):
        e = min(s + body, hi)
        # Ownership: split each overlap at its middle.
        own_from = s if k == 0 else s + stride // 2
        own_to = e if k == len(starts) - 1 else starts[k + 1] + stride // 2
        windows.append(Window(
            doc_index=doc_index,
            input_ids=[tokenizer.cls_token_id, *ids[s:e], tokenizer.sep_token_id],
            offsets=[(0, 0), *offsets[s:e], (0, 0)],
            word_starts=[False, *word_starts[s:e], False],
            owned=[False, *(own_from <= t < own_to for t in range(s, e)), False],
            labels=None if token_labels is None else [IGNORE, *token_labels[s:e], IGNORE],
        ))
    return windows


def reading(windows: str, paragraphs: str) -> dict[str, bool]:
    """The options of :func:`encode_documents` that ``tagger.windows`` and
    ``tagger.paragraphs`` stand for.

    Example:
        >>> reading("sentences", "keywords")
        {'paragraphs': True, 'keywords_only': True, 'sentences': True}
    """
    return {"paragraphs": windows in ("paragraph", "sentences"), "keywords_only": paragraphs == "keywords",
            "sentences": windows == "sentences"}


def encode_documents(docs, tokenizer, *, max_length: int, stride: int, with_labels: bool = False,
                     paragraphs: bool = False, keywords_only: bool = False,
                     sentences: bool = False) -> tuple[list[Window], EncodeStats]:
    """Encode many documents; spans that cut through words are logged, never dropped silently."""
    stats = EncodeStats()
    windows: list[Window] = []
    for i, doc in enumerate(docs):
        windows.extend(encode_document(doc, tokenizer, max_length=max_length, stride=stride,
                                       doc_index=i, with_labels=with_labels, stats=stats,
                                       paragraphs=paragraphs, keywords_only=keywords_only,
                                       sentences=sentences))
    if stats.misaligned:
        log.warning("%d span(s) do not start or end on a token boundary and are labelled on the "
                    "words they touch, e.g. %s", len(stats.misaligned), stats.misaligned[:3])
    return windows, stats


def length_batches(windows: Sequence[Window], batch_size: int, rng: random.Random | None = None) -> list[list[int]]:
    """Window indices in batches of similar length (little padding), for inference and
    training alike.

    Without ``rng`` (inference): all windows sorted longest first, cut into batches.  With
    ``rng`` (training): shuffled, cut into groups of 50 batches, sorted by length within each
    group, and the batches shuffled, so that every epoch differs.
    """
    order = list(range(len(windows)))
    if rng is None:
        return _cut(sorted(order, key=lambda i: -len(windows[i].input_ids)), batch_size)
    rng.shuffle(order)
    group = 50 * batch_size
    batches = []
    for g in range(0, len(order), group):
        batches.extend(_cut(sorted(order[g:g + group], key=lambda i: -len(windows[i].input_ids)), batch_size))
    rng.shuffle(batches)
    return batches


def _cut(order: list[int], size: int) -> list[list[int]]:
    return [order[i:i + size] for i in range(0, len(order), size)]
