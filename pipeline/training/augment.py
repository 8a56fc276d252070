"""Label-preserving augmentation of training documents (``augment.enabled=true``).

Each positive repeat of an epoch can be a fresh variant of its gold document, in the
spirit of Dai & Adel (COLING 2020), "An Analysis of Simple Data Augmentation for Named
Entity Recognition" (mention replacement helps most with small training sets):

- **countries**: the states and organisations a document names are swapped for others,
  consistently (every "Russia", "Russian", "Moscow" of the document becomes "Latvia",
  "Latvian", "Riga"; a plural demonym only where the new state has one), using the tables
  of :mod:`pipeline.records.countries`; a state named through its government ("the
  Kremlin", "Putin") is left as it is, and "the" is kept right ("the United States" is
  swapped only for a state that takes "the");
- **counts**: the number of expelled people ("two Russian diplomats" -> "seven ..."),
  plural for plural, words for words, digits for digits;
- **dates**: months, days and hour or day counts inside TIME and DEADLINE spans;
- **triggers**: a verb trigger directly followed by its EXPELLED span is rewritten into a
  form the annotation guide accepts and the corpus has few of: ``expels X`` ->
  ``orders X to leave`` (trigger *orders*), ``declares X persona non grata`` (trigger
  *persona non grata*), ``announces the expulsion of X`` (trigger *expulsion*),
  ``is expelling X`` (trigger *expelling*), or ``gives X 72 hours to leave`` (trigger
  *gives*, a DEADLINE span added), in the tense of the original;
- **deadlines**: a clause stating by when the expelled must leave is appended to the
  sentence of a trigger without a DEADLINE ("; they must leave by October 31", "and
  ordered them to leave within 72 hours", "giving them until March 10 to leave"), the
  DEADLINE linked to that trigger and no trigger on "ordered" / "gave" / "told";
- **articles** (``augment.articles``, with a pool of training documents): the variant is
  laid out as a news article with one to three items of the same weeks as later
  paragraphs, a headline, a dateline, curly quotes and wrapped lines
  (:mod:`pipeline.training.articles`).

Every rewrite is an edit of the text; spans before, after and around an edit move with
it, a span an edit replaces becomes the new text, and the result is validated against
the contract (text slices, no overlaps) or dropped.  Augmented documents are training
data only: they are never written into ``data/``, never scored, and their ids end in
``#aug``.

Example:
    >>> import random
    >>> from pipeline.config import AugmentConfig
    >>> aug = Augmenter(AugmentConfig(enabled=True, countries=1, counts=0, dates=0, triggers=0))
    >>> doc = ...                                            # doctest: +SKIP
    >>> aug(doc, random.Random(1)).text                      # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.errors import CorpusError
from pipeline.schema import Document, Event, Span, validate_document

SpanKey = tuple[str, int, int]


# ------------------------------------------------------------------------------- edits


@dataclass
class Edit:
    """Replace ``text[start:end]`` by ``new``.

    Attributes:
        place: original spans (by key) that move into the new text, at ``(start, end)``
            relative to it (a trigger that moves: "expels" -> "declares ... persona non grata").
        keep: False when a span the edit replaces exactly should *not* become the new
            text (it is placed elsewhere by another edit).
        add: new argument spans ``(role, start, end)`` relative to the new text, linked to
            the event of the trigger ``attach``.
    """

    start: int
    end: int
    new: str
    place: dict[SpanKey, tuple[int, int]] = field(default_factory=dict)
    keep: bool = True
    add: list[tuple[str, int, int]] = field(default_factory=list)
    attach: SpanKey | None = None


def _crosses(e: Edit, s: Span) -> bool:
    """The edit cuts into the span without being inside it or being it."""
    if e.end <= s.start or e.start >= s.end:
        return False                                      # outside (touching is outside)
    if s.start <= e.start and e.end <= s.end:
        return False                                      # inside or exactly it
    return True


def apply_edits(doc: Document, edits: list[Edit]) -> Document | None:
    """The document with ``edits`` applied and every span moved with them; None when the
    edits overlap each other, cut into a span, or leave a span that breaks the contract."""
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    if any(a.end > b.start for a, b in zip(edits, edits[1:])):
        return None
    spans = doc.spans()
    if any(_crosses(e, s) for e in edits for s in spans):
        return None
    pieces, pos, new_start = [], 0, {}
    for e in edits:
        pieces.append(doc.text[pos:e.start])
        new_start[id(e)] = sum(map(len, pieces))
        pieces.append(e.new)
        pos = e.end
    pieces.append(doc.text[pos:])
    text = "".join(pieces)

    def shift(p: int, at_end: bool) -> int:
        """Where an original span start (or end) lands: moved by every edit before it.  An
        insertion exactly at a span's start is before the span, one at its end after it."""
        before = (lambda e: e.end < p or (e.end == p and e.start < p)) if at_end else (lambda e: e.end <= p)
        return p + sum(len(e.new) - (e.end - e.start) for e in edits if before(e))

    placed = {k: (new_start[id(e)] + a, new_start[id(e)] + b) for e in edits for k, (a, b) in e.place.items()}

    def moved(s: Span) -> Span | None:
        if s.key in placed:
            a, b = placed[s.key]
        else:
            exact = [e for e in edits if (e.start, e.end) == (s.start, s.end) and e.start < e.end]
            if exact and not exact[0].keep:
                return None
            a, b = (new_start[id(exact[0])], new_start[id(exact[0])] + len(exact[0].new)) if exact \
                else (shift(s.start, False), shift(s.end, True))
        return Span(s.label, a, b, text[a:b], s.score)

    events = []
    for ev in doc.events:
        trig = moved(ev.trigger)
        if trig is None:
            return None
        args = [m for m in (moved(a) for a in ev.arguments) if m is not None]
        for e in edits:
            if e.attach == ev.trigger.key:
                args += [Span(r, new_start[id(e)] + a, new_start[id(e)] + b,
                              text[new_start[id(e)] + a:new_start[id(e)] + b]) for r, a, b in e.add]
        events.append(Event(trig, args, dict(ev.extra)))
    out = Document(doc.id, text, events, dict(doc.meta))
    try:
        validate_document(out)
    except CorpusError:
        return None
    return out


# --------------------------------------------------------------------------- countries

# States that the swap may bring in: the name as news writes it, and whether it takes "the".
TARGET_STATES: dict[str, tuple[str, bool]] = {
    "RUS": ("Russia", False), "CHN": ("China", False), "IRN": ("Iran", False), "POL": ("Poland", False),
    "DEU": ("Germany", False), "FRA": ("France", False), "ITA": ("Italy", False), "ESP": ("Spain", False),
    "UKR": ("Ukraine", False), "BLR": ("Belarus", False), "LTU": ("Lithuania", False),
    "LVA": ("Latvia", False), "EST": ("Estonia", False), "CZE": ("Czech Republic", True),
    "SVK": ("Slovakia", False), "HUN": ("Hungary", False), "ROU": ("Romania", False),
    "BGR": ("Bulgaria", False), "MDA": ("Moldova", False), "GEO": ("Georgia", False),
    "ARM": ("Armenia", False), "AZE": ("Azerbaijan", False), "TUR": ("Turkey", False),
    "ISR": ("Israel", False), "EGY": ("Egypt", False), "SDN": ("Sudan", False), "ETH": ("Ethiopia", False),
    "KEN": ("Kenya", False), "NGA": ("Nigeria", False), "MLI": ("Mali", False), "VEN": ("Venezuela", False),
    "BOL": ("Bolivia", False), "ECU": ("Ecuador", False), "PER": ("Peru", False), "COL": ("Colombia", False),
    "MEX": ("Mexico", False), "NIC": ("Nicaragua", False), "CUB": ("Cuba", False), "CAN": ("Canada", False),
    "AUS": ("Australia", False), "JPN": ("Japan", False), "PRK": ("North Korea", False),
    "KOR": ("South Korea", False), "MYS": ("Malaysia", False), "PAK": ("Pakistan", False),
    "IND": ("India", False), "SYR": ("Syria", False), "LBN": ("Lebanon", False), "IRQ": ("Iraq", False),
    "LBY": ("Libya", False), "NLD": ("Netherlands", True), "BEL": ("Belgium", False),
    "AUT": ("Austria", False), "SWE": ("Sweden", False), "NOR": ("Norway", False), "DNK": ("Denmark", False),
    "FIN": ("Finland", False), "GRC": ("Greece", False), "SRB": ("Serbia", False),
    "MNE": ("Montenegro", False), "KAZ": ("Kazakhstan", False), "USA": ("United States", True),
    "GBR": ("United Kingdom", True),
}
TARGET_ORGS: dict[str, tuple[str, str]] = {   # acronym, full name
    "NATO": ("NATO", "North Atlantic Treaty Organization"), "EU": ("EU", "European Union"),
    "UN": ("UN", "United Nations"), "OSCE": ("OSCE", "Organization for Security and Co-operation in Europe"),
    "AU": ("AU", "African Union"), "OAS": ("OAS", "Organization of American States"),
}


@lru_cache(maxsize=1)
def _state_forms() -> dict[str, dict[str, str]]:
    """Per target state: ``name``, ``demonym``, ``demonyms`` (plural, where the tables have
    one) and ``capital``; states missing a demonym or capital are left out."""
    from pipeline.records.countries import surface_forms

    forms = surface_forms()
    out = {}
    for code, (name, _) in TARGET_STATES.items():
        f = forms.get(code, {})
        dem, cap = f.get("demonym", []), f.get("capital", [])
        if dem and cap:
            plural = dem[0] + "s" if dem[0] + "s" in dem else None
            out[code] = {"name": name, "demonym": dem[0], "demonyms": plural, "capital": cap[0]}
    return out


def _with_article(text: str, start: int) -> bool:
    return bool(re.search(r"\bthe\s+$", text[max(0, start - 5):start], re.IGNORECASE))


_SWAPPABLE = {"name", "demonym", "capital", "organisation"}


def country_edits(doc: Document, rng) -> list[Edit]:
    """Edits that swap each state or organisation the document names for another one."""
    from pipeline.records.countries import find_mentions

    # Names inside parentheses are mostly sources ("(New Zealand Herald)"): left alone,
    # with every other mention of their code.
    brackets = [(m.start(), m.end()) for m in re.finditer(r"\([^()]*\)", doc.text)]
    by_code: dict[str, list] = {}
    for m in find_mentions(doc.text):
        by_code.setdefault(m.code, []).append(m)
    by_code = {c: ms for c, ms in by_code.items()
               if not any(a <= m.start < b for m in ms for a, b in brackets)}
    used = set(by_code)
    states = _state_forms()
    edits: list[Edit] = []
    for code, ms in by_code.items():
        kinds = {m.kind for m in ms}
        if not kinds <= _SWAPPABLE:
            continue                          # named through its government ("Putin"): keep
        if kinds == {"organisation"}:
            if code not in TARGET_ORGS or any(doc.text[m.start:m.end] not in TARGET_ORGS[code] for m in ms):
                continue                      # a sub-agency ("UNHCR"), not the organisation itself
            the = any(_with_article(doc.text, m.start) for m in ms)
            choices = [c for c in TARGET_ORGS if c not in used and not (the and c == "NATO")]
            if not choices:
                continue
            target = rng.choice(choices)
            used.add(target)
            for m in ms:
                acronym = doc.text[m.start:m.end] == TARGET_ORGS[code][0]
                edits.append(Edit(m.start, m.end, TARGET_ORGS[target][0 if acronym else 1]))
            continue
        if "organisation" in kinds:
            continue
        articles = {_with_article(doc.text, m.start) for m in ms if m.kind == "name"}
        if len(articles) > 1:
            continue                          # "the United States" and "United States" both
        plural = any(m.kind == "demonym" and doc.text[m.start:m.end].endswith("s") for m in ms)
        choices = [c for c, f in states.items() if c not in used and (not plural or f["demonyms"])
                   and (not articles or TARGET_STATES[c][1] in articles)]
        if not choices:
            continue
        target = rng.choice(choices)
        used.add(target)
        f = states[target]
        for m in ms:
            original = doc.text[m.start:m.end]
            if m.kind == "demonym":
                new = f["demonyms"] if original.endswith("s") and f["demonyms"] else f["demonym"]
            else:
                new = f[m.kind]
            edits.append(Edit(m.start, m.end, new))
    return edits


# ------------------------------------------------------------------------------ counts

_NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "fifteen", "twenty"]
_COUNT = re.compile(r"\b(" + "|".join(_NUMBER_WORDS + [w.capitalize() for w in _NUMBER_WORDS]) + r"|\d{1,3})\b")


def count_edits(doc: Document, rng) -> list[Edit]:
    """Edits that change the number at the head of each EXPELLED span (2 or more only)."""
    edits = []
    for s in {a.key: a for ev in doc.events for a in ev.arguments if a.label == "EXPELLED"}.values():
        m = _COUNT.search(s.text[:20])
        if not m or (m.group(1).isdigit() and int(m.group(1)) < 2):
            continue
        word = m.group(1)
        if word.isdigit():
            new = str(rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15, 18, 20, 23, 30, 35, 45, 50, 60]))
        else:
            new = rng.choice(_NUMBER_WORDS)
            new = new.capitalize() if word[0].isupper() else new
        if new != word:
            edits.append(Edit(s.start + m.start(1), s.start + m.end(1), new))
    return edits


# ------------------------------------------------------------------------------- dates

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_DATE_WORD = re.compile(r"\b(" + "|".join(_MONTHS + _WEEKDAYS) + r")\b(?:\s+(\d{1,2})\b)?")
_DURATION = re.compile(r"\b(\d{1,3}|a|one|two|three|five|seven|ten)\s+(hours|days|weeks)\b")
_DURATIONS = {"hours": ["24", "48", "72"], "days": ["three", "five", "seven", "ten", "30"],
              "weeks": ["two", "three", "four"]}


def date_edits(doc: Document, rng) -> list[Edit]:
    """Edits of months, weekdays, day numbers and durations inside TIME and DEADLINE spans."""
    edits = []
    for s in {a.key: a for ev in doc.events for a in ev.arguments if a.label in ("TIME", "DEADLINE")}.values():
        for m in _DATE_WORD.finditer(s.text):
            pool = _MONTHS if m.group(1) in _MONTHS else _WEEKDAYS
            edits.append(Edit(s.start + m.start(1), s.start + m.end(1), rng.choice(pool)))
            if m.group(2):
                edits.append(Edit(s.start + m.start(2), s.start + m.end(2), str(rng.randint(1, 28))))
        for m in _DURATION.finditer(s.text):
            if m.group(1) in ("a", "one"):
                continue                       # "a week": singular, left alone
            edits.append(Edit(s.start + m.start(1), s.start + m.end(1), rng.choice(_DURATIONS[m.group(2)])))
    return edits


# ---------------------------------------------------------------------------- triggers

# Verb trigger -> its tense, for the rewrites below.
_VERBS = {"expels": "present", "expelled": "past", "expel": "base"}
_REWRITES: dict[str, dict[str, tuple[str, str, str]]] = {
    # name: tense -> (verb before EXPELLED, words after EXPELLED, which part is the trigger)
    "orders": {"present": ("orders", " to leave", "verb"), "past": ("ordered", " to leave", "verb"),
               "base": ("order", " to leave", "verb")},
    "persona non grata": {"present": ("declares", " persona non grata", "after"),
                          "past": ("declared", " persona non grata", "after"),
                          "base": ("declare", " persona non grata", "after")},
    "expulsion": {"present": ("announces the expulsion of", "", "expulsion"),
                  "past": ("announced the expulsion of", "", "expulsion"),
                  "base": ("announce the expulsion of", "", "expulsion")},
    "gives": {"present": ("gives", " {deadline} to leave", "verb"), "base": ("give", " {deadline} to leave", "verb")},
    "expelling": {"present": ("is expelling", "", "expelling")},
}
_DEADLINES = ["24 hours", "48 hours", "72 hours", "seven days", "a week", "five days"]


def trigger_edits(doc: Document, rng) -> list[Edit]:
    """Rewrite one verb trigger that is directly followed by its EXPELLED span."""
    candidates = []
    for ev in doc.events:
        tense = _VERBS.get(ev.trigger.text.lower())
        if tense is None or ev.trigger.text[0].isupper():
            continue
        after = [a for a in ev.arguments if a.label == "EXPELLED" and 0 < a.start - ev.trigger.end <= 1]
        if after:
            candidates.append((ev, tense, after[0]))
    if not candidates:
        return []
    ev, tense, expelled = rng.choice(candidates)
    options = [name for name, forms in _REWRITES.items() if tense in forms
               and not (name == "gives" and any(a.label == "DEADLINE" for a in ev.arguments))]
    name = rng.choice(options)
    verb, tail, part = _REWRITES[name][tense]
    trig = ev.trigger
    if part == "verb":
        first = Edit(trig.start, trig.end, verb)                       # the trigger becomes the verb
    elif part in ("expulsion", "expelling"):
        k = verb.index(part)
        first = Edit(trig.start, trig.end, verb, place={trig.key: (k, k + len(part))})
    else:
        first = Edit(trig.start, trig.end, verb, keep=False)
    if "{deadline}" in tail:
        deadline = rng.choice(_DEADLINES)
        tail = tail.format(deadline=deadline)
        second = Edit(expelled.end, expelled.end, tail, add=[("DEADLINE", 1, 1 + len(deadline))], attach=trig.key)
    elif part == "after":
        second = Edit(expelled.end, expelled.end, tail, place={trig.key: (1, len(tail))})
    else:
        second = Edit(expelled.end, expelled.end, tail) if tail else None
    return [first] + ([second] if second else [])


# --------------------------------------------------------------------------- deadlines

# Clauses that state by when the expelled must leave, appended to the trigger's sentence:
# the DEADLINE is the braced part; "ordered them", "gave them", "told them" after the
# expulsion are its terms, not a second trigger (ANNOTATION.md: "gives him until March
# 29 to leave" adds a DEADLINE to the event, not a trigger).
_DEADLINE_CLAUSES = [
    "; they must leave by {date}", "; they must leave the country by {date}",
    " and ordered them to leave the country by {date}", " and ordered them to leave within {span}",
    " and gave them {span} to leave", " and gave them until {date} to leave",
    ", giving them {span} to leave the country", ", giving them until {date} to leave",
    " and told them to leave within {span}", "; they have {span} to leave",
    "; they have until {date} to leave", ". They must leave by {date}",
    ". They have {span} to leave the country", "; the deadline to leave is {date}",
]
_DEADLINE_DATES = ["October 31", "March 10", "February 7", "June 1", "August 15", "December 5",
                   "Saturday", "Friday", "Monday", "the end of the month", "the end of the week",
                   "31 October", "10 March", "April 20", "September 30", "January 15"]
_DEADLINE_SPANS = ["72 hours", "48 hours", "24 hours", "seven days", "a week", "five days",
                   "two weeks", "10 days", "three days", "30 days", "one month", "a month"]


def deadline_edits(doc: Document, rng) -> list[Edit]:
    """Append a deadline clause to the sentence of one trigger that has no DEADLINE, with
    the DEADLINE span linked to that trigger; TIME spans are left as they are."""
    from pipeline.text import sentence_bounds

    spans = doc.spans()
    candidates = [ev for ev in doc.events if not any(a.label == "DEADLINE" for a in ev.arguments)]
    if not candidates:
        return []
    ev = rng.choice(candidates)
    for lo, hi in sentence_bounds(doc.text):
        if lo <= ev.trigger.start < hi:
            break
    body = doc.text[lo:hi].rstrip()
    if not body.endswith("."):
        return []
    at = lo + len(body) - 1                                   # before the sentence's full stop
    if at < ev.trigger.end or any(s.start < at < s.end for s in spans):
        return []
    passive = re.search(r"\b(?:is|are|was|were|been|being)\s+(?:\w+\s+)?$", doc.text[max(0, ev.trigger.start - 20):ev.trigger.start])
    # "... is expelled and gave them": only the clauses with a subject of their own fit a passive.
    clause = rng.choice([c for c in _DEADLINE_CLAUSES if c[0] in ";."] if passive else _DEADLINE_CLAUSES)
    slot = "{date}" if "{date}" in clause else "{span}"
    value = rng.choice(_DEADLINE_DATES if slot == "{date}" else _DEADLINE_SPANS)
    k = clause.index(slot)
    new = clause.replace(slot, value)
    return [Edit(at, at, new, add=[("DEADLINE", k, k + len(value))], attach=ev.trigger.key)]


# ----------------------------------------------------------------------------- augmenter


class Augmenter:
    """``augmenter(doc, rng) -> Document | None``: a label-preserving variant of a gold
    document, or None when no rewrite applies (the caller keeps the original).

    Args:
        cfg: an :class:`pipeline.config.AugmentConfig` (the chance of each rewrite).
    """

    def __init__(self, cfg, pool: list[Document] | None = None):
        self.cfg = cfg
        self.pool = pool or []          # the training documents, for article layouts
        self.made: dict[str, int] = {"countries": 0, "counts": 0, "dates": 0, "triggers": 0,
                                     "deadlines": 0, "articles": 0, "dropped": 0}

    def __call__(self, doc: Document, rng) -> Document | None:
        if not doc.events:
            return None
        out = doc
        # Triggers first (they move spans), then the word swaps on the result.
        for name, chance, make in (("triggers", self.cfg.triggers, trigger_edits),
                                   ("deadlines", self.cfg.deadlines, deadline_edits),
                                   ("countries", self.cfg.countries, country_edits),
                                   ("counts", self.cfg.counts, count_edits),
                                   ("dates", self.cfg.dates, date_edits)):
            if rng.random() >= chance:
                continue
            edits = make(out, rng)
            if not edits:
                continue
            new = apply_edits(out, edits)
            if new is None:
                self.made["dropped"] += 1
                continue
            out = new
            self.made[name] += 1
        if self.pool and rng.random() < getattr(self.cfg, "articles", 0.0):
            from pipeline.training.articles import compose_article, neighbours

            article = compose_article(out, neighbours(out, self.pool, rng.randint(1, 3), rng), rng)
            if article is not None:
                out = article
                self.made["articles"] += 1
        if out is doc:
            return None
        return Document(f"{doc.id}#aug", out.text, out.events, {**doc.meta, "augmented": True})

    def stats(self) -> dict[str, Any]:
        return dict(self.made)
