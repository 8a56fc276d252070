"""Who expels whom in one event: expeller codes, expelled groups and their pairs.

An event may have several EXPELLER spans ("Belgium, the Netherlands, Ireland and the
Czech Republic expel Russian diplomats") and several EXPELLED spans ("forced two
Spanish diplomats and the Mexican ambassador to leave").  Each (expeller, expelled
country) combination is one expulsion for counting, so :func:`event_parties` returns
a ``pairs`` list beside the event-level summary.

Resolution order, each step only when the previous one found nothing:

- expelled: the EXPELLED phrases (:func:`expelled_countries`); phrases without a
  country join the only country group ("the top WHO representative and three other
  experts" are all UN staff) or the group of the nearest phrase before them;
- expeller: the EXPELLER phrases (:func:`country_code`), then for a generic phrase
  ("the military alliance", "the government") the nearest earlier name of that kind
  in the document, never the expelled side;
- expelled, last: a name in the trigger's sentence outside every argument span, when
  exactly one remains after leaving out the expeller, capitals and locations ("must
  leave Burundi").  ANNOTATION.md leaves this derivation to event assembly.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.text import sentences
from pipeline.records.counts import add_counts, parse_count
from pipeline.records.countries import (country_code, expelled_countries, find_mentions,
                                        is_organisation)
from pipeline.schema import Document, Event, Span

_GENERIC_EXPELLER = re.compile(
    r"^(?:the|its|this)\s+(?:(?P<io>(?:military\s+|western\s+|defen[cs]e\s+)?alliance|bloc|"
    r"organi[sz]ation|union)|(?P<state>(?:\w+\s+)?(?:government|country|kingdom|republic|"
    r"authorities|regime|junta|state|ministry|foreign ministry)))$", re.I)
# Pronoun-like phrases whose nationality lies in another clause; the sentence
# fallback would guess, so they stay unknown.
_DEICTIC = re.compile(r"\b(?:its|their|each other|the other|respective|these|those)\b", re.I)
# Outside the EXPELLED phrase a name after these words is a place ("expelled from the
# country", "must leave Burundi"), not the nationality of the people.
_SENTENCE_LOCATION = re.compile(
    r"\b(?:in|to|at|from|leave|leaving|left|out of|into|inside|across|near)(?:\s+the)?\s*$", re.I)


def sentence_of(doc: Document, pos: int) -> tuple[int, int]:
    """``[start, end)`` of the sentence holding character ``pos``."""
    if not 0 <= pos < len(doc.text):
        return 0, len(doc.text)
    return sentences(doc.text).at(pos)


def _spans(event: Event, role: str) -> list[Span]:
    return sorted((a for a in event.arguments if a.label == role), key=lambda s: s.start)


def _expelled_groups(spans: list[Span]) -> list[dict[str, Any]]:
    """EXPELLED spans grouped by the countries they name: ``[{"codes", "spans"}]``."""
    groups: list[dict[str, Any]] = []
    loose: list[Span] = []
    for sp in spans:
        codes = expelled_countries(sp.text)
        if not codes:
            loose.append(sp)
            continue
        same = next((g for g in groups if g["codes"] == codes), None)
        if same:
            same["spans"].append(sp)
        else:
            groups.append({"codes": codes, "spans": [sp]})
    if not groups:
        return [{"codes": [], "spans": loose}] if loose else []
    for sp in loose:
        before = [g for g in groups if any(o.start < sp.start for o in g["spans"])]
        (before[-1] if before else groups[0])["spans"].append(sp)
    return groups


_DEFINITE = re.compile(r"^(?:the|these|those|this|that)\s+", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def same_people(earlier: Span, later: Span) -> bool:
    """True when ``later`` names people ``earlier`` already named: the same words, or a
    definite phrase without a number whose head noun is in the earlier phrase ("Estonia's
    ambassador Margus Laidre" ... "The ambassador"; "four Russian diplomats" ... "the
    diplomats"), not "two Spanish diplomats" ... "the Mexican ambassador".

    Example:
        >>> same_people(Span("EXPELLED", 0, 34, "Estonia's ambassador Margus Laidre"),
        ...             Span("EXPELLED", 90, 104, "The ambassador"))
        True
    """
    a, b = earlier.text.strip().lower(), later.text.strip().lower()
    if a == b:
        return True
    if not _DEFINITE.match(b) or parse_count(b)["count"] not in (None, 1) or re.search(r"\d", b):
        return False
    words = _WORD.findall(_DEFINITE.sub("", b))
    if not words or len(words) > 3:
        return False
    return _stem(words[-1]) in {_stem(w) for w in _WORD.findall(a)}


def distinct_people(spans: list[Span]) -> list[Span]:
    """``spans`` (in text order) without those naming people an earlier one named, so
    that a person is counted once."""
    out: list[Span] = []
    for sp in spans:
        if not any(same_people(o, sp) for o in out):
            out.append(sp)
    return out


def _context_expeller(span: Span, doc: Document, exclude: list[str]) -> str | None:
    """Resolve "the alliance", "the government" to the nearest earlier name of that kind."""
    m = _GENERIC_EXPELLER.match(span.text.strip())
    if not m:
        return None
    want_io = m["io"] is not None
    for men in reversed(find_mentions(doc.text[:span.start])):
        if men.code not in exclude and is_organisation(men.code) == want_io:
            return men.code
    return None


def _sentence_expelled(event: Event, doc: Document, exclude: list[str]) -> list[str]:
    """Names in the trigger's sentence outside every argument span and every location."""
    s, e = sentence_of(doc, event.trigger.start)
    covered = [(a.start, a.end) for a in event.arguments]
    codes: list[str] = []
    for men in find_mentions(doc.text[s:e]):
        a, b = s + men.start, s + men.end
        if men.kind == "capital" or any(cs <= a and b <= ce for cs, ce in covered):
            continue
        if _SENTENCE_LOCATION.search(doc.text[s:a]):
            continue
        if men.code not in exclude and men.code not in codes:
            codes.append(men.code)
    return codes


def _expellers(event: Event, doc: Document, expelled: list[str]) -> tuple[dict[str, list[str]], str | None]:
    """Expeller code -> the EXPELLER texts naming it, and where the codes came from."""
    by_code: dict[str, list[str]] = {}
    spans = _spans(event, "EXPELLER")
    for sp in spans:
        code = country_code(sp.text)
        if code:
            by_code.setdefault(code, []).append(sp.text)
    if by_code:
        return by_code, "phrase"
    for sp in spans:
        code = _context_expeller(sp, doc, expelled)
        if code:
            by_code.setdefault(code, []).append(sp.text)
    return by_code, "context" if by_code else None


def _each(event: Event, doc: Document) -> bool:
    """ "each" between the first EXPELLER and the first EXPELLED span."""
    expellers, expelled = _spans(event, "EXPELLER"), _spans(event, "EXPELLED")
    if not expellers or not expelled:
        return False
    return bool(re.search(r"\beach\b", doc.text[expellers[0].end:expelled[0].start], re.I))


def _single(codes: list[str]) -> str | None:
    return codes[0] if len(codes) == 1 else None


def event_parties(event: Event, doc: Document) -> dict[str, Any]:
    """Expeller and expelled codes of an event, its people count, and its pairs.

    Returns:
        ``expeller_country`` / ``expelled_country`` (one code, or None when unknown
        or several), ``expeller_countries`` / ``expelled_countries`` (all codes),
        their ``*_source`` (``phrase``, ``context``, ``sentence`` or None),
        ``count``/``count_min``/``count_max`` over every EXPELLED phrase, and
        ``pairs``: one dict per (expeller, expelled group) with its own codes,
        count and the EXPELLER/EXPELLED texts behind them.  With several expellers
        a pair's count is unknown (the text rarely says how the people divide
        between them) unless "each" says every expeller expels that number.
    """
    groups = _expelled_groups(_spans(event, "EXPELLED"))
    expelled = list(dict.fromkeys(c for g in groups for c in g["codes"]))
    expelled_source = "phrase" if expelled else None
    expeller_texts, expeller_source = _expellers(event, doc, expelled)
    expellers = list(expeller_texts)
    if groups and not expelled and not any(_DEICTIC.search(sp.text) for sp in groups[0]["spans"]):
        found = _sentence_expelled(event, doc, expellers)
        if len(found) == 1:  # several candidates: leave it unknown rather than guess
            groups[0]["codes"], expelled, expelled_source = found, found, "sentence"
    group_counts = [add_counts([parse_count(sp.text) for sp in distinct_people(sorted(g["spans"], key=lambda s: s.start))])
                    for g in groups]
    unknown = {"count": None, "count_min": None, "count_max": None}
    # "Germany, Poland and Sweden each expel a Russian diplomat": every expeller
    # expels the stated number, so the pairs keep it and the event adds them up.
    each = len(expellers) > 1 and _each(event, doc)
    totals = group_counts * len(expellers) if each else group_counts
    all_expeller_texts = [sp.text for sp in _spans(event, "EXPELLER")]
    pairs = [{"expeller_country": er, "expelled_country": _single(g["codes"]),
              "expelled_countries": list(g["codes"]),
              **(n if len(expellers) <= 1 or each else unknown),
              "expeller_texts": expeller_texts.get(er, all_expeller_texts),
              "expelled_texts": [sp.text for sp in g["spans"]]}
             for er in (expellers or [None])
             for g, n in zip(groups or [{"codes": [], "spans": []}], group_counts or [unknown])]
    return {"expeller_country": _single(expellers), "expeller_countries": expellers,
            "expeller_country_source": expeller_source,
            "expelled_country": _single(expelled), "expelled_countries": expelled,
            "expelled_country_source": expelled_source,
            **add_counts(totals), "pairs": pairs}
