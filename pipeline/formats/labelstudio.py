"""Label Studio JSON export: a JSON list of tasks with span regions and relations.

A task, as exported ("JSON" export) and as written here::

    {"id": 1,
     "data": {"id": "cep-1", "text": "Peru expels a diplomat.", "date": "2023-07-26"},
     "annotations": [{"result": [
        {"id": "r1", "type": "labels", "from_name": "label", "to_name": "text",
         "value": {"start": 5, "end": 11, "text": "expels", "labels": ["TRIGGER"]}},
        {"id": "r2", "type": "labels", "from_name": "label", "to_name": "text",
         "value": {"start": 0, "end": 4, "text": "Peru", "labels": ["EXPELLER"]}},
        {"type": "relation", "from_id": "r1", "to_id": "r2", "direction": "right"}]}]}

A labelling config that produces it::

    <View>
      <Labels name="label" toName="text">
        <Label value="TRIGGER"/><Label value="EXPELLER"/><Label value="EXPELLED"/>
        <Label value="REASON"/><Label value="TIME"/><Label value="DEADLINE"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>

- The **first annotation that is not cancelled** (``was_cancelled: true``) is read;
  later ones (a second annotator) are ignored.  A task without such an annotation is
  an error (leave unannotated tasks out of the export); an annotation with an empty
  ``result`` is a document without events.
- The document id is ``data["id"]`` when present, else the task id; the other
  ``data`` fields are kept in ``Document.meta`` (task-level bookkeeping such as
  ``created_at`` is not).
- Each ``labels`` region has exactly one label of the schema; each TRIGGER region is
  one event (a gapped trigger shared by two events is two regions with the same
  offsets).  A ``relation`` joins a TRIGGER region and an argument region; its
  ``direction`` and relation labels are not read.  Result types other than ``labels``
  and ``relation`` (choices, textarea, ...) carry no spans and are skipped.
- Without any relation in an annotation, each argument is linked to the **nearest
  trigger** by character distance (ties go to the earlier trigger); with relations,
  an argument without one is an error unless there is a single trigger.
- Offsets are Python (code point) offsets; a region whose ``text`` differs from the
  document there is an error (Label Studio versions that counted an emoji as two
  characters produce such regions).  Scores and event fields other than trigger and
  arguments are not written.

Example:
    >>> docs = list(read_labelstudio("export.labelstudio.json"))   # doctest: +SKIP
    >>> write_labelstudio(docs, "tasks.labelstudio.json")          # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any, Hashable, Iterable, Iterator, NoReturn

from pipeline.formats._io import load_json, read_utf8
from pipeline.formats.links import (Mention, as_doc_id, checked_span, entities_and_relations,
                                     events_from_relations)
from pipeline.schema import CorpusError, Document, validate_document


def read_labelstudio(path: str) -> Iterator[Document]:
    """Yield the validated documents of a Label Studio JSON export.

    Args:
        path: the export (UTF-8, one JSON list of tasks).

    Returns:
        An iterator of documents, in task order.

    Raises:
        CorpusError: naming the file, the task (``task #n``, counted from 1) and the id,
            for bytes that are not UTF-8, broken JSON, a task without a usable annotation, a bad region or
            relation, an argument that cannot be linked, or a repeated id.
    """
    tasks = _load(path)
    seen: dict[str, int] = {}
    for index, task in enumerate(tasks, start=1):
        doc = parse_task(task, index=index, path=path)
        if doc.id in seen:
            raise CorpusError(f"task #{index}: id already used by task #{seen[doc.id]}; ids must "
                              "be unique", path=path, doc_id=doc.id)
        seen[doc.id] = index
        yield doc


def _load(path: str) -> list[Any]:
    tasks = load_json(read_utf8(path), path=path, line=None,
                      what="a Label Studio export is one JSON list of tasks")
    if not isinstance(tasks, list):
        raise CorpusError("a Label Studio export is a JSON list of tasks; got a "
                          f"{type(tasks).__name__} (export with the 'JSON' format, not JSON-MIN)",
                          path=path)
    return tasks


def parse_task(task: Any, *, index: int, path: str | None = None) -> Document:
    """Turn one exported task into a validated :class:`Document`.

    Args:
        task: the decoded task.
        index: its position in the export, from 1, for messages.
        path: the file, for messages.

    Returns:
        The document.

    Raises:
        CorpusError: naming the file, task and id, for any problem of the task.
    """
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict):
        raise CorpusError(f"task #{index} is not an object with a 'data' object", path=path)
    doc_id = as_doc_id(data.get("id", task.get("id")))

    def fail(msg: str) -> NoReturn:
        raise CorpusError(f"task #{index}: {msg}", path=path, doc_id=doc_id)

    if doc_id is None:
        fail("no usable id: give data an 'id' (or keep the task 'id' in the export)")
    text = data.get("text")
    if not isinstance(text, str):
        fail("data has no string 'text'; the labelling config must read value=\"$text\"")
    result = _first_annotation(task, fail)
    entities, relations = _results(result, text, fail)
    doc = Document(id=doc_id, text=text, events=events_from_relations(entities, relations, fail),
                   meta={k: v for k, v in data.items() if k not in ("id", "text")})
    if _as_proposed(result, task.get("predictions")):
        doc.meta[UNCHANGED] = True
    try:
        validate_document(doc)
    except CorpusError as e:
        # Re-raise with the task number; the message of e starts with "id '...': ".
        fail(str(e).removeprefix(f"id {doc_id!r}: "))
    return doc


# Set on a document whose annotation is the model's pre-annotation, span for span: it was
# accepted unchanged, or submitted without being read (expel-merge lists these).
UNCHANGED = "accepted_unchanged"


def _regions(result: list[Any]) -> set[tuple]:
    out = set()
    for r in result:
        if isinstance(r, dict) and r.get("type") == "labels" and isinstance(r.get("value"), dict):
            v = r["value"]
            out.add(("span", v.get("start"), v.get("end"), tuple(v.get("labels") or ())))
        elif isinstance(r, dict) and r.get("type") == "relation":
            out.add(("relation", str(r.get("from_id")), str(r.get("to_id"))))
    return out


def _as_proposed(result: list[Any], predictions: Any) -> bool:
    """The annotation holds exactly the spans of a prediction of the task (and at least one)."""
    if not isinstance(predictions, list):
        return False
    spans = {r for r in _regions(result) if r[0] == "span"}
    return bool(spans) and any(
        isinstance(p, dict) and isinstance(p.get("result"), list)
        and {r for r in _regions(p["result"]) if r[0] == "span"} == spans for p in predictions)


def _first_annotation(task: dict, fail) -> list[Any]:
    """The ``result`` list of the first annotation not cancelled."""
    annotations = task.get("annotations")
    if annotations is None and "completions" in task:
        fail("has 'completions' (Label Studio before 1.0); export again with a current version")
    if not isinstance(annotations, list):
        fail("has no 'annotations' list")
    usable = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not usable:
        fail("has no annotation that is not cancelled; annotate the task or leave it out "
             "of the export")
    result = usable[0].get("result")
    if not isinstance(result, list):
        fail("the annotation has no 'result' list")
    return result


def _results(result: list[Any], text: str, fail) -> tuple[dict[Hashable, Mention], list]:
    """Regions (id -> mention) and ``(from_id, to_id, where)`` relations of a result."""
    entities: dict[Hashable, Mention] = {}
    relations = []
    for k, r in enumerate(result, start=1):
        kind = r.get("type") if isinstance(r, dict) else None
        if kind == "labels":
            rid, mention = _region(r, k, text, fail)
            if rid in entities:
                fail(f"region id {rid!r} is used by two 'labels' results; give each region "
                     "one label from one Labels control")
            entities[rid] = mention
        elif kind == "relation":
            a, b = r.get("from_id"), r.get("to_id")
            if not all(isinstance(x, (str, int)) for x in (a, b)):
                fail(f"result #{k} (relation) needs region ids in 'from_id' and 'to_id', got "
                     f"{str(a)[:30]} and {str(b)[:30]}")
            relations.append((a, b, f"relation {a!r} -> {b!r}"))
        elif not isinstance(r, dict):
            fail(f"result #{k} is not an object")
    return entities, relations


def _region(r: dict, k: int, text: str, fail) -> tuple[Hashable, Mention]:
    rid = r.get("id")
    if not isinstance(rid, (str, int)):
        fail(f"result #{k} (labels) has no region 'id'")
    where = f"region {rid!r}"
    value = r.get("value")
    labels = value.get("labels") if isinstance(value, dict) else None
    if not (isinstance(labels, list) and len(labels) == 1):
        fail(f"{where} must have a 'value' with exactly one label in 'labels', got {labels!r}")
    span = checked_span(labels[0], value.get("start"), value.get("end"), text, where, fail)
    if "text" in value and value["text"] != span.text:
        fail(f"{where}: its text {value['text']!r} differs from the document text {span.text!r} "
             f"at [{span.start}, {span.end}); fix the offsets (an emoji before the region "
             "shifts them in older Label Studio versions)")
    return rid, Mention(span, where)


# The labelling config for the tasks this project writes (spans, and relations from a
# trigger to its arguments); expel-annotate writes it beside the tasks.
LABELING_CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="TRIGGER" background="#ffd166"/>
    <Label value="EXPELLER" background="#8ecae6"/>
    <Label value="EXPELLED" background="#f4a3a8"/>
    <Label value="REASON" background="#b5e48c"/>
    <Label value="TIME" background="#cdb4db"/>
    <Label value="DEADLINE" background="#ffb703"/>
  </Labels>
  <Relations>
    <Relation value="arg"/>
  </Relations>
  <Text name="text" value="$text"/>
</View>
"""


def _result(doc: Document, scores: bool) -> list[dict[str, Any]]:
    entities, relations = entities_and_relations(doc)
    result: list[dict[str, Any]] = []
    for i, s in enumerate(entities, start=1):
        region = {"id": f"r{i}", "type": "labels", "from_name": "label", "to_name": "text",
                  "value": {"start": s.start, "end": s.end, "text": s.text, "labels": [s.label]}}
        if scores and s.score is not None:
            region["score"] = round(float(s.score), 4)
        result.append(region)
    result += [{"type": "relation", "from_id": f"r{t + 1}", "to_id": f"r{a + 1}", "direction": "right"}
               for t, a in relations]
    return result


def to_prediction_task(doc: Document, model_version: str, score: float | None = None) -> dict[str, Any]:
    """A Label Studio task whose spans and links are a model's *predictions* (pre-annotations
    a person accepts or corrects), not an annotation.

    Raises:
        CorpusError: for an invalid document.
    """
    validate_document(doc)
    prediction: dict[str, Any] = {"model_version": model_version, "result": _result(doc, scores=True)}
    if score is not None:
        prediction["score"] = round(float(score), 4)
    return {"data": {"id": doc.id, "text": doc.text, **doc.meta}, "predictions": [prediction]}


def to_task(doc: Document, index: int) -> dict[str, Any]:
    """The Label Studio task of a document, with one annotation.

    Args:
        doc: the document.
        index: the task id to write (Label Studio assigns its own on import).

    Returns:
        The task.

    Raises:
        CorpusError: for an invalid document.
    """
    validate_document(doc)
    return {"id": index, "data": {"id": doc.id, "text": doc.text, **doc.meta},
            "annotations": [{"result": _result(doc, scores=False)}]}


def write_labelstudio(docs: Iterable[Document], path: str) -> int:
    """Write documents as a Label Studio JSON list of tasks (importable with annotations).

    Args:
        docs: the documents.
        path: the output file (UTF-8).

    Returns:
        How many documents were written.

    Raises:
        CorpusError: for an invalid document.
    """
    tasks = [to_task(doc, i) for i, doc in enumerate(docs, start=1)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return len(tasks)
