"""Inline markup for fast hand annotation.

Grammar (one document per markup string)::

    [NATO]{EXPELLER#1} has [expelled]{TRIGGER#1} [eight Russian officials]{EXPELLED#1}

- ``[span text]{ROLE#ids}``: ``ROLE`` is a label of the schema, ``ids`` one or more
  event numbers separated by commas (``{EXPELLER#1,2}`` links one span to two events).
  A trigger shared by two events (gapping: "Poland expelled 45 and Bulgaria 10
  diplomats") lists both.  Where the document has a single event, ``#1`` may be
  left out.
- A literal ``[``, ``]`` or ``\\`` of the document text is written ``\\[``, ``\\]``,
  ``\\\\``; everything else is copied as it is.  Spans do not nest.

Example:
    >>> doc = parse_markup("d1", "[Peru]{EXPELLER} [expels]{TRIGGER} a diplomat.")
    >>> doc.text, [a.text for a in doc.events[0].arguments]
    ('Peru expels a diplomat.', ['Peru'])
    >>> to_markup(doc)
    '[Peru]{EXPELLER#1} [expels]{TRIGGER#1} a diplomat.'
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from pipeline.formats._io import load_json, utf8_lines
from pipeline.schema import (LABELS, TRIGGER, CorpusError, Document, Event, Span,
                             closest, validate_document)

_TAG = re.compile(r"\{([A-Za-z_]+)(?:#([0-9]+(?:\s*,\s*[0-9]+)*))?\}")
# Longer event numbers are refused: int() of a 5,000-digit string raises ValueError.
MAX_EVENT_DIGITS = 6


def parse_markup(doc_id: str, markup: str, *, meta: dict[str, Any] | None = None,
                 path: str | None = None, line: int | None = None) -> Document:
    """Parse one markup string into a validated :class:`Document`.

    Raises:
        CorpusError: on unbalanced brackets, a missing or unknown tag, a trigger
            linked to several events, an argument whose event has no trigger, or an
            overlap; the message gives the position in the markup.
    """

    def fail(msg: str, pos: int) -> None:
        context = markup[max(0, pos - 20):pos + 20]
        raise CorpusError(f"{msg} at markup offset {pos} (near {context!r})",
                          path=path, line=line, doc_id=doc_id)

    out: list[str] = []          # document text, piece by piece
    n = 0                        # length of the document text so far
    raw: list[tuple[str, int, int, list[int], int]] = []  # label, start, end, ids, pos
    open_at: int | None = None   # markup offset of the open '['
    span_start = 0
    i = 0
    while i < len(markup):
        ch = markup[i]
        if ch == "\\":
            if i + 1 >= len(markup) or markup[i + 1] not in "[]\\":
                fail("a backslash must escape '[', ']' or '\\'", i)
            out.append(markup[i + 1]); n += 1; i += 2
            continue
        if ch == "[":
            if open_at is not None:
                fail("spans do not nest; close the open '[' first (or escape '[' as '\\[')", i)
            open_at, span_start = i, n
            i += 1
            continue
        if ch == "]":
            if open_at is None:
                fail("']' without an open '['; escape a literal one as '\\]'", i)
            m = _TAG.match(markup, i + 1)
            if not m:
                fail("a span must be followed by a tag such as {EXPELLER#1}", i + 1)
            label = m.group(1)
            if label not in LABELS:
                fail(f"unknown label {label!r}; known labels are {', '.join(LABELS)}."
                     + closest(label, LABELS), i + 1)
            numbers = [x.strip() for x in m.group(2).split(",")] if m.group(2) else []
            if any(len(x) > MAX_EVENT_DIGITS for x in numbers):
                fail(f"event number of more than {MAX_EVENT_DIGITS} digits in {m.group(0)[:40]!r}; "
                     "number events 1, 2, ...", i + 1)
            # dict.fromkeys: '{EXPELLER#1,1}' links once, not twice.
            ids = list(dict.fromkeys(int(x) for x in numbers))
            raw.append((label, span_start, n, ids, i))
            open_at = None
            i = m.end()
            continue
        out.append(ch); n += 1; i += 1
    if open_at is not None:
        fail("'[' is never closed", open_at)
    text = "".join(out)

    triggers = [r for r in raw if r[0] == TRIGGER]
    default_ids = [1] if len(triggers) <= 1 else None
    events: dict[int, Event] = {}
    for label, s, e, ids, pos in triggers:
        ids = ids or default_ids
        if not ids:
            fail("the document has several triggers: number each, e.g. {TRIGGER#2}", pos)
        for k in ids:
            if k in events:
                fail(f"event #{k} has two triggers; number the second event differently", pos)
            events[k] = Event(trigger=Span(TRIGGER, s, e, text[s:e]))
    for label, s, e, ids, pos in raw:
        if label == TRIGGER:
            continue
        ids = ids or default_ids
        if not ids:
            fail(f"the document has several events: say which ones {label} belongs to, "
                 f"e.g. {{{label}#1}}", pos)
        for k in ids:
            if k not in events:
                fail(f"{label} is linked to event #{k}, which has no TRIGGER", pos)
            events[k].arguments.append(Span(label, s, e, text[s:e]))
    doc = Document(id=doc_id, text=text, events=[events[k] for k in sorted(events)],
                   meta=dict(meta or {}))
    validate_document(doc, path=path, line=line)
    return doc


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def to_markup(doc: Document) -> str:
    """Write a document as inline markup; events are numbered 1, 2, ... in order."""
    ids: dict[tuple[str, int, int], list[int]] = {}
    for k, ev in enumerate(doc.events, start=1):
        for s in (ev.trigger, *ev.arguments):
            ids.setdefault(s.key, [])
            if k not in ids[s.key]:
                ids[s.key].append(k)
    pieces, pos = [], 0
    for s in doc.spans():
        pieces.append(_escape(doc.text[pos:s.start]))
        tag = ",".join(str(k) for k in ids[s.key])
        pieces.append(f"[{_escape(s.text)}]{{{s.label}#{tag}}}")
        pos = s.end
    pieces.append(_escape(doc.text[pos:]))
    return "".join(pieces)


def read_inline_jsonl(path: str) -> Iterator[Document]:
    """Read a JSONL file of ``{"id", "markup", ...}`` lines (other fields kept as meta).

    Raises:
        CorpusError: naming the file and line of a broken record, or of a repeated id.
    """
    seen: dict[str, int] = {}
    for lineno, line in utf8_lines(path):
        if not line.strip():
            continue
        rec = load_json(line, path=path, line=lineno, what="each line must be one JSON object")
        doc_id = rec.get("id") if isinstance(rec, dict) else None
        if (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == ""
                or not isinstance(rec.get("markup"), str)):
            raise CorpusError("each line needs an 'id' (a non-empty string) and a string "
                              "'markup'", path=path, line=lineno)
        doc_id = str(doc_id)
        if doc_id in seen:
            raise CorpusError(f"id already used on line {seen[doc_id]}; ids must be unique",
                              path=path, line=lineno, doc_id=doc_id)
        seen[doc_id] = lineno
        meta = {k: v for k, v in rec.items() if k not in ("id", "markup")}
        yield parse_markup(doc_id, rec["markup"], meta=meta, path=path, line=lineno)


def write_inline_jsonl(docs, path: str) -> None:
    """Write documents as ``{"id", "markup", ...meta}`` JSONL lines."""
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            rec = {"id": doc.id, "markup": to_markup(doc), **doc.meta}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
