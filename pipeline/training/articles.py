"""Portal items laid out as news articles, labels kept (training and evaluation alike).

The gold corpus is one-paragraph summaries; users feed articles.  :func:`compose_article`
turns a gold item and a few items of the same weeks into one article-shaped document:

- a Title-Case **headline** restating the main item's first expulsion ("Poland Expels 45
  Russian Diplomats"), itself an event mention with its EXPELLER, trigger and EXPELLED,
  as the annotation guide has headlines; a headline of the first words when the main
  item has no event;
- sometimes a **byline** ("By Staff Reporter");
- a **dateline** before the lede ("WARSAW, March 23 (Wire) - ");
- the items as **paragraphs** (blank lines between), their source attributions
  ("(BBC) (Reuters)") taken off as articles have none;
- **curly quotes and apostrophes** and **wrapped lines** (a space becomes a line break
  about every 70 characters), both of the same length as what they replace.

Every span moves with its text and the result is checked against the contract (None when
a check fails).  Training uses it as an augmentation (``augment.articles``); the
composite-article cross-validation (:mod:`pipeline.evaluation.crossval`) formats each held-out fold
with it, with another seed.

Example:
    >>> import random
    >>> doc = compose_article(main, others, random.Random(0))         # doctest: +SKIP
    >>> print(doc.text[:60])                                          # doctest: +SKIP
    Poland Expels 45 Russian Diplomats

    WARSAW, March 23 (Wire) - Poland expels ...
"""

from __future__ import annotations

import random
import re
from datetime import date as Date
from typing import Sequence

from pipeline.errors import CorpusError
from pipeline.schema import TRIGGER, Document, Event, Span, validate_document

_SOURCES = re.compile(r"(?:\s*\((?:[^()]|\([^()]*\))*\))+\s*$")
_SMALL = frozenset("a an and as at by for from in of on or over the to with".split())
_CITIES = ["LONDON", "BRUSSELS", "GENEVA", "WASHINGTON", "MOSCOW", "NEW YORK", "VIENNA", "PARIS"]
_MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]
WRAP = 70


def title_case(text: str) -> str:
    """Headline case of the same length: every word capitalised but short function words
    after the first ("Poland expels 45 Russian diplomats over spying" -> "Poland Expels
    45 Russian Diplomats over Spying")."""
    out = list(text)
    for i, m in enumerate(re.finditer(r"[^\W\d_][\w'’-]*", text)):
        if i == 0 or m.group().lower() not in _SMALL:
            out[m.start()] = text[m.start()].upper()
    return "".join(out)


def _body(doc: Document) -> int:
    """Where the item's text ends once its trailing source attributions are taken off
    (never inside or before a span)."""
    m = _SOURCES.search(doc.text)
    if not m:
        return len(doc.text)
    last = max((s.end for s in doc.spans()), default=0)
    return max(m.start(), last)


def _headline(doc: Document) -> tuple[str, list[Event]]:
    """A headline for ``doc`` and its event (spans relative to the headline)."""
    for ev in doc.events:
        args = {a.label: a for a in ev.arguments}
        er, ed = args.get("EXPELLER"), args.get("EXPELLED")
        if er is None or ed is None or not er.end <= ev.trigger.start < ev.trigger.end <= ed.start:
            continue
        lo, hi = er.start, ed.end
        if hi - lo > 90 or re.search(r"[.;\n]", doc.text[lo:hi]):
            continue
        inside = [s for s in doc.spans() if lo <= s.start and s.end <= hi]
        if any(s.key not in {er.key, ev.trigger.key, ed.key} for s in inside):
            continue
        text = title_case(doc.text[lo:hi])
        shift = [(s, Span(s.label, s.start - lo, s.end - lo, text[s.start - lo:s.end - lo])) for s in (er, ed)]
        trig = Span(TRIGGER, ev.trigger.start - lo, ev.trigger.end - lo,
                    text[ev.trigger.start - lo:ev.trigger.end - lo])
        return text, [Event(trig, [b for _, b in shift])]
    words = doc.text[:_body(doc)].split()[:8]
    first = " ".join(words).rstrip(".,;:")
    if any(s.start < len(first) for s in doc.spans()):
        return "", []                       # the first words hold spans: no headline
    return title_case(first), []


def _dateline(doc: Document, rng: random.Random) -> str:
    from pipeline.records.countries import country_code, surface_forms

    city = None
    for ev in doc.events:
        for a in ev.arguments:
            if a.label == "EXPELLER":
                cap = surface_forms().get(country_code(a.text) or "", {}).get("capital")
                if cap:
                    city = cap[0].upper()
                    break
        if city:
            break
    city = city or rng.choice(_CITIES)
    try:
        d = Date.fromisoformat(str(doc.date)[:10])
        when = f", {_MONTHS[d.month - 1]} {d.day}"
    except ValueError:
        when = ""
    return f"{city}{when} (Wire) {rng.choice(['-', '—', '–'])} "


def _curly(text: str) -> str:
    """Straight quotes and apostrophes as typeset news has them (same length)."""
    out, open_quote = list(text), True
    for i, ch in enumerate(text):
        if ch == '"':
            out[i] = "“" if open_quote else "”"
            open_quote = not open_quote
        elif ch == "'" and 0 < i and text[i - 1].isalpha():
            out[i] = "’"
    return "".join(out)


def _wrap(text: str, start: int, rng: random.Random) -> str:
    """Spaces after ``start`` become line breaks about every ``WRAP`` characters, inside
    paragraphs only (same length)."""
    out, col = list(text), 0
    for i in range(start, len(text)):
        if text[i] == "\n":
            col = 0
        elif text[i] == " " and col >= WRAP - rng.randint(0, 12):
            out[i], col = "\n", 0
        else:
            col += 1
    return "".join(out)


def compose_article(main: Document, others: Sequence[Document], rng: random.Random, *,
                    curly: float = 0.7, wrap: float = 0.4, byline: float = 0.3) -> Document | None:
    """One article: a headline, a dateline, ``main`` as the lede and ``others`` as later
    paragraphs, every span moved with its text; None when the result breaks the contract.

    Args:
        main: the lede's item; its date is the article's.
        others: items for the later paragraphs, in order.
        rng: the source of every random choice.
        curly, wrap, byline: the chance of curly quotes, wrapped lines and a byline.
    """
    head, head_events = _headline(main)
    pieces: list[tuple[str, Document | None]] = []
    if head:
        pieces += [(head, None), ("\n\n", None)]
    if rng.random() < byline:
        pieces += [("By " + rng.choice(["Staff Reporter", "Our Correspondent", "Wire Staff"]), None),
                   ("\n\n", None)]
    pieces.append((_dateline(main, rng), None))
    for k, doc in enumerate([main, *others]):
        if k:
            pieces.append(("\n\n", None))
        pieces.append((doc.text[:_body(doc)], doc))
    text, events, pos, body_start = "", [], 0, None
    for piece, doc in pieces:
        if doc is not None:
            body_start = pos if body_start is None else body_start
            for ev in doc.events:
                events.append(Event(_moved(ev.trigger, pos), [_moved(a, pos) for a in ev.arguments]))
        text += piece
        pos += len(piece)
    if rng.random() < curly:
        text = _curly(text)
    if rng.random() < wrap:
        text = _wrap(text, body_start or 0, rng)
    events = head_events + events
    events = [Event(_sliced(ev.trigger, text), [_sliced(a, text) for a in ev.arguments]) for ev in events]
    out = Document(f"{main.id}#article", text, events,
                   {"date": main.date, "augmented": True, "article_of": [main.id, *(d.id for d in others)]})
    try:
        validate_document(out)
    except CorpusError:
        return None
    return out


def _moved(s: Span, by: int) -> Span:
    return Span(s.label, s.start + by, s.end + by, s.text, s.score)


def _sliced(s: Span, text: str) -> Span:
    return Span(s.label, s.start, s.end, text[s.start:s.end], s.score)


def neighbours(main: Document, pool: Sequence[Document], k: int, rng: random.Random,
               days: int = 21) -> list[Document]:
    """``k`` items of ``pool`` dated within ``days`` of ``main`` (other ones when too few),
    never ``main`` itself."""
    try:
        d0 = Date.fromisoformat(str(main.date)[:10])
    except ValueError:
        d0 = None
    near, far = [], []
    for d in pool:
        if d.id == main.id:
            continue
        try:
            close = d0 is not None and abs((Date.fromisoformat(str(d.date)[:10]) - d0).days) <= days
        except ValueError:
            close = False
        (near if close else far).append(d)
    picked = rng.sample(near, min(k, len(near)))
    if len(picked) < k and far:
        picked += rng.sample(far, min(k - len(picked), len(far)))
    return picked


def articles_of(docs: Sequence[Document], rng: random.Random, per_article: tuple[int, int] = (3, 5)
                ) -> list[Document]:
    """Every document of ``docs`` in exactly one article (consecutive in date order, ``3``
    to ``5`` items each): the composite-article evaluation, where each gold event is
    scored once.  An article that cannot be composed keeps its items as they are."""
    ordered = sorted(docs, key=lambda d: (str(d.date), d.id))
    out, i = [], 0
    while i < len(ordered):
        n = rng.randint(*per_article)
        group = ordered[i:i + n]
        i += n
        doc = compose_article(group[0], group[1:], rng)
        out.extend([doc] if doc is not None else group)
    return out
