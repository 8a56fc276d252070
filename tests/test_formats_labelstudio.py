"""Label Studio JSON reader and writer: annotations chosen, round trips, malformed input."""

import json
from pathlib import Path

import pytest

from pipeline.formats.links import event_links
from pipeline.formats.jsonl import read_events_jsonl
from pipeline.formats.labelstudio import read_labelstudio, to_task, write_labelstudio
from pipeline.schema import CorpusError, Document

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
TEXT = "Peru expels a diplomat."


def events_jsonl() -> list[Document]:
    return list(read_events_jsonl(str(FIXTURES / "events.jsonl")))


def links(doc: Document) -> set[tuple[str, frozenset[str]]]:
    """Readable canonical form: {(trigger text, {(role, argument text)})}."""
    return {(e.trigger.text, frozenset((a.label, a.text) for a in e.arguments)) for e in doc.events}


def region(rid, start, end, label, text=TEXT, **value):
    return {"id": rid, "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label], **value}}


def relation(a, b, direction="right"):
    return {"type": "relation", "from_id": a, "to_id": b, "direction": direction}


PERU = [region("a", 0, 4, "EXPELLER"), region("t", 5, 11, "TRIGGER"), region("b", 12, 22, "EXPELLED")]


def task(result=None, tid=1, **data):
    return {"id": tid, "data": {"id": "d1", "text": TEXT, **data},
            "annotations": [{"result": PERU + [relation("t", "a"), relation("t", "b")]
                             if result is None else result}]}


def write_tasks(tmp_path: Path, tasks) -> str:
    path = tmp_path / "x.labelstudio.json"
    path.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks), encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- reading

def test_fixture_reads_like_events_jsonl():
    # The fixture's first task starts with a cancelled (and wrong) annotation, has a
    # 'choices' result and a relation drawn from argument to trigger.
    got = list(read_labelstudio(str(FIXTURES / "events.labelstudio.json")))
    assert [d.to_json() for d in got[:5]] == [d.to_json() for d in events_jsonl()]


def test_task_id_is_the_fallback_id_and_no_relations_means_nearest_trigger():
    last = list(read_labelstudio(str(FIXTURES / "events.labelstudio.json")))[-1]
    assert last.id == "906" and last.meta == {}
    assert links(last) == {("expels", frozenset({("EXPELLER", "Peru"), ("EXPELLED", "a diplomat")}))}


def test_first_annotation_that_is_not_cancelled_is_read(tmp_path):
    t = task()
    t["annotations"] = [{"result": [], "was_cancelled": True}, t["annotations"][0], {"result": []}]
    (doc,) = read_labelstudio(write_tasks(tmp_path, [t]))
    assert len(doc.events) == 1 and len(doc.events[0].arguments) == 2


def test_data_fields_other_than_id_and_text_are_meta(tmp_path):
    (doc,) = read_labelstudio(write_tasks(tmp_path, [task(date="2023-01-02", url="u")]))
    assert doc.meta == {"date": "2023-01-02", "url": "u"}


# --------------------------------------------------------------------------- writing

def test_writer_shape():
    gapped = events_jsonl()[2]
    t = to_task(gapped, 3)
    assert t["id"] == 3 and t["data"] == {"id": "gapped-trigger", "text": gapped.text}
    result = t["annotations"][0]["result"]
    regions = [r for r in result if r["type"] == "labels"]
    assert [r["value"]["labels"] for r in regions] == [["TRIGGER"], ["EXPELLER"], ["EXPELLED"],
                                                       ["TRIGGER"], ["EXPELLER"], ["EXPELLED"]]
    assert regions[0]["value"] == {"start": 7, "end": 15, "text": "expelled", "labels": ["TRIGGER"]}
    assert {"type": "relation", "from_id": "r4", "to_id": "r5", "direction": "right"} in result


# --------------------------------------------------------------------------- round trips

def test_read_write_read_keeps_documents_spans_and_links(tmp_path):
    first = list(read_labelstudio(str(FIXTURES / "events.labelstudio.json")))
    path = str(tmp_path / "copy.labelstudio.json")
    assert write_labelstudio(first, path) == len(first)
    second = list(read_labelstudio(path))
    assert [d.id for d in second] == [d.id for d in first]
    assert [event_links(d) for d in second] == [event_links(d) for d in first]
    assert [d.to_json() for d in second] == [d.to_json() for d in first]


def test_events_jsonl_to_labelstudio_and_back_equals_the_original(tmp_path):
    original = events_jsonl()
    path = str(tmp_path / "events.labelstudio.json")
    write_labelstudio(original, path)
    assert [d.to_json() for d in read_labelstudio(path)] == [d.to_json() for d in original]


# --------------------------------------------------------------------------- malformed input

def cancelled_only():
    t = task()
    t["annotations"][0]["was_cancelled"] = True
    return t


def old_completions():
    t = task()
    t["completions"] = t.pop("annotations")
    return t


BAD = [
    # (second task, words of the message)
    ({"id": 2, "data": {"id": "d1"}, "annotations": []}, ["no string 'text'", "$text"]),
    ({"id": 2, "data": {"id": "d1", "text": TEXT}}, ["no 'annotations' list"]),
    (old_completions(), ["'completions'", "export again"]),
    (cancelled_only(), ["no annotation that is not cancelled", "leave it out"]),
    (task(result=[region("a", 0, 4, "EXPELLER", labels=["EXPELLER", "TIME"])]),
     ["region 'a' must have a 'value' with exactly one label"]),
    (task(result=[region("a", 0, 4, "EXPELLOR")]),
     ["region 'a': unknown label 'EXPELLOR'", "Did you mean 'EXPELLER'"]),
    (task(result=[region("a", 0, 99, "EXPELLER")]), ["region 'a': EXPELLER [0, 99)", "outside"]),
    (task(result=[{**region("a", 0, 4, "EXPELLER"), "value": {"start": "0", "end": 4,
                                                              "labels": ["EXPELLER"]}}]),
     ["region 'a': EXPELLER needs integer offsets"]),
    (task(result=[{**region("a", 0, 4, "EXPELLER"), "value": {"start": 1, "end": 5, "text": "Peru",
                                                              "labels": ["EXPELLER"]}}]),
     ["region 'a': its text 'Peru' differs from the document text 'eru '", "emoji"]),
    (task(result=PERU + [relation("t", "zz")]), ["relation 't' -> 'zz' points to entity 'zz'"]),
    (task(result=PERU + [region("t2", 14, 22, "TRIGGER"), relation("t", "t2")]),
     ["joins TRIGGER 'expels' and TRIGGER"]),
    (task(result=[region("a", 0, 4, "EXPELLER")]), ["region 'a': EXPELLER 'Peru' [0, 4) cannot be linked"]),
    (task(result=[region("a", 0, 4, "EXPELLER"), region("a", 5, 11, "TRIGGER")]),
     ["region id 'a' is used by two 'labels' results"]),
    (task(result=[region("a", 0, 11, "EXPELLER"), region("t", 5, 11, "TRIGGER")]),
     ["spans overlap: EXPELLER 'Peru expels'"]),
    (task(tid=1), ["id already used by task #1"]),
]


@pytest.mark.parametrize("second,words", BAD)
def test_malformed_task_names_file_task_id_and_fix(tmp_path, second, words):
    first = task(tid=1)
    first["data"]["id"] = "d1" if "id already used" in words[0] else "ok"
    path = write_tasks(tmp_path, [first, second])
    with pytest.raises(CorpusError) as err:
        list(read_labelstudio(path))
    msg = str(err.value)
    assert msg.startswith(f"file {path}, id 'd1': task #2: ")
    for w in words:
        assert w in msg


@pytest.mark.parametrize("content,words", [
    ('[{"id": 1,\n "data": }]', ["line 2", "not valid JSON"]),
    ('{"id": 1, "data": {}}', ["a JSON list of tasks", "JSON-MIN"]),
    ('[{"id": 1}]', ["task #1 is not an object with a 'data' object"]),
    ('[{"data": {"text": "x"}, "annotations": []}]', ["task #1: no usable id"]),
])
def test_broken_exports_name_file_and_place(tmp_path, content, words):
    path = write_tasks(tmp_path, content)
    with pytest.raises(CorpusError) as err:
        list(read_labelstudio(path))
    assert str(err.value).startswith(f"file {path}")
    for w in words:
        assert w in str(err.value)
