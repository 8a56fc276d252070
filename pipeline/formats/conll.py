"""CoNLL / BIO columns: one token a line, the tag in the last column.

Layout of a document (documents are separated by a blank line)::

    # id = contract-example-moldova
    # text = Moldova orders the expulsion of 22 Russian diplomats by August 15.
    # meta = {"date": "2023-07-26"}
    Moldova	B-EXPELLER#1
    orders	O
    the	O
    expulsion	B-TRIGGER#1
    ...

- Tags are ``O``, ``B-LABEL`` and ``I-LABEL`` with a label of the schema.  An ``I-``
  tag must continue a span of the same label; one that does not is an error (write
  ``B-`` to start a span).  BIOES tags (``S-``, ``E-``) are not read.
- **Event links.**  Plain BIO cannot say which trigger an argument belongs to, so a
  tag may carry event numbers, as in the inline markup: ``B-EXPELLER#1,2`` is an
  argument of events 1 and 2, ``B-TRIGGER#1,2`` a (gapped) trigger shared by events
  1 and 2.  ``I-`` tags may repeat the numbers of their ``B-`` tag or leave them out.
  In a document that numbers its spans, a span without numbers is allowed only where
  the document has a single event.
- **Without any numbers** in a document, each trigger is its own event and each
  argument is linked to the **nearest trigger** by character distance (ties go to the
  trigger earlier in the text).  This is a heuristic: check its output, or number the
  spans.  An argument in a document without a trigger is an error.
- ``# id = ...`` gives the document id (without it: ``<file stem>-<n>``, the n-th
  document of the file); ``# text = ...`` the exact text, so offsets are exact
  (``# text_json = "..."`` holds a JSON string, for text with line breaks or
  leading/trailing spaces).  Without a text line the tokens are joined with single
  spaces.  ``# meta = {...}`` is a JSON object of other fields; any other
  ``# key = value`` line is kept in ``meta`` as a string.
- Header lines come before the first token of a document; a line starting with ``#``
  inside the token block is a token.  A header line that is exactly ``#`` and a tag is
  taken as a token too.  ``-DOCSTART-`` lines (CoNLL-2003) separate documents.

The writer tokenises with ``\\w+|[^\\w\\s]``, splits tokens where a span starts or ends
inside one, and writes ``# id``, the text line, ``# meta`` and numbered tags, so a read
after a write gives back the same spans and links.  Scores and event fields other than
trigger and arguments are not written.

Example:
    >>> docs = list(read_conll("data/gold/dev.conll"))   # doctest: +SKIP
    >>> write_conll(docs, "copy.conll")                  # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NoReturn

from pipeline.formats._io import load_json, utf8_lines
from pipeline.formats.links import Mention, assemble_events, event_numbers, label_problem
from pipeline.schema import TRIGGER, CorpusError, Document, Event, Span, validate_document

_TOKEN = re.compile(r"\w+|[^\w\s]")
_TAG = re.compile(r"(?P<bio>[BI])-(?P<label>[^#\s]+)(?:#(?P<ids>[0-9]+(?:,[0-9]+)*))?")
_COMMENT = re.compile(r"#\s*(?P<key>[A-Za-z_][\w.-]*)\s*=\s?(?P<value>.*)")
_RESERVED = ("id", "text", "text_json", "meta")
# Longer event numbers are refused: int() of a 5,000-digit string raises ValueError.
MAX_EVENT_DIGITS = 6

Lines = list[tuple[int, str]]  # (line number, line without its newline)


@dataclass
class _Chunk:
    """One B-/I- run of tokens: a span with its event numbers and the line of its B- tag."""

    label: str
    start: int
    end: int
    ids: tuple[int, ...] | None
    line: int

    def span(self, text: str) -> Span:
        return Span(self.label, self.start, self.end, text[self.start:self.end])


@dataclass
class _Header:
    """What the ``# key = value`` lines of a document say."""

    doc_id: str | None = None
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- reading

def read_conll(path: str) -> Iterator[Document]:
    """Yield the validated documents of a CoNLL/BIO file.

    Args:
        path: the file (UTF-8).

    Returns:
        An iterator of documents, in file order.

    Raises:
        CorpusError: naming the file, line and id, for a bad tag, an ``I-`` tag that
            continues nothing, tokens that do not match ``# text``, an argument that
            cannot be linked, or a repeated id.
    """
    seen: dict[str, int] = {}
    n = 0
    for block in _blocks(path):
        doc = _parse_block(block, path, default_id=f"{Path(path).stem}-{n + 1}")
        if doc is None:
            continue
        n += 1
        line = block[0][0]
        if doc.id in seen:
            raise CorpusError(f"id already used by the document on line {seen[doc.id]}; ids "
                              "must be unique", path=path, line=line, doc_id=doc.id)
        seen[doc.id] = line
        yield doc


def _blocks(path: str) -> Iterator[Lines]:
    """Non-empty runs of lines between blank (or ``-DOCSTART-``) lines."""
    block: Lines = []
    for lineno, raw in utf8_lines(path, bom=True):
        line = raw.rstrip("\n")
        if not line.strip() or line.split()[0] == "-DOCSTART-":
            if block:
                yield block
            block = []
        else:
            block.append((lineno, line))
    if block:
        yield block


def _is_header_line(line: str) -> bool:
    fields = line.split()
    looks_like_token = len(fields) == 2 and fields[0] == "#" and _tag_problem(fields[1]) is None
    return line.startswith("#") and not looks_like_token


def _parse_block(block: Lines, path: str, default_id: str) -> Document | None:
    """One document from its lines, or ``None`` for a block of free comments only."""
    i = 0
    while i < len(block) and _is_header_line(block[i][1]):
        i += 1
    header = _parse_header(block[:i], path)
    rows = block[i:]
    if not rows and header.doc_id is None and header.text is None:
        return None
    doc_id = header.doc_id or default_id

    def fail(msg: str, line: int | None = None) -> NoReturn:
        raise CorpusError(msg, path=path, line=line, doc_id=doc_id)

    tokens = [(line, _fields(line, row, fail)) for line, row in rows]
    words = [fields[0] for _, fields in tokens]
    text = header.text if header.text is not None else " ".join(words)
    offsets = _align(words, text, [line for line, _ in tokens] or [block[0][0]], fail)
    chunks = _chunks(tokens, offsets, fail)
    doc = Document(id=doc_id, text=text, events=_events(chunks, text, fail), meta=header.meta)
    validate_document(doc, path=path, line=block[0][0])
    return doc


def _parse_header(lines: Lines, path: str) -> _Header:
    """Read ``# key = value`` lines; other comment lines are ignored."""
    h = _Header()
    for line, row in lines:
        m = _COMMENT.fullmatch(row)
        if not m:
            continue
        key, value = m.group("key"), m.group("value")
        slot = "text" if key == "text_json" else key  # one text per document, either way
        if slot in h.seen and key in _RESERVED:
            raise CorpusError(f"a second '# {key}' line in one document; separate documents "
                              "with a blank line", path=path, line=line, doc_id=h.doc_id)
        h.seen.add(slot)
        if key == "id":
            h.doc_id = value.strip()
        elif key == "text":
            h.text = value
        elif key == "text_json":
            h.text = _json_value(value, str, path, line, h.doc_id)
        elif key == "meta":
            h.meta.update(_json_value(value, dict, path, line, h.doc_id))
        else:
            h.meta[key] = value.strip()
    return h


def _json_value(value: str, expected: type, path: str, line: int, doc_id: str | None) -> Any:
    what = "string" if expected is str else "object"
    obj = load_json(value, path=path, line=line, doc_id=doc_id,
                    what=f"expected a JSON {what} after '='")
    if not isinstance(obj, expected):
        what = "string" if expected is str else "object"
        raise CorpusError(f"expected a JSON {what} after '=', got {value[:60]!r}",
                          path=path, line=line, doc_id=doc_id)
    return obj


def _fields(line: int, row: str, fail) -> list[str]:
    fields = row.split()
    if len(fields) < 2:
        fail(f"expected 'TOKEN TAG' (whitespace-separated, tag in the last column), got {row!r}; "
             "comment lines go before the first token of a document", line)
    problem = _tag_problem(fields[-1])
    if problem:
        fail(problem, line)
    return fields


def _tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid BIO tag, with a hint; ``None`` when it is valid."""
    if tag == "O":
        return None
    m = _TAG.fullmatch(tag)
    if m:
        if m.group("ids") and any(len(x) > MAX_EVENT_DIGITS for x in m.group("ids").split(",")):
            return (f"tag {tag[:40]!r}: event number of more than {MAX_EVENT_DIGITS} digits; "
                    "number events 1, 2, ...")
        problem = label_problem(m.group("label"))
        return f"tag {tag!r}: {problem}" if problem else None
    if tag[:2] in ("S-", "E-", "U-", "L-"):
        return f"tag {tag!r} is BIOES/BILOU; only BIO is read: write B- for S-/U- and I- for E-/L-"
    return (f"tag {tag!r} is not O, B-LABEL or I-LABEL (event numbers as in B-EXPELLER#1,2); "
            "the tag must be the last column")


def _align(words: list[str], text: str, lines: list[int], fail) -> list[tuple[int, int]]:
    """Character offsets of each token in ``text``; only whitespace may lie between tokens.

    ``lines`` holds the line of each token (for a document without tokens, its first
    line), so that every message names a line.
    """
    offsets, pos = [], 0
    for word, line in zip(words, lines):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not text.startswith(word, pos):
            fail(f"token {word!r} does not match the text at offset {pos} "
                 f"({text[pos:pos + len(word) + 10]!r}); tokens must spell out the '# text' line "
                 "in order, separated only by whitespace", line)
        offsets.append((pos, pos + len(word)))
        pos += len(word)
    if text[pos:].strip():
        fail(f"the '# text' line goes on after the last token with {text[pos:pos + 30]!r}; "
             "add the missing tokens or fix the text line", lines[-1])
    return offsets


def _chunks(tokens: list[tuple[int, list[str]]], offsets: list[tuple[int, int]], fail) -> list[_Chunk]:
    """Group B-/I- runs into spans, checking that every I- continues a span of its label."""
    chunks: list[_Chunk] = []
    current: _Chunk | None = None
    previous = "the start of the document"
    for (line, fields), (start, end) in zip(tokens, offsets):
        tag = fields[-1]
        m = _TAG.fullmatch(tag)
        if m is None:  # 'O'
            current = None
        elif m.group("bio") == "B":
            current = _Chunk(m.group("label"), start, end, _ids(m), line)
            chunks.append(current)
        else:
            label, ids = m.group("label"), _ids(m)
            if current is None or current.label != label:
                fail(f"{tag} follows {previous}, so it continues no {label} span; start the "
                     f"span with B-{label}", line)
            if ids is not None and ids != current.ids:
                fail(f"{tag} has other event numbers than the B-{label} on line {current.line}; "
                     "give the whole span the same numbers", line)
            current.end = end
        previous = repr(tag)
    return chunks


def _ids(m: re.Match) -> tuple[int, ...] | None:
    if m.group("ids") is None:
        return None
    return tuple(dict.fromkeys(int(x) for x in m.group("ids").split(",")))


def _events(chunks: list[_Chunk], text: str, fail) -> list[Event]:
    """Resolve event numbers (or, without any, nearest-trigger linking) into events."""
    triggers = [c for c in chunks if c.label == TRIGGER]
    arguments = [c for c in chunks if c.label != TRIGGER]
    if all(c.ids is None for c in chunks):
        return assemble_events([c.span(text) for c in triggers],
                               [Mention(c.span(text), f"line {c.line}") for c in arguments],
                               explicit=False, fail=fail)
    numbered = _numbered_triggers(triggers, text, fail)
    order = {k: i for i, k in enumerate(sorted(numbered))}
    mentions = []
    for c in arguments:
        for k in c.ids or ():
            if k not in order:
                fail(f"{c.label} {c.span(text).text!r} is linked to event #{k}, which has no "
                     "TRIGGER; fix the number or tag the trigger", c.line)
        links = None if c.ids is None else tuple(order[k] for k in c.ids)
        mentions.append(Mention(c.span(text), f"line {c.line}", links))
    return assemble_events([numbered[k] for k in sorted(numbered)], mentions,
                           explicit=True, fail=fail)


def _numbered_triggers(triggers: list[_Chunk], text: str, fail) -> dict[int, Span]:
    """Event number -> trigger span; a lone trigger without a number is event 1."""
    numbered: dict[int, Span] = {}
    for c in triggers:
        ids = c.ids if c.ids is not None else (1,) if len(triggers) == 1 else None
        if ids is None:
            fail("the document numbers its spans and has several triggers: number this one "
                 "too, e.g. B-TRIGGER#2", c.line)
        for k in ids:
            if k in numbered:
                fail(f"event #{k} already has a trigger; give this event another number", c.line)
            numbered[k] = c.span(text)
    return numbered


# --------------------------------------------------------------------------- writing

def write_conll(docs: Iterable[Document], path: str) -> int:
    """Write documents as CoNLL columns with ``# id``, ``# text``, ``# meta`` and numbered tags.

    Args:
        docs: the documents.
        path: the output file (UTF-8).

    Returns:
        How many documents were written.

    Raises:
        CorpusError: for a document that is invalid, has an id with line breaks or
            outer spaces, or a span that starts or ends with whitespace (token
            columns cannot show that).
    """
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for doc in docs:
            f.write(format_document(doc) + "\n")
            n += 1
    return n


def format_document(doc: Document) -> str:
    """The CoNLL lines of one document, each ending in a newline."""
    validate_document(doc)
    if doc.id != doc.id.strip() or len(doc.id.splitlines()) != 1:
        raise CorpusError("the id has line breaks or leading/trailing spaces; a '# id' line "
                          "cannot keep them, change the id", doc_id=doc.id)
    lines = [f"# id = {doc.id}"]
    if len(doc.text.splitlines()) == 1 and doc.text == doc.text.strip():
        lines.append(f"# text = {doc.text}")
    else:
        lines.append(f"# text_json = {json.dumps(doc.text, ensure_ascii=False)}")
    if doc.meta:
        lines.append(f"# meta = {json.dumps(doc.meta, ensure_ascii=False)}")
    lines += [f"{doc.text[a:b]}\t{tag}" for (a, b), tag in zip(*_tokens_and_tags(doc))]
    return "".join(line + "\n" for line in lines)


def _tokens_and_tags(doc: Document) -> tuple[list[tuple[int, int]], list[str]]:
    spans = doc.spans()
    for s in spans:
        if s.text != s.text.strip():
            raise CorpusError(f"{s.label} {s.text!r} [{s.start}, {s.end}) starts or ends with "
                              "whitespace, which token columns cannot show; trim the span",
                              doc_id=doc.id)
    tokens = tokenize(doc.text, [b for s in spans for b in (s.start, s.end)])
    numbers = event_numbers(doc)
    tags, j = [], 0
    for a, _ in tokens:
        while j < len(spans) and spans[j].end <= a:
            j += 1
        if j < len(spans) and spans[j].start <= a:
            s = spans[j]
            bio = "B" if a == s.start else "I"
            tags.append(f"{bio}-{s.label}#{','.join(map(str, numbers[s.key]))}")
        else:
            tags.append("O")
    return tokens, tags


def tokenize(text: str, cuts: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Token offsets by ``\\w+|[^\\w\\s]``, split at every offset in ``cuts`` inside a token.

    Example:
        >>> tokenize("Poland's envoy", cuts=[4])
        [(0, 4), (4, 6), (6, 7), (7, 8), (9, 14)]
    """
    cuts = sorted(set(cuts))
    out = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        # Cuts strictly inside this token: bisect gives the first cut > start.
        for cut in cuts[bisect.bisect_right(cuts, start):bisect.bisect_left(cuts, end)]:
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out
