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
  only clue and names an organisation);
- **a deadline tagged as a time, or a time as a deadline** ("they must leave by [October
  31]", "has until [March 29] to leave", "within [72 hours]", "[seven days] to leave"): by
  the annotation guide a date by which the expelled must be gone is a DEADLINE, so a
  TIME span in that position becomes one (its date is then resolved forward from the
  document's date, never back), and a DEADLINE outside such a position ("expelled three
  diplomats on [August 11]") a TIME (``deadline_roles``);
- **a deadline the tagger missed**: a date or a length of time in a deadline position in
  the sentence of a trigger or the next one is added to the nearest trigger before it
  (``stated_deadlines``; on all gold with its DEADLINE spans taken out it finds 15 of
  the 17, on the right event, and adds none elsewhere);
- **one act tagged as two** ("expelled four diplomats and [ordered] them to leave by
  March 10", "declared him persona non grata and [gave] him 72 hours"): a follow-up
  verb (ordered, gave, told, asked) joined by "and" to an earlier trigger of its
  sentence, with no EXPELLED of its own, adds its arguments (the DEADLINE) to the
  earlier event instead of making a second one (the guide: "gives him until March 29
  to leave" adds a DEADLINE to the event, not a trigger);
- **a second mention of one act without its people** ("expels the Mexican ambassador and
  [declares] him persona non grata"): the guide has both events share the EXPELLED, so
  the later one gets the earlier one's EXPELLED spans (``share_expelled``).

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

from pipeline.text import MONTH, WEEKDAY, sentence_start, sentences
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


# "must leave (their posts) by", "has until", "within", "no later than": what follows is a deadline.
_DEADLINE_BEFORE = re.compile(
    r"(?:\b(?:leave|depart|exit|quit|vacate|go)\b(?:\s+[^\s.;!?]+){0,6}?\s+"
    r"(?:by|before|until|till|within|in|no later than)"
    r"|\b(?:within|until|till|no later than)|\bdeadline(?:\s+to\s+leave)?\s+(?:of|is|was))\s+$", re.IGNORECASE)
# "[72 hours] to leave", "[a week] in which to leave"
_DEADLINE_AFTER = re.compile(r"^\s+(?:in which\s+)?to\s+(?:leave|depart|exit|quit|vacate|pack)\b", re.IGNORECASE)
# Verbs that, right after an expulsion of the same people, state its terms, not a new act.
_FOLLOW_UP = {"order", "orders", "ordered", "ordering", "give", "gives", "gave", "given", "giving",
              "tell", "tells", "told", "telling", "ask", "asks", "asked", "asking"}
_JOINED = re.compile(r"^[^.;!?]*?(?:\band\b|,)[^.;!?]*$", re.IGNORECASE)


def is_deadline_context(text: str, span: Span) -> bool:
    """True when ``span`` sits where the guide puts a DEADLINE: after "leave ... by",
    "until", "within", "no later than", or before "to leave".

    Example:
        >>> t = "They must leave their posts by October 31."
        >>> is_deadline_context(t, Span("TIME", 31, 41, "October 31"))
        True
    """
    lo = max(sentence_start(text, span.start), text.rfind(";", max(0, span.start - 80), span.start) + 1)
    before = text[max(lo, span.start - 80):span.start]
    return bool(_DEADLINE_BEFORE.search(before) or _DEADLINE_AFTER.match(text[span.end:span.end + 30]))


# A length of time: a deadline even where the words around it do not say so ("gives the EU
# 48 hours to recall its envoy"), unless it dates something else ("a day before").
_DURATION = re.compile(r"^(?:\w+[- ])?(?:\w+ )?(?:hours?|days?|weeks?|fortnight|months?)$", re.IGNORECASE)
_RELATIVE_AFTER = re.compile(r"^\s*(?:before|after|ago|later|earlier)\b", re.IGNORECASE)


def _role_by_position(text: str, a: Span) -> str:
    """TIME or DEADLINE for a span the tagger gave one of them, by the guide's position rule."""
    if is_deadline_context(text, a):
        return "DEADLINE"
    if a.label == "DEADLINE" and _DURATION.match(a.text) and not _RELATIVE_AFTER.match(text[a.end:a.end + 12]):
        return "DEADLINE"
    return "TIME"


def deadline_roles(text: str, events: Sequence[Event]) -> list[Event]:
    """Copies of ``events`` whose TIME and DEADLINE spans have the role of their position: a
    date in a deadline position ("must leave by [October 31]") is a DEADLINE, one outside
    it ("expelled three diplomats on [August 11]") a TIME; a length of time the tagger
    called a DEADLINE stays one."""
    out = []
    for ev in events:
        args = [Span(role, a.start, a.end, a.text, a.score)
                if a.label in ("TIME", "DEADLINE") and (role := _role_by_position(text, a)) != a.label else a
                for a in ev.arguments]
        out.append(Event(ev.trigger, args, dict(ev.extra)))
    return out


_WHEN = (rf"(?:{MONTH} \d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}} {MONTH}|{WEEKDAY}|midnight|tomorrow|"
         r"the end of (?:the |this )?(?:week|month|year))")
_NUM = (r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|"
        r"twenty|thirty|twenty-four|forty-eight|seventy-two)")
_LENGTH = rf"(?:{_NUM}[- ](?:hours?|days?|weeks?|months?)|a fortnight)"
_STATED_DEADLINES = [re.compile(p, re.IGNORECASE) for p in (
    rf"\b(?:leave|depart|exit|quit|vacate)\b(?:[^.;!?\n]|\n(?!\s*\n)){{0,60}}?\b(?:by|before|until|within|in|"
    rf"no later than)\s+"
    rf"(?P<d>{_WHEN}|{_LENGTH})\b",
    rf"\b(?P<d>{_LENGTH})\s+(?:in which\s+)?to\s+(?:leave|depart|pack)\b",
    rf"\buntil\s+(?P<d>{_WHEN})\s+to\s+(?:leave|depart)\b",
    rf"\bdeadline(?:\s+to\s+leave)?\s+(?:of|is|was)\s+(?P<d>{_WHEN}|{_LENGTH})\b")]


def stated_deadlines(text: str, events: Sequence[Event]) -> list[Event]:
    """Copies of ``events`` with the deadlines the text states and the tagger missed: a date
    or a length of time in a deadline position ("must leave their posts by [October 31]",
    "told to leave Albania within [24 hours]", "given [48 hours] to leave") in the
    sentence of a trigger or the one after it, given to the nearest trigger before it
    that has no DEADLINE, unless it overlaps a span already there (score None: found by
    rule, like the REASON clauses)."""
    out = sorted((Event(ev.trigger, list(ev.arguments), dict(ev.extra)) for ev in events),
                 key=lambda ev: ev.trigger.start)
    if not out:
        return out
    # Spans never overlap: sorted starts and ends answer "does [a, b) overlap one?" by bisect.
    taken = sorted({(s.start, s.end) for ev in out for s in (ev.trigger, *ev.arguments)})
    t_starts, t_ends = [x for x, _ in taken], [y for _, y in taken]
    trig_ends = [ev.trigger.end for ev in out]
    sents = sentences(text)
    added: list[tuple[int, int]] = []
    for pattern in _STATED_DEADLINES:
        for m in pattern.finditer(text):
            a, b = m.span("d")
            k = bisect.bisect_left(t_starts, b)
            j = bisect.bisect_left(added, (b, b))
            if (k > 0 and t_ends[k - 1] > a) or (j > 0 and added[j - 1][1] > a):
                continue
            i = bisect.bisect_right(trig_ends, a) - 1        # the last trigger ending before the date
            if i < 0:
                continue
            host = out[i]
            end = sents.at(host.trigger.start)[1]        # the trigger's sentence, then the next one
            if a >= (sents.at(end)[1] if end < len(text) else end):
                continue                                     # more than a sentence before it
            if any(x.label == "DEADLINE" for x in host.arguments):
                continue
            host.arguments.append(Span("DEADLINE", a, b, text[a:b], None))
            bisect.insort(added, (a, b))
    return out


def merge_follow_ups(text: str, events: Sequence[Event]) -> list[Event]:
    """Fold "... and ordered them to leave by March 10" into the expulsion before it.

    An event whose trigger is a follow-up verb (ordered, gave, told, asked), which has no
    EXPELLED span of its own (its object is a pronoun, or the passive subject it shares)
    and which is joined by "and" or a comma to an earlier trigger of the same sentence,
    is one act with that trigger: its arguments other than a second EXPELLER go to the
    earlier event and it is dropped.
    """
    ordered = sorted(events, key=lambda e: e.trigger.start)
    sents = sentences(text)

    def sentence(pos: int) -> int:
        return sents.at(pos)[0]

    out: list[Event] = []
    for ev in ordered:
        host = out[-1] if out else None
        if (host is not None and ev.trigger.text.lower() in _FOLLOW_UP
                and not any(a.label == "EXPELLED" for a in ev.arguments)
                and host.trigger.end <= ev.trigger.start
                and sentence(host.trigger.start) == sentence(ev.trigger.start)
                and _JOINED.match(text[host.trigger.end:ev.trigger.start])):
            have = {a.key for a in host.arguments}
            has_expeller = any(a.label == "EXPELLER" for a in host.arguments)
            host.arguments.extend(a for a in ev.arguments if a.key not in have
                                  and not (a.label == "EXPELLER" and has_expeller))
            continue
        out.append(Event(ev.trigger, list(ev.arguments), dict(ev.extra)))
    return out


_PRONOUN = re.compile(r"\b(?:him|her|them)\b", re.IGNORECASE)


def share_expelled(text: str, events: Sequence[Event]) -> list[Event]:
    """Give a second mention of one act its people: "Peru [expels] the Mexican ambassador
    and [declares] him persona non grata" is two events that share the EXPELLED (the
    annotation guide, R8), but linking gives each span to one trigger.  An event with no
    EXPELLED whose trigger follows another event's trigger in the same sentence, with
    "and" and a pronoun object ("him", "her", "them") between them, gets that event's
    EXPELLED spans."""
    ordered = sorted(events, key=lambda e: e.trigger.start)
    sents = sentences(text)
    out = [Event(ev.trigger, list(ev.arguments), dict(ev.extra)) for ev in ordered]
    for i in range(1, len(out)):
        ev, prev = out[i], out[i - 1]
        if any(a.label == "EXPELLED" for a in ev.arguments):
            continue
        same = sents.at(prev.trigger.start) == sents.at(ev.trigger.start)
        between = text[prev.trigger.end:ev.trigger.start]
        people = [a for a in prev.arguments if a.label == "EXPELLED"]
        if same and people and re.search(r"\band\b", between) and _PRONOUN.search(between) \
                and not re.search(r"[.;!?]", between):
            ev.arguments.extend(people)
    return out


def consistent_events(text: str, events: Sequence[Event]) -> list[Event]:
    """Copies of ``events`` with the likely errors above mended."""
    from pipeline.records.countries import country_code, expelled_country, is_organisation

    if not events:
        return []
    sents = sentences(text)
    out = []
    for ev in events:
        args = list(ev.arguments)
        expellers = [a for a in args if a.label == "EXPELLER"]
        groups = _groups(text, expellers)
        if len(groups) > 1:
            sentence = sents.at(ev.trigger.start)
            keep = {s.key for s in _subject(text, groups, ev.trigger, sentence)}
            args = [a for a in args if a.label != "EXPELLER" or a.key in keep]
        expelled = {c for a in args if a.label == "EXPELLED" for c in [expelled_country(a.text)] if c}
        if expelled:
            args = [a for a in args if a.label != "EXPELLER" or (code := country_code(a.text)) is None
                    or code not in expelled or is_organisation(code)]
        out.append(Event(ev.trigger, args, dict(ev.extra)))
    return stated_deadlines(text, deadline_roles(text, share_expelled(text, merge_follow_ups(text, out))))
