"""Reader and writer for the events JSONL format of ANNOTATION.md (gold and predicted).

Example:
    >>> docs = list(read_events_jsonl("data/gold/dev.jsonl"))   # doctest: +SKIP
    >>> write_events_jsonl(docs, "copy.jsonl")                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

from pipeline.formats._io import load_json, utf8_lines
from pipeline.schema import TRIGGER, CorpusError, Document, Event, Span, validate_document


def _span(obj: Any, label: str | None, *, path, line, doc_id) -> Span:
    def fail(msg: str) -> None:
        raise CorpusError(msg, path=path, line=line, doc_id=doc_id)

    if not isinstance(obj, dict):
        fail(f"a span must be an object with start, end and text, got {type(obj).__name__}")
    lab = label if label is not None else obj.get("role")
    if not isinstance(lab, str):
        fail("an argument needs a string 'role' (EXPELLER, EXPELLED, REASON, TIME, DEADLINE)")
    start, end, text = obj.get("start"), obj.get("end"), obj.get("text")
    if not (type(start) is int and type(end) is int):
        fail(f"{lab} span needs integer 'start' and 'end', got {start!r} and {end!r}")
    if not isinstance(text, str):
        fail(f"{lab} span [{start}, {end}) needs a string 'text'")
    score = obj.get("score")
    # The range check also keeps out NaN and integers too large for a float.
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                              or not 0 <= score <= 1):
        fail(f"{lab} span 'score' must be a number in [0, 1], got {str(score)[:40]}")
    return Span(lab, start, end, text, None if score is None else float(score))


def parse_document(rec: Any, *, path: str | None = None, line: int | None = None) -> Document:
    """Turn one decoded JSON object into a validated :class:`Document`.

    Raises:
        CorpusError: naming the file, line and id, for any breach of the contract.
    """
    if not isinstance(rec, dict):
        raise CorpusError("each line must be a JSON object with 'id', 'text' and 'events'",
                          path=path, line=line)
    doc_id = rec.get("id")
    if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool) or doc_id == "":
        raise CorpusError("the document has no usable 'id' (a non-empty string)", path=path, line=line)
    doc_id = str(doc_id)
    if not isinstance(rec.get("text"), str):
        raise CorpusError("the document has no string 'text'", path=path, line=line, doc_id=doc_id)
    events_raw = rec.get("events", [])
    if not isinstance(events_raw, list):
        raise CorpusError("'events' must be a list (use [] for a document without expulsions)",
                          path=path, line=line, doc_id=doc_id)
    events = []
    for ev in events_raw:
        if not isinstance(ev, dict) or "trigger" not in ev:
            raise CorpusError("each event needs a 'trigger' object", path=path, line=line, doc_id=doc_id)
        args = ev.get("arguments", [])
        if not isinstance(args, list):
            raise CorpusError("an event's 'arguments' must be a list", path=path, line=line, doc_id=doc_id)
        where = dict(path=path, line=line, doc_id=doc_id)
        events.append(Event(
            trigger=_span(ev["trigger"], TRIGGER, **where),
            arguments=[_span(a, None, **where) for a in args],
            extra={k: v for k, v in ev.items() if k not in ("trigger", "arguments")},
        ))
    meta = {k: v for k, v in rec.items() if k not in ("id", "text", "events")}
    doc = Document(id=doc_id, text=rec["text"], events=events, meta=meta)
    validate_document(doc, path=path, line=line)
    return doc


def check_events_jsonl(path: str) -> tuple[list[Document], list[CorpusError]]:
    """Every usable document of an events JSONL file and every problem in it, rather than
    stopping at the first (``expel-check`` lists them all)."""
    from pipeline.formats._io import check_utf8

    docs: list[Document] = []
    problems: list[CorpusError] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                check_utf8(line, path=path, line=lineno)
                rec = load_json(line, path=path, line=lineno, what="each line must be one JSON object")
                doc = parse_document(rec, path=path, line=lineno)
                if doc.id in seen:
                    raise CorpusError(f"id already used on line {seen[doc.id]}; ids must be unique",
                                      path=path, line=lineno, doc_id=doc.id)
            except CorpusError as e:
                problems.append(e)
                continue
            seen[doc.id] = lineno
            docs.append(doc)
    return docs, problems


# A line whose "events" list holds at least one object (however the JSON is spaced).
_HAS_EVENTS = re.compile(r'"events"\s*:\s*\[\s*\{')


def read_events_jsonl(path: str, *, check_unique: bool = True,
                      with_events_only: bool = False) -> Iterator[Document]:
    """Yield the documents of an events JSONL file, validating each line.

    Args:
        with_events_only: yield only documents with events; lines that cannot hold one
            (no ``"events": [{``) are passed over unparsed (a batch output is mostly
            documents without events, and parsing is most of reading it).

    Raises:
        CorpusError: on bytes that are not UTF-8, broken JSON, a breach of the contract,
            or a repeated id.
    """
    seen: dict[str, int] = {}
    for lineno, line in utf8_lines(path):
        if not line.strip() or (with_events_only and not _HAS_EVENTS.search(line)):
            continue
        rec = load_json(line, path=path, line=lineno, what="each line must be one JSON object")
        doc = parse_document(rec, path=path, line=lineno)
        if check_unique:
            if doc.id in seen:
                raise CorpusError(f"id already used on line {seen[doc.id]}; ids must be unique",
                                  path=path, line=lineno, doc_id=doc.id)
            seen[doc.id] = lineno
        if doc.events or not with_events_only:
            yield doc


def dumps_document(doc: Document) -> str:
    """One JSONL line (without newline) for a document."""
    return json.dumps(doc.to_json(), ensure_ascii=False)


def write_events_jsonl(docs: Iterable[Document], path: str) -> int:
    """Write documents to ``path``; returns how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(dumps_document(doc) + "\n")
            n += 1
    return n
