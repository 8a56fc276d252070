"""doccano JSONL reader and writer: both export forms, round trips, malformed input."""

import json
from pathlib import Path

import pytest

from pipeline.formats.links import event_links
from pipeline.formats.doccano import read_doccano, to_record, write_doccano
from pipeline.formats.jsonl import read_events_jsonl
from pipeline.schema import CorpusError, Document

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
TEXT = "Peru expels a diplomat."


def events_jsonl() -> list[Document]:
    return list(read_events_jsonl(str(FIXTURES / "events.jsonl")))


def links(doc: Document) -> set[tuple[str, frozenset[str]]]:
    """Readable canonical form: {(trigger text, {(role, argument text)})}."""
    return {(e.trigger.text, frozenset((a.label, a.text) for a in e.arguments)) for e in doc.events}


def write_lines(tmp_path: Path, *records) -> str:
    path = tmp_path / "x.doccano.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
                    encoding="utf-8")
    return str(path)


def ent(i, label, start, end):
    return {"id": i, "label": label, "start_offset": start, "end_offset": end}


def rel(i, a, b, type_="x"):
    return {"id": i, "from_id": a, "to_id": b, "type": type_}


PERU = [ent(1, "EXPELLER", 0, 4), ent(2, "TRIGGER", 5, 11), ent(3, "EXPELLED", 12, 22)]


# --------------------------------------------------------------------------- reading

def test_fixture_reads_like_events_jsonl():
    # The fixture has integer entity ids, relations in both directions, free relation
    # types, and a gapped trigger as two TRIGGER entities with the same offsets.
    got = list(read_doccano(str(FIXTURES / "events.doccano.jsonl")))
    want = events_jsonl()
    assert [(d.id, d.text, event_links(d)) for d in got] == \
        [(d.id, d.text, event_links(d)) for d in want]
    # Extra fields are kept in meta.
    assert [d.meta for d in got] == [{**d.meta, "Comments": []} for d in want]


def test_legacy_label_form_links_to_the_nearest_trigger():
    docs = list(read_doccano(str(FIXTURES / "legacy.doccano.jsonl")))
    assert [d.id for d in docs] == ["17", "18", "19"]
    assert docs[0].meta == {"Comments": ["checked"]}
    assert links(docs[1]) == {
        ("expelled", frozenset({("TIME", "Monday"), ("EXPELLER", "Estonia"),
                                ("EXPELLED", "the Russian ambassador")})),
        ("ordered", frozenset({("EXPELLED", "two attachés"), ("DEADLINE", "72 hours")})),
    }
    assert docs[2].events == []


def test_without_relations_entities_link_to_the_nearest_trigger(tmp_path):
    (doc,) = read_doccano(write_lines(tmp_path, {"id": "d", "text": TEXT, "entities": PERU}))
    assert links(doc) == {("expels", frozenset({("EXPELLER", "Peru"), ("EXPELLED", "a diplomat")}))}


def test_label_field_is_meta_when_entities_are_present(tmp_path):
    rec = {"id": "d", "text": TEXT, "label": ["positive"], "entities": [], "relations": []}
    (doc,) = read_doccano(write_lines(tmp_path, rec))
    assert doc.meta == {"label": ["positive"]}


# --------------------------------------------------------------------------- writing

def test_writer_shape_gapped_trigger_and_shared_argument():
    shared, gapped = events_jsonl()[1:3]
    rec = to_record(gapped)
    assert [e["label"] for e in rec["entities"]] == ["TRIGGER", "EXPELLER", "EXPELLED",
                                                     "TRIGGER", "EXPELLER", "EXPELLED"]
    assert rec["entities"][0]["start_offset"] == rec["entities"][3]["start_offset"] == 7
    rec = to_record(shared)
    estonia = next(e["id"] for e in rec["entities"] if e["label"] == "EXPELLER")
    into_estonia = [r for r in rec["relations"] if r["to_id"] == estonia]
    assert len(into_estonia) == 2 and {r["type"] for r in into_estonia} == {"EXPELLER"}
    assert rec["date"] == "2021-05-03"


def test_writer_refuses_meta_that_would_read_back_as_annotation():
    with pytest.raises(CorpusError, match=r"id 'd'.*\['relations'\].*rename"):
        to_record(Document("d", TEXT, meta={"relations": []}))


# --------------------------------------------------------------------------- round trips

def test_read_write_read_keeps_documents_spans_and_links(tmp_path):
    first = list(read_doccano(str(FIXTURES / "events.doccano.jsonl"))) + \
        list(read_doccano(str(FIXTURES / "legacy.doccano.jsonl")))
    path = str(tmp_path / "copy.doccano.jsonl")
    assert write_doccano(first, path) == len(first)
    second = list(read_doccano(path))
    assert [d.id for d in second] == [d.id for d in first]
    assert [event_links(d) for d in second] == [event_links(d) for d in first]
    assert [d.to_json() for d in second] == [d.to_json() for d in first]


def test_events_jsonl_to_doccano_and_back_equals_the_original(tmp_path):
    original = events_jsonl()
    path = str(tmp_path / "events.doccano.jsonl")
    write_doccano(original, path)
    assert [d.to_json() for d in read_doccano(path)] == [d.to_json() for d in original]


# --------------------------------------------------------------------------- malformed input

def doc(**over):
    return {"id": "d1", "text": TEXT, "entities": PERU,
            "relations": [rel(1, 2, 1), rel(2, 2, 3)], **over}


BAD = [
    # (record, words of the message)
    ({"id": "d1", "data": TEXT, "entities": []}, ["no string 'text'", "call it 'data'"]),
    ({"id": "d1", "text": TEXT}, ["neither 'entities' nor 'label'", '"entities": []']),
    (doc(entities=[ent(1, "EXPELLOR", 0, 4)], relations=[]),
     ["entity 1: unknown label 'EXPELLOR'", "Did you mean 'EXPELLER'"]),
    (doc(entities=[ent(1, "TRIGGER", 5, 99)], relations=[]), ["entity 1: TRIGGER [5, 99)", "outside"]),
    (doc(entities=[ent(1, "TRIGGER", 5.0, 11)], relations=[]), ["integer offsets"]),
    (doc(entities=[ent(1, "TRIGGER", 5, 11), ent(1, "EXPELLER", 0, 4)], relations=[]),
     ["entity id 1 is used twice"]),
    (doc(entities="x"), ["'entities' must be a list"]),
    (doc(relations=[rel(7, 2, 9)]), ["relation 7 points to entity 9, which does not exist"]),
    (doc(relations=[rel(7, 1, 3)]), ["relation 7 joins EXPELLER 'Peru' and EXPELLED 'a diplomat'",
                                     "must join a TRIGGER and an argument"]),
    (doc(relations=[{"id": 3, "to_id": 1}]), ["relation #1 must be an object with 'from_id'"]),
    (doc(entities=[ent(1, "EXPELLER", 0, 4)], relations=[]),
     ["entity 1: EXPELLER 'Peru' [0, 4) cannot be linked", "no TRIGGER"]),
    (doc(entities=[ent(1, "EXPELLER", 0, 4), ent(2, "EXPELLED", 0, 11), ent(3, "TRIGGER", 12, 22)],
         relations=[]), ["spans overlap", "EXPELLER 'Peru'", "EXPELLED 'Peru expels'"]),
    ({"id": "d1", "text": TEXT, "label": ["positive"]}, ["label #1 is 'positive'", "text classification"]),
    ({"id": "d1", "text": TEXT, "label": [[0, 4, "EXPELLER"]]}, ["label #1: EXPELLER 'Peru'", "no TRIGGER"]),
]


@pytest.mark.parametrize("record,words", BAD)
def test_malformed_record_names_file_line_id_and_fix(tmp_path, record, words):
    # Line 1 is a good record, so the error must name line 2.
    path = write_lines(tmp_path, {"id": "ok", "text": TEXT, "entities": []}, record)
    with pytest.raises(CorpusError) as err:
        list(read_doccano(path))
    msg = str(err.value)
    assert msg.startswith(f"file {path}, line 2, id 'd1': ")
    for w in words:
        assert w in msg


def test_unlinked_argument_among_several_triggers_with_relations_is_an_error(tmp_path):
    text = "Peru expels and Chile expels."
    rec = {"id": "d1", "text": text,
           "entities": [ent(1, "EXPELLER", 0, 4), ent(2, "TRIGGER", 5, 11), ent(3, "EXPELLER", 16, 21),
                        ent(4, "TRIGGER", 22, 28)],
           "relations": [rel(1, 2, 1)]}
    with pytest.raises(CorpusError, match=r"entity 3: EXPELLER 'Chile' \[16, 21\) is linked to no "
                                          r"trigger.*2 triggers"):
        list(read_doccano(write_lines(tmp_path, rec)))


@pytest.mark.parametrize("line,words", [
    ('{"id": "d1", "text": ', ["line 1", "not valid JSON"]),
    ('["d1"]', ["line 1", "must be a JSON object"]),
    ('{"text": "x", "entities": []}', ["line 1", "no usable 'id'"]),
])
def test_broken_lines_name_file_and_line(tmp_path, line, words):
    path = write_lines(tmp_path, line)
    with pytest.raises(CorpusError) as err:
        list(read_doccano(path))
    assert str(err.value).startswith(f"file {path}, line 1")
    for w in words:
        assert w in str(err.value)


def test_repeated_id_is_an_error(tmp_path):
    path = write_lines(tmp_path, {"id": 5, "text": TEXT, "entities": []}, "",
                       {"id": "5", "text": TEXT, "entities": []})
    with pytest.raises(CorpusError, match=r"line 3, id '5': id already used on line 1"):
        list(read_doccano(path))
