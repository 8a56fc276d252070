"""Flat labelled spans plus trigger links <-> events, shared by the span-list formats.

CoNLL, doccano and Label Studio store spans as a flat list and say separately which
trigger an argument belongs to (a tag suffix, a relation).  This module turns such a
list into :class:`~pipeline.schema.Event` objects and back, so the three formats agree
on one rule set:

- every TRIGGER mention is one event (a gapped trigger shared by two events is two
  TRIGGER mentions with the same offsets, or one mention with two event numbers);
- an argument with explicit links belongs to exactly the linked events;
- an argument without links goes to the **nearest trigger** (smallest character gap
  between the two spans; on a tie, the trigger that comes first in the text) when the
  document has no explicit links at all, or to the only event when there is one;
  otherwise it is an error, because a forgotten link would silently land on the wrong
  event;
- an argument in a document without any trigger is an error: it cannot be linked.

Example:
    >>> t = Span("TRIGGER", 7, 13, "expels")
    >>> a = Mention(Span("EXPELLER", 0, 6, "Poland"), "line 1")
    >>> [e.arguments[0].text for e in assemble_events([t], [a], explicit=False, fail=print)]
    ['Poland']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, NoReturn, Sequence

from pipeline.schema import LABELS, TRIGGER, Document, Event, Span, closest

Fail = Callable[[str], NoReturn]
SpanKey = tuple[str, int, int]


@dataclass(frozen=True)
class Mention:
    """A span read from a file, where it was found, and the events it is linked to.

    ``links`` holds indices into the trigger list given to :func:`assemble_events`;
    ``None`` means the file gave no link for this span.
    """

    span: Span
    where: str
    links: tuple[int, ...] | None = None


def label_problem(label: Any) -> str | None:
    """Return why ``label`` is not a schema label (with a hint), or ``None`` if it is one."""
    if isinstance(label, str) and label in LABELS:
        return None
    # closest() is case-sensitive; upper-casing first also catches 'expeller'.
    hint = closest(label.upper(), LABELS) if isinstance(label, str) else ""
    return f"unknown label {label!r}; known labels are {', '.join(LABELS)}.{hint}"


def checked_span(label: Any, start: Any, end: Any, text: str, where: str, fail: Fail) -> Span:
    """A span built from untrusted fields, its ``text`` taken from the document.

    Raises:
        CorpusError: through ``fail``, for an unknown label or offsets that are not
            integers with ``0 <= start < end <= len(text)``.
    """
    problem = label_problem(label)
    if problem:
        fail(f"{where}: {problem}")
    # bool is an int subclass; True as an offset is a bug in the file, not 1.
    if not all(type(x) is int for x in (start, end)):
        fail(f"{where}: {label} needs integer offsets, got start={start!r}, end={end!r}")
    if not 0 <= start < end <= len(text):
        fail(f"{where}: {label} [{start}, {end}) is empty or outside the text (length "
             f"{len(text)}); fix its offsets")
    return Span(label, start, end, text[start:end])


def as_doc_id(value: Any) -> str | None:
    """A document id as a string (JSON ids may be integers), or ``None`` if unusable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


def gap(a: Span, b: Span) -> int:
    """Characters between two spans (0 when they touch or overlap)."""
    return max(a.start - b.end, b.start - a.end, 0)


def nearest_trigger(arg: Span, triggers: Sequence[Span]) -> int:
    """Index of the trigger closest to ``arg``; ties go to the one earliest in the text."""
    return min(range(len(triggers)), key=lambda i: (gap(arg, triggers[i]), triggers[i].start, i))


def _default_links(m: Mention, triggers: Sequence[Span], explicit: bool, fail: Fail) -> tuple[int, ...]:
    s = m.span
    if not triggers:
        fail(f"{m.where}: {s.label} {s.text!r} [{s.start}, {s.end}) cannot be linked to an "
             "event because the document has no TRIGGER; annotate the trigger or remove the span")
    if not explicit:
        return (nearest_trigger(s, triggers),)
    if len(triggers) == 1:
        return (0,)
    fail(f"{m.where}: {s.label} {s.text!r} [{s.start}, {s.end}) is linked to no trigger, but "
         f"the document has {len(triggers)} triggers and links its other spans; link it to "
         "the trigger(s) it belongs to")


def assemble_events(triggers: Sequence[Span], arguments: Sequence[Mention], *, explicit: bool,
                    fail: Fail) -> list[Event]:
    """Build one event per trigger and attach the arguments (rules in the module docstring).

    Args:
        triggers: TRIGGER spans, one per event, in the order the events should have.
        arguments: argument mentions; ``links`` index into ``triggers``.
        explicit: whether the document gives links at all (suffixes, relations); when it
            does not, unlinked arguments go to the nearest trigger.
        fail: raises the caller's :class:`~pipeline.schema.CorpusError` with a message.

    Returns:
        The events, in the order of ``triggers``.

    Raises:
        CorpusError: through ``fail``, for an argument that cannot be linked.
    """
    events = [Event(trigger=t) for t in triggers]
    for m in arguments:
        links = m.links if m.links is not None else _default_links(m, triggers, explicit, fail)
        for i in links:
            # The same span linked twice to one event (a repeated relation) counts once.
            if all(a.key != m.span.key for a in events[i].arguments):
                events[i].arguments.append(m.span)
    return events


def events_from_relations(entities: dict[Hashable, Mention],
                          relations: Sequence[tuple[Hashable, Hashable, str]],
                          fail: Fail) -> list[Event]:
    """Events from entities and undirected trigger-argument relations (doccano, Label Studio).

    Each TRIGGER entity is one event, in entity order.  A relation joins a TRIGGER entity
    and an argument entity, in either direction; its type is not used, since the
    argument's label already is its role.

    Args:
        entities: entity id -> mention (``links`` unset).
        relations: ``(from_id, to_id, where)`` triples.
        fail: raises the caller's CorpusError.

    Returns:
        The events.

    Raises:
        CorpusError: through ``fail``, for a relation to a missing entity, one that does not
            join a trigger and an argument, or an argument that cannot be linked.
    """
    trigger_ids = [k for k, m in entities.items() if m.span.label == TRIGGER]
    index = {k: i for i, k in enumerate(trigger_ids)}
    links: dict[Hashable, list[int]] = {}
    for a, b, where in relations:
        for k in (a, b):
            if k not in entities:
                fail(f"{where} points to entity {k!r}, which does not exist; fix the id or "
                     "remove the relation")
        if (a in index) == (b in index):
            fail(f"{where} joins {entities[a].span.label} {entities[a].span.text!r} and "
                 f"{entities[b].span.label} {entities[b].span.text!r}; a relation must join "
                 "a TRIGGER and an argument")
        trig, arg = (a, b) if a in index else (b, a)
        links.setdefault(arg, []).append(index[trig])
    arguments = [Mention(m.span, m.where, tuple(links[k]) if k in links else None)
                 for k, m in entities.items() if k not in index]
    return assemble_events([entities[k].span for k in trigger_ids], arguments,
                           explicit=bool(relations), fail=fail)


def entities_and_relations(doc: Document) -> tuple[list[Span], list[tuple[int, int]]]:
    """Flatten a document for a writer: entities and (trigger, argument) relations.

    Each event gets its own trigger entity (so a gapped trigger shared by two events is
    written twice, with the same offsets); an argument shared by events is one entity
    with a relation from each trigger.

    Returns:
        ``(entities, relations)`` where relations index into ``entities``.
    """
    entities: list[Span] = []
    relations: list[tuple[int, int]] = []
    arg_index: dict[SpanKey, int] = {}
    for ev in doc.events:
        t = len(entities)
        entities.append(ev.trigger)
        for a in ev.arguments:
            if a.key not in arg_index:
                arg_index[a.key] = len(entities)
                entities.append(a)
            if (t, arg_index[a.key]) not in relations:
                relations.append((t, arg_index[a.key]))
    return entities, relations


def event_numbers(doc: Document) -> dict[SpanKey, list[int]]:
    """Span key -> numbers (1, 2, ...) of the events it belongs to, in event order."""
    ids: dict[SpanKey, list[int]] = {}
    for k, ev in enumerate(doc.events, start=1):
        for s in (ev.trigger, *ev.arguments):
            if k not in ids.setdefault(s.key, []):
                ids[s.key].append(k)
    return ids


def event_links(doc: Document) -> set[tuple[SpanKey, frozenset[SpanKey]]]:
    """Canonical form of a document's annotation: ``{(trigger key, {argument keys})}``.

    Two documents with the same canonical form have the same spans and the same
    trigger-argument links, whatever the order of events and arguments.
    """
    return {(ev.trigger.key, frozenset(a.key for a in ev.arguments)) for ev in doc.events}
