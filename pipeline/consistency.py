"""Event-level consistency of linked events (``tagger.consistency=true``).

Two patterns in the tagger's output are likely errors:

- **two EXPELLER spans that are not coordinated** on one event ("Russia adds Norway to its
  list of unfriendly countries after [Norway] [expelled] ..." with "Russia" linked too):
  an expulsion has one expeller, or several joined by "and" / commas (other state names
  between count as part of the list).  The group that is the expeller of the trigger's
  own clause is kept: after a noun trigger the agent introduced by "by" or "from" ("the
  expulsions of Russian diplomats from these countries"), else the nearest group before
  the trigger in its sentence, else the nearest after it, else the nearest;
- **an EXPELLER of the same country as the EXPELLED** ("Poland expels Polish diplomats"):
  a state does not expel its own envoys, so that EXPELLER is dropped (unless it is the
  only clue and names an organisation).

Countries are resolved with :mod:`pipeline.records.countries`, as event records do.

Example:
    >>> from pipeline.schema import Event, make_span
    >>> text = "Russia adds Norway to its list after Norway expelled two Russian diplomats."
    >>> ev = Event(make_span(text, "TRIGGER", 44, 52), [make_span(text, "EXPELLER", 0, 6),
    ...            make_span(text, "EXPELLER", 37, 43), make_span(text, "EXPELLED", 53, 74)])
    >>> [a.text for a in consistent_events(text, [ev])[0].arguments if a.label == "EXPELLER"]
    ['Norway']
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence

from pipeline.linking import sentence_bounds
from pipeline.schema import Event, Span

_SEPARATORS = re.compile(r"\s*(?:,|\band\b|\bor\b|&)\s*")
_AGENT_BEFORE = re.compile(r"\b(?:by|from)\s+$", re.IGNORECASE)
_NOUN_TRIGGER = re.compile(r"(?:ion|ions|al|als)$", re.IGNORECASE)   # expulsion(s), removal(s)


def _coordinated(text: str, a: Span, b: Span) -> bool:
    """Only "and", "or", "&", commas and other names of states between two spans
    ("Denmark, Estonia, Italy ... and Sweden" with only the first and last tagged)."""
    from pipeline.records.countries import find_mentions

    between = text[a.end:b.start]
    if len(between) > 200:
        return False
    for m in sorted(find_mentions(between), key=lambda m: -m.start):
        between = between[:m.start] + "," + between[m.end:]
    return _SEPARATORS.sub("", between) == "" and bool(_SEPARATORS.search(text[a.end:b.start]))


def _groups(text: str, spans: list[Span]) -> list[list[Span]]:
    """EXPELLER spans in coordinated runs."""
    groups: list[list[Span]] = []
    for s in sorted(spans, key=lambda s: s.start):
        if groups and _coordinated(text, groups[-1][-1], s):
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def _subject(text: str, groups: list[list[Span]], trigger: Span, sentence: tuple[int, int]) -> list[Span]:
    """The group most likely to be the expeller of the trigger's clause: the agent after a
    noun trigger ("the expulsion of X by / from Y"), else the nearest group before the
    trigger in its sentence, else the nearest after it, else the nearest."""
    lo, hi = sentence
    after = [g for g in groups if g[0].start >= trigger.end and g[-1].end <= hi]
    if _NOUN_TRIGGER.search(trigger.text):
        agents = [g for g in after if _AGENT_BEFORE.search(text[max(lo, g[0].start - 6):g[0].start])]
        if agents:
            return min(agents, key=lambda g: g[0].start)
    before = [g for g in groups if g[-1].end <= trigger.start and g[0].start >= lo]
    if before:
        return max(before, key=lambda g: g[-1].end)
    if after:
        return min(after, key=lambda g: g[0].start)
    return min(groups, key=lambda g: min(abs(g[0].start - trigger.end), abs(trigger.start - g[-1].end)))


def consistent_events(text: str, events: Sequence[Event]) -> list[Event]:
    """Copies of ``events`` with the two likely errors above mended."""
    from pipeline.records.countries import country_code, expelled_country, is_organisation

    bounds = sentence_bounds(text)
    starts = [b[0] for b in bounds]
    out = []
    for ev in events:
        args = list(ev.arguments)
        expellers = [a for a in args if a.label == "EXPELLER"]
        groups = _groups(text, expellers)
        if len(groups) > 1:
            sentence = bounds[max(bisect.bisect_right(starts, ev.trigger.start) - 1, 0)]
            keep = {s.key for s in _subject(text, groups, ev.trigger, sentence)}
            args = [a for a in args if a.label != "EXPELLER" or a.key in keep]
        expelled = {c for a in args if a.label == "EXPELLED" for c in [expelled_country(a.text)] if c}
        if expelled:
            args = [a for a in args if a.label != "EXPELLER" or (code := country_code(a.text)) is None
                    or code not in expelled or is_organisation(code)]
        out.append(Event(ev.trigger, args, dict(ev.extra)))
    return out
