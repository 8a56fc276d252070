"""doccano JSONL: sequence labelling with relations, one document a line.

Read and written (the export of a doccano "relation extraction" project)::

    {"id": 7, "text": "Peru expels a diplomat.",
     "entities": [{"id": 1, "label": "TRIGGER", "start_offset": 5, "end_offset": 11},
                  {"id": 2, "label": "EXPELLER", "start_offset": 0, "end_offset": 4}],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "EXPELLER"}]}

- Entity labels are schema labels; each TRIGGER entity is one event.  A trigger shared
  by two events (gapping) is two TRIGGER entities with the same offsets (turn on
  "allow overlapping entity" in the doccano project to draw it).
- A relation joins a TRIGGER entity and an argument entity, **in either direction**;
  its ``type`` is free (the writer uses the role) and is not read, since the
  argument's label is its role.  An argument shared by two events has a relation from
  each trigger.
- Linking without relations: in a document with no relation at all, each argument is
  linked to the **nearest trigger** by character distance (ties go to the earlier
  trigger).  In a document with relations, an argument without one is an error unless
  the document has a single trigger.
- Also read: the older sequence-labelling export, ``"label": [[start, end, "LABEL"],
  ...]`` (no relations, so nearest-trigger linking).  When ``"entities"`` is present,
  a ``"label"`` field is an ordinary extra field.
- Every field other than ``id``, ``text``, ``entities`` and ``relations`` is kept in
  ``Document.meta`` and written back.  Scores and event fields other than trigger and
  arguments are not written.

Example:
    >>> docs = list(read_doccano("export.doccano.jsonl"))   # doctest: +SKIP
    >>> write_doccano(docs, "import.doccano.jsonl")         # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any, Hashable, Iterable, Iterator, NoReturn

from pipeline.formats._io import load_json, utf8_lines
from pipeline.formats.links import (Mention, as_doc_id, checked_span, entities_and_relations,
                                     events_from_relations)
from pipeline.schema import CorpusError, Document, validate_document

_ANNOTATION_KEYS = ("entities", "relations")


def read_doccano(path: str) -> Iterator[Document]:
    """Yield the validated documents of a doccano JSONL file.

    Args:
        path: the file (UTF-8, one JSON object a line).

    Returns:
        An iterator of documents, in file order.

    Raises:
        CorpusError: naming the file, line and id, for bytes that are not UTF-8, broken
            JSON, a bad entity or
            relation, an argument that cannot be linked, a breach of the contract, or
            a repeated id.
    """
    seen: dict[str, int] = {}
    for lineno, line in utf8_lines(path, bom=True):
        if not line.strip():
            continue
        rec = load_json(line, path=path, line=lineno, what="each line must be one JSON object")
        doc = parse_record(rec, path=path, line=lineno)
        if doc.id in seen:
            raise CorpusError(f"id already used on line {seen[doc.id]}; ids must be unique",
                              path=path, line=lineno, doc_id=doc.id)
        seen[doc.id] = lineno
        yield doc


def parse_record(rec: Any, *, path: str | None = None, line: int | None = None) -> Document:
    """Turn one decoded doccano record into a validated :class:`Document`.

    Raises:
        CorpusError: naming the file, line and id, for any problem of the record.
    """
    if not isinstance(rec, dict):
        raise CorpusError("each line must be a JSON object with 'id', 'text' and 'entities'",
                          path=path, line=line)
    doc_id = as_doc_id(rec.get("id"))
    if doc_id is None:
        raise CorpusError("the record has no usable 'id' (a non-empty string or an integer)",
                          path=path, line=line)

    def fail(msg: str) -> NoReturn:
        raise CorpusError(msg, path=path, line=line, doc_id=doc_id)

    text = rec.get("text")
    if not isinstance(text, str):
        fail("the record has no string 'text'" + (" (older doccano exports call it 'data': "
                                                   "rename the field)" if "data" in rec else ""))
    if "entities" in rec:
        entities = _entities(rec["entities"], text, fail)
        relations = _relations(rec.get("relations", []), fail)
        used = ("id", "text", *_ANNOTATION_KEYS)
    elif "label" in rec:
        entities, relations, used = _legacy_labels(rec["label"], text, fail), [], ("id", "text", "label")
    else:
        fail("the record has neither 'entities' nor 'label'; a document without spans has "
             '"entities": []')
    doc = Document(id=doc_id, text=text, events=events_from_relations(entities, relations, fail),
                   meta={k: v for k, v in rec.items() if k not in used})
    validate_document(doc, path=path, line=line)
    return doc


def _entities(raw: Any, text: str, fail) -> dict[Hashable, Mention]:
    if not isinstance(raw, list):
        fail("'entities' must be a list of {id, label, start_offset, end_offset} objects")
    out: dict[Hashable, Mention] = {}
    for k, e in enumerate(raw, start=1):
        if not isinstance(e, dict):
            fail(f"entity #{k} must be an object with id, label, start_offset and end_offset")
        eid = e.get("id")
        if isinstance(eid, bool) or not isinstance(eid, (int, str)):
            fail(f"entity #{k} needs an integer or string 'id', got {eid!r}")
        if eid in out:
            fail(f"entity id {eid!r} is used twice; entity ids must be unique in a record")
        where = f"entity {eid!r}"
        out[eid] = Mention(checked_span(e.get("label"), e.get("start_offset"), e.get("end_offset"),
                                        text, where, fail), where)
    return out


def _relations(raw: Any, fail) -> list[tuple[Hashable, Hashable, str]]:
    if not isinstance(raw, list):
        fail("'relations' must be a list of {id, from_id, to_id, type} objects")
    out = []
    for k, r in enumerate(raw, start=1):
        if not isinstance(r, dict) or not all(isinstance(r.get(x), (int, str)) for x in ("from_id", "to_id")):
            fail(f"relation #{k} must be an object with 'from_id' and 'to_id' entity ids")
        out.append((r["from_id"], r["to_id"], f"relation {r.get('id', f'#{k}')!r}"))
    return out


def _legacy_labels(raw: Any, text: str, fail) -> dict[Hashable, Mention]:
    """The older ``"label": [[start, end, label], ...]`` form."""
    if not isinstance(raw, list):
        fail("'label' must be a list of [start_offset, end_offset, label] triples")
    out: dict[Hashable, Mention] = {}
    for k, item in enumerate(raw, start=1):
        if not (isinstance(item, list) and len(item) == 3):
            fail(f"label #{k} is {item!r}; expected [start_offset, end_offset, label] (a text "
                 "classification export has no spans and cannot be read)")
        where = f"label #{k}"
        out[k] = Mention(checked_span(item[2], item[0], item[1], text, where, fail), where)
    return out


def to_record(doc: Document) -> dict[str, Any]:
    """The doccano record (entities and relations form) of a document.

    Raises:
        CorpusError: for an invalid document, or one whose ``meta`` has a field named
            ``entities`` or ``relations``.
    """
    validate_document(doc)
    clash = [k for k in _ANNOTATION_KEYS if k in doc.meta]
    if clash:
        raise CorpusError(f"meta field(s) {clash} would be read back as annotations; rename "
                          "them", doc_id=doc.id)
    entities, relations = entities_and_relations(doc)
    return {
        "id": doc.id, "text": doc.text, **doc.meta,
        "entities": [{"id": i, "label": s.label, "start_offset": s.start, "end_offset": s.end}
                     for i, s in enumerate(entities, start=1)],
        # +1: doccano ids start at 1; the relation type is the argument's role.
        "relations": [{"id": i, "from_id": t + 1, "to_id": a + 1, "type": entities[a].label}
                      for i, (t, a) in enumerate(relations, start=1)],
    }


def write_doccano(docs: Iterable[Document], path: str) -> int:
    """Write documents as doccano JSONL (entities and relations form).

    Args:
        docs: the documents.
        path: the output file (UTF-8).

    Returns:
        How many documents were written.

    Raises:
        CorpusError: see :func:`to_record`.
    """
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(to_record(doc), ensure_ascii=False) + "\n")
            n += 1
    return n
