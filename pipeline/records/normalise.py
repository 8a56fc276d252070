"""Normalised fields of one event mention: counts, countries, dates and event codes.

``normalise_event(event, doc)`` fills ``event.extra`` (ANNOTATION.md lets predictions
carry normalised fields) with:

==================  =========================================================
``count``           people expelled when stated ("eight", "23", "a diplomat" -> 1)
``count_min/max``   bounds ("several" 3-9, "dozens" 24-99, "more than 100" 101-)
``expeller_country`` ISO alpha-3 or organisation code of the EXPELLER
``expelled_country`` the nationality of the EXPELLED (the embassy's owner, not its city)
``*_countries``     every code named (several in "envoys from Australia and New
                    Zealand", where ``expelled_country`` is None); ``*_source`` says
                    where a code came from (phrase, context, sentence)
``time_date``       first day of the TIME phrase; ``time_precision`` its precision
``deadline_date``   the day of the DEADLINE phrase
``cameo``           CAMEO 166 family (1661 peacekeepers, 1662 inspectors/observers,
                    1663 aid agencies)
``plover``          PLOVER event type ``SANCTION``; ``plover_mode`` ``expel``
``retaliation``     the REASON or the trigger's sentence says it answers something
``pairs``           one entry per expeller x expelled country, with its own count
==================  =========================================================

See docs/records.md for the code lists and the policy behind each rule.

Example:
    >>> parse_count("two Russian diplomats")
    {'count': 2, 'count_min': 2, 'count_max': 2}
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.records.counts import parse_count
from pipeline.records.countries import country_code, expelled_countries, expelled_country
from pipeline.records.dates import resolve_date, resolve_deadline, resolve_period
from pipeline.records.parties import event_parties, sentence_of
from pipeline.schema import Document, Event, Span

__all__ = ["parse_count", "country_code", "expelled_country", "expelled_countries",
           "resolve_date", "resolve_deadline", "cameo_code", "plover_codes",
           "is_retaliation", "normalise_event", "normalise_document", "FIELDS"]

FIELDS: tuple[str, ...] = (
    "count", "count_min", "count_max", "expeller_country", "expeller_countries",
    "expeller_country_source", "expelled_country", "expelled_countries",
    "expelled_country_source", "time_date", "time_precision", "deadline_date", "cameo",
    "plover", "plover_mode", "retaliation")

# ---------------------------------------------------------------- event codes

_PEACEKEEPERS = re.compile(r"\bpeace-?keep", re.I)
_INSPECTORS = re.compile(r"\b(?:inspectors?|observers?|monitors?|monitoring mission|verification)\b", re.I)
# "WHO" only in capitals: "who" is a pronoun ("12 Russian people ... who are ...").
_AID = re.compile(r"\b(?:humanitarian|aid agenc|relief|refugee agency|UNHCR|UNICEF|WFP|OCHA|UNRWA|"
                  r"World Food Programme|World Health Organi[sz]ation|(?-i:WHO)\b)", re.I)


def cameo_code(expelled_text: str | None) -> str:
    """CAMEO code of an expulsion, from who is expelled.

    The 166 family ("Expel or withdraw", under 16 REDUCE RELATIONS): 1661 peacekeepers,
    1662 inspectors and observers, 1663 aid agencies (humanitarian officials of an
    organisation), and the root 166 for diplomats and other officials.  Never 174
    ("Expel or deport individuals", COERCE): see docs/records.md.

    Example:
        >>> cameo_code("UN weapons inspectors"), cameo_code("eight Russian diplomats")
        ('1662', '166')
    """
    text = expelled_text or ""
    if _PEACEKEEPERS.search(text):
        return "1661"
    if _INSPECTORS.search(text):
        return "1662"
    if _AID.search(text):
        return "1663"
    return "166"


def plover_codes(cameo: str) -> dict[str, str]:
    """PLOVER event type, mode and context for a CAMEO 166x code.

    Follows the CAMEO-to-PLOVER table of the PLOVER project (166x -> SANCTION, mode
    ``expel``; context ``military`` for peacekeepers, else ``diplomatic``).

    Raises:
        ValueError: for a code outside the 166 family.
    """
    if cameo not in ("166", "1661", "1662", "1663"):
        raise ValueError(f"no PLOVER mapping for CAMEO {cameo!r}; expulsions are coded 166, "
                         "1661, 1662 or 1663")
    return {"plover": "SANCTION", "plover_mode": "expel",
            "plover_context": "military" if cameo == "1661" else "diplomatic"}


# ---------------------------------------------------------------- retaliation

_RETALIATION = re.compile(
    r"\b(?:in response\b|in retaliation|retaliat\w*|tit[- ]for[- ]tat|reciprocal|reciprocity|"
    r"in kind|mirror(?:ing|ed)? (?:measure|move|step)|in return|"
    r"symmetric(?:al)? (?:measure|response))", re.I)


def is_retaliation(text: str | None) -> bool:
    """True when the text says the act answers another ("in response to", "tit-for-tat")."""
    return bool(text and _RETALIATION.search(text))


def _sentence_retaliation(event: Event, doc: Document) -> bool:
    """A cue in the trigger's sentence that belongs to this trigger.

    A cue belongs to the nearest trigger before it in the sentence, else to the first
    one after it: in "Russia expelled U.S. diplomats in response to the decision to
    remove Russian officials" the cue is Russia's, not the answered removal's.
    """
    s, e = sentence_of(doc, event.trigger.start)
    starts = sorted(ev.trigger.start for ev in doc.events if s <= ev.trigger.start < e)
    for m in _RETALIATION.finditer(doc.text, s, e):
        before = [t for t in starts if t < m.start()]
        owner = before[-1] if before else next((t for t in starts if t > m.start()), None)
        if owner == event.trigger.start:
            return True
    return False


# ---------------------------------------------------------------- events

def _role(event: Event, role: str) -> Span | None:
    """The argument of ``role`` nearest the trigger (TIME, DEADLINE, REASON are single)."""
    spans = [a for a in event.arguments if a.label == role]
    return min(spans, key=lambda s: abs(s.start - event.trigger.start)) if spans else None


def normalise_event(event: Event, doc: Document) -> dict[str, Any]:
    """Compute the normalised fields of one event and store them in ``event.extra``.

    Args:
        event: an event of ``doc`` (gold or predicted).
        doc: its document; ``doc.date`` (``YYYY-MM-DD``) anchors relative dates.

    Returns:
        The fields added (also written into ``event.extra``): :data:`FIELDS`, plus
        ``plover_context`` and ``pairs`` (one entry per expeller x expelled country,
        see ``pipeline.records.parties``).

    Example:
        >>> doc = Document("d", "Poland expels 45 staff of the Russian embassy in Warsaw.",
        ...                meta={"date": "2022-04-01"})
        >>> ev = Event(Span("TRIGGER", 7, 13, "expels"),
        ...            [Span("EXPELLER", 0, 6, "Poland"),
        ...             Span("EXPELLED", 14, 55, "45 staff of the Russian embassy in Warsaw")])
        >>> f = normalise_event(ev, doc); (f["count"], f["expeller_country"], f["expelled_country"])
        (45, 'POL', 'RUS')
    """
    time, deadline, reason = _role(event, "TIME"), _role(event, "DEADLINE"), _role(event, "REASON")
    fields: dict[str, Any] = event_parties(event, doc)
    period = resolve_period(time.text, doc.date) if time else None
    fields["time_date"] = period.start.isoformat() if period else None
    # "vague": a TIME that cannot be placed ("recently"): the act predates the report.
    fields["time_precision"] = period.precision if period else ("vague" if time else None)
    fields["deadline_date"] = resolve_deadline(deadline.text, doc.date) if deadline else None
    expelled_text = " ; ".join(a.text for a in event.arguments if a.label == "EXPELLED")
    fields["cameo"] = cameo_code(expelled_text)
    fields.update(plover_codes(fields["cameo"]))
    fields["retaliation"] = is_retaliation(reason.text if reason else None) \
        or _sentence_retaliation(event, doc)
    event.extra.update(fields)
    return fields


def normalise_document(doc: Document) -> Document:
    """Normalise every event of ``doc`` in place; returns ``doc`` for chaining."""
    for ev in doc.events:
        normalise_event(ev, doc)
    return doc
