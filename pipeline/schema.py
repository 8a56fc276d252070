"""The label schema and the document model shared by every stage.

A :class:`Document` holds text and a list of :class:`Event` objects; an event has one
trigger :class:`Span` and argument spans.  Offsets are character offsets
``[start, end)`` into ``Document.text`` (see ``../shared/ANNOTATION.md``).

Example:
    >>> doc = Document(id="d1", text="Poland expels a diplomat.")
    >>> ev = Event(trigger=Span("TRIGGER", 7, 13, "expels"),
    ...            arguments=[Span("EXPELLER", 0, 6, "Poland")])
    >>> doc.events.append(ev)
    >>> validate_document(doc)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import CorpusError, closest  # noqa: F401 (re-exported)

TRIGGER = "TRIGGER"
ROLES: tuple[str, ...] = ("EXPELLER", "EXPELLED", "REASON", "TIME", "DEADLINE")
LABELS: tuple[str, ...] = (TRIGGER, *ROLES)

# Items dated on or after this day are reserved for independent evaluation.
RESERVED_FROM = "2023-01-01"


@dataclass(frozen=True)
class Span:
    """A labelled character span ``[start, end)``; ``score`` is set on predictions."""

    label: str
    start: int
    end: int
    text: str
    score: float | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        """``(label, start, end)``: the identity used for scoring."""
        return (self.label, self.start, self.end)

    def to_json(self, role_key: str | None = "role") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if role_key:
            out[role_key] = self.label
        out.update(start=self.start, end=self.end, text=self.text)
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out


@dataclass
class Event:
    """One expulsion mention: a trigger and the argument spans linked to it.

    ``extra`` keeps fields other than trigger/arguments (normalised fields such as
    ``count`` or ``expelled_country``) so they survive a read/write round trip.
    """

    trigger: Span
    arguments: list[Span] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "trigger": self.trigger.to_json(role_key=None),
            "arguments": [a.to_json() for a in sorted(self.arguments, key=lambda s: (s.start, s.label))],
        }
        out.update(self.extra)
        return out


@dataclass
class Document:
    """A text with its events; ``meta`` keeps every other field of the input line."""

    id: str
    text: str
    events: list[Event] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def date(self) -> str | None:
        return self.meta.get("date")

    def spans(self) -> list[Span]:
        """Distinct spans of the document (a shared argument appears once), by offset."""
        seen: dict[tuple[str, int, int], Span] = {}
        for ev in self.events:
            for s in (ev.trigger, *ev.arguments):
                seen.setdefault(s.key, s)
        return sorted(seen.values(), key=lambda s: (s.start, s.end))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text}
        out.update(self.meta)
        out["events"] = [e.to_json() for e in self.events]
        return out


# A JSON escape such as "\ud800" decodes to a lone surrogate: not Unicode text, it cannot be
# written as UTF-8 nor given to a tokenizer.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: Any) -> tuple[str, str] | None:
    """``(where, char)`` of the first lone surrogate in a JSON-like value, or ``None``.

    ``where`` is a path such as ``meta['source'][0]`` relative to ``value``.
    """
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        return (f"offset {m.start()}", m.group()) if m else None
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, (list, tuple)) else ()
    for k, v in items:
        found = lone_surrogate(k) if isinstance(k, str) else None
        if found:
            return (f"key {k!r}", found[1])
        found = lone_surrogate(v)
        if found:
            return (f"[{k!r}]" + ("" if isinstance(v, str) else found[0]), found[1])
    return None


def validate_document(doc: Document, *, path: str | None = None, line: int | None = None) -> None:
    """Check a document against the contract.

    Raises:
        CorpusError: on an unknown label, a span outside the text or whose ``text``
            differs from the slice, an empty span, two different spans that overlap,
            or a lone surrogate (a broken ``\\ud800`` escape) in the id, text or meta.
    """

    def fail(msg: str) -> None:
        raise CorpusError(msg, path=path, line=line, doc_id=doc.id)

    if not isinstance(doc.text, str):
        fail("'text' must be a string")
    for name, value in (("id", doc.id), ("text", doc.text), ("meta", doc.meta),
                        ("event fields", [ev.extra for ev in doc.events])):
        found = lone_surrogate(value)
        if found:
            fail(f"the {name} holds a lone surrogate {found[1]!r} ({found[0]}): half of a "
                 "UTF-16 pair, not Unicode text, so it cannot be written as UTF-8 or tagged; "
                 "fix the \\u escape in the file or remove the character")
    for ev in doc.events:
        if ev.trigger.label != TRIGGER:
            fail(f"an event's trigger has label {ev.trigger.label!r}; expected 'TRIGGER'")
        for s in ev.arguments:
            if s.label not in ROLES:
                fail(f"unknown role {s.label!r}; known roles are {', '.join(ROLES)}."
                     + closest(s.label, ROLES))
    spans = doc.spans()
    # Every occurrence, not only the distinct spans: a span shared by two events is
    # stored twice, and the second copy may carry a different text.
    for s in (s for ev in doc.events for s in (ev.trigger, *ev.arguments)):
        if not (0 <= s.start < s.end <= len(doc.text)):
            fail(f"span {s.label} [{s.start}, {s.end}) is empty or outside the text "
                 f"(length {len(doc.text)}); fix its offsets")
        if doc.text[s.start:s.end] != s.text:
            fail(f"span {s.label} [{s.start}, {s.end}) has text {s.text!r} but the document "
                 f"says {doc.text[s.start:s.end]!r} there; fix the offsets or the text")
    # After sorting by (start, end), any overlap shows up between neighbours or as a
    # span that starts before the furthest end seen so far.
    furthest: Span | None = None
    for s in spans:
        if furthest is not None and s.start < furthest.end:
            if (s.start, s.end) == (furthest.start, furthest.end):
                fail(f"the same text {s.text!r} at [{s.start}, {s.end}) is labelled both "
                     f"{furthest.label} and {s.label}; keep one label")
            fail(f"spans overlap: {furthest.label} {furthest.text!r} [{furthest.start}, "
                 f"{furthest.end}) and {s.label} {s.text!r} [{s.start}, {s.end}); spans "
                 "never overlap, shorten one of them")
        if furthest is None or s.end > furthest.end:
            furthest = s


def make_span(text: str, label: str, start: int, end: int, score: float | None = None) -> Span:
    """Build a span whose ``text`` is the slice of ``text``."""
    return Span(label, start, end, text[start:end], score)
