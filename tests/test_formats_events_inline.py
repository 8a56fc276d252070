"""Events JSONL and inline markup, the format registry, and round trips through every format."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.formats import FORMATS, guess_format, read_corpus, write_corpus
from pipeline.formats.links import event_links
from pipeline.formats.inline import parse_markup, read_inline_jsonl, to_markup, write_inline_jsonl
from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl
from pipeline.schema import LABELS, TRIGGER, CorpusError, Document, Event, make_span

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SUFFIX = {"events": ".jsonl", "inline": ".inline.jsonl", "conll": ".conll",
          "doccano": ".doccano.jsonl", "labelstudio": ".labelstudio.json"}


def events_jsonl() -> list[Document]:
    return list(read_events_jsonl(str(FIXTURES / "events.jsonl")))


def write_lines(tmp_path: Path, name: str, *records) -> str:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- events JSONL

def test_events_fixture_has_the_promised_cases():
    docs = {d.id: d for d in events_jsonl()}
    shared = docs["shared-argument"]
    assert {a.text for a in shared.events[0].arguments} & {a.text for a in shared.events[1].arguments} \
        == {"Monday", "Estonia"}
    gapped = docs["gapped-trigger"]
    assert gapped.events[0].trigger == gapped.events[1].trigger
    assert "[in Berlin]" in docs["brackets-ünïcode"].events[0].arguments[0].text
    assert docs["negative"].events == []


def test_events_read_write_read(tmp_path):
    first = events_jsonl()
    path = str(tmp_path / "copy.jsonl")
    assert write_events_jsonl(first, path) == len(first)
    assert [d.to_json() for d in read_events_jsonl(path)] == [d.to_json() for d in first]


def rec(**over):
    text = "Peru expels a diplomat."
    return {"id": "d1", "text": text, "events": [
        {"trigger": {"start": 5, "end": 11, "text": "expels"},
         "arguments": [{"role": "EXPELLER", "start": 0, "end": 4, "text": "Peru"}]}], **over}


def two_events_sharing(second_text):
    text = "Peru expels and expels."
    ev = lambda s, t: {"trigger": {"start": s, "end": s + 6, "text": "expels"},  # noqa: E731
                       "arguments": [{"role": "EXPELLER", "start": 0, "end": 4, "text": t}]}
    return {"id": "d1", "text": text, "events": [ev(5, "Peru"), ev(16, second_text)]}


EVENTS_BAD = [
    ('{"id": "d1", "text": "x", ', ["line 2", "not valid JSON"]),
    (rec(events=[{"trigger": {"start": 5, "end": 11, "text": "expel"}}]),
     ["line 2", "id 'd1'", "has text 'expel' but the document says 'expels'"]),
    (rec(events=[{"trigger": {"start": 5, "end": 11, "text": "expels"},
                  "arguments": [{"role": "EXPELER", "start": 0, "end": 4, "text": "Peru"}]}]),
     ["id 'd1'", "unknown role 'EXPELER'", "Did you mean 'EXPELLER'"]),
    (rec(events=[{"trigger": {"start": 5, "end": 11, "text": "expels"},
                  "arguments": [{"role": "EXPELLER", "start": 0, "end": 6, "text": "Peru e"}]}]),
     ["id 'd1'", "spans overlap"]),
    # A shared span written twice must be right both times (fixed in validate_document).
    (two_events_sharing("Pery"), ["id 'd1'", "has text 'Pery' but the document says 'Peru'"]),
    (rec(id="ok"), ["line 2", "id 'ok'", "id already used on line 1"]),
]


@pytest.mark.parametrize("bad,words", EVENTS_BAD)
def test_events_malformed_lines_name_file_line_id(tmp_path, bad, words):
    path = write_lines(tmp_path, "x.jsonl", rec(id="ok"), bad)
    with pytest.raises(CorpusError) as err:
        list(read_events_jsonl(path))
    assert str(err.value).startswith(f"file {path}, line 2")
    for w in words:
        assert w in str(err.value)


def test_events_shared_span_with_the_same_text_twice_is_fine():
    from pipeline.formats.jsonl import parse_document
    assert len(parse_document(two_events_sharing("Peru")).spans()) == 3


# --------------------------------------------------------------------------- inline markup

def test_inline_fixture_reads_like_events_jsonl():
    got = list(read_inline_jsonl(str(FIXTURES / "events.inline.jsonl")))
    assert [d.to_json() for d in got] == [d.to_json() for d in events_jsonl()]


def test_inline_escapes_brackets_and_backslash():
    doc = {d.id: d for d in events_jsonl()}["brackets-ünïcode"]
    markup = to_markup(doc)
    assert markup.startswith(r"[Die Regierung \[in Berlin\]]{EXPELLER#1} hat")
    assert markup.endswith(r"\[Quelle: AFP\]; Łódź/São Tomé 中国 🇩🇪 \\ ok.")
    assert parse_markup(doc.id, markup, meta=doc.meta).to_json() == doc.to_json()


def test_inline_gapped_trigger_and_shared_argument_markup():
    docs = {d.id: d for d in events_jsonl()}
    assert "[expelled]{TRIGGER#1,2}" in to_markup(docs["gapped-trigger"])
    assert "[Estonia]{EXPELLER#1,2}" in to_markup(docs["shared-argument"])


def test_inline_repeated_event_number_links_once():
    doc = parse_markup("d", "[Peru]{EXPELLER#1,1} [expels]{TRIGGER#1}")
    assert len(doc.events[0].arguments) == 1


def test_inline_read_write_read(tmp_path):
    first = list(read_inline_jsonl(str(FIXTURES / "events.inline.jsonl")))
    path = str(tmp_path / "copy.inline.jsonl")
    write_inline_jsonl(first, path)
    assert [d.to_json() for d in read_inline_jsonl(path)] == [d.to_json() for d in first]


INLINE_BAD = [
    ("[Peru expels", ["'[' is never closed"]),
    ("Peru] expels", ["']' without an open '['"]),
    ("[Peru]{EXPELLOR}", ["unknown label 'EXPELLOR'", "Did you mean 'EXPELLER'"]),
    ("[Peru] expels", ["must be followed by a tag"]),
    ("[[Peru]{EXPELLER}]{EXPELLER}", ["spans do not nest"]),
    ("[a]{TRIGGER} [b]{TRIGGER}", ["several triggers: number each"]),
    ("[Peru]{EXPELLER#2} [expels]{TRIGGER#1}", ["EXPELLER is linked to event #2, which has no TRIGGER"]),
    ("[Peru]{EXPELLER} expels", ["linked to event #1, which has no TRIGGER"]),
    (r"Peru \expels", ["a backslash must escape"]),
]


@pytest.mark.parametrize("markup,words", INLINE_BAD)
def test_inline_malformed_markup_names_file_line_id(tmp_path, markup, words):
    path = write_lines(tmp_path, "x.inline.jsonl", {"id": "ok", "markup": "fine"},
                       {"id": "d1", "markup": markup})
    with pytest.raises(CorpusError) as err:
        list(read_inline_jsonl(path))
    assert str(err.value).startswith(f"file {path}, line 2, id 'd1': ")
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("line,words", [
    ('{"id": "d1", "markup": ', ["not valid JSON"]),
    ('{"markup": "x"}', ["needs an 'id'"]),
    ('{"id": "", "markup": "x"}', ["needs an 'id'"]),
    ('{"id": "ok", "markup": "x"}', ["id 'ok'", "id already used on line 1"]),
])
def test_inline_broken_lines_name_file_and_line(tmp_path, line, words):
    path = write_lines(tmp_path, "x.inline.jsonl", {"id": "ok", "markup": "fine"}, line)
    with pytest.raises(CorpusError) as err:
        list(read_inline_jsonl(path))
    assert str(err.value).startswith(f"file {path}, line 2")
    for w in words:
        assert w in str(err.value)


# --------------------------------------------------------------------------- registry

@pytest.mark.parametrize("fmt", list(FORMATS))
def test_registry_guesses_and_round_trips_every_format(tmp_path, fmt):
    original = events_jsonl()
    path = str(tmp_path / f"corpus{SUFFIX[fmt]}")
    assert guess_format(path) == fmt
    write_corpus(original, path)
    back = read_corpus(path)
    assert [d.to_json() for d in back] == [d.to_json() for d in original]
    assert [event_links(d) for d in back] == [event_links(d) for d in original]


def test_registry_errors_suggest_the_fix():
    with pytest.raises(CorpusError, match="Did you mean 'conll'"):
        read_corpus("x.txt", fmt="conl")
    with pytest.raises(CorpusError, match="cannot tell the format"):
        guess_format("x.txt")


# --------------------------------------------------------------------------- all formats, random documents

# Brackets, braces, '#', '=', a backslash, non-ASCII letters and marks, an emoji, line
# breaks and separators: the characters each format has to escape or align around.
ALPHABET = st.sampled_from(list("ab Z9_.,[]{}#=\\\"'-é中\u0301🇩\n\t\u2028\u00a0"))


@st.composite
def documents(draw) -> Document:
    text = draw(st.text(ALPHABET, max_size=30))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=12))))
    # Candidate spans between consecutive cuts never overlap; token columns cannot show
    # a span with outer whitespace, so those are left out.
    bounds = [(a, b) for a, b in zip(cuts, cuts[1:])
              if text[a:b].strip() == text[a:b] != ""]
    labels = [draw(st.sampled_from((TRIGGER, *LABELS))) for _ in bounds]  # triggers twice as likely
    triggers = [make_span(text, TRIGGER, a, b) for (a, b), lab in zip(bounds, labels) if lab == TRIGGER]
    events = [Event(t) for t in triggers for _ in range(draw(st.integers(1, 2)))]  # 2: gapped
    for (a, b), lab in zip(bounds, labels):
        if lab != TRIGGER and events:
            chosen = draw(st.lists(st.sampled_from(range(len(events))), min_size=1, max_size=3, unique=True))
            for i in chosen:
                events[i].arguments.append(make_span(text, lab, a, b))
    meta = draw(st.dictionaries(st.sampled_from(["date", "src", "n"]), st.text(ALPHABET, max_size=5)))
    return Document(id=draw(st.sampled_from(["d", "é-1", "#7", "a b"])), text=text, events=events, meta=meta)


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents())
def test_every_format_round_trips_random_documents(tmp_path, fmt, doc):
    path = str(tmp_path / f"random{SUFFIX[fmt]}")
    write_corpus([doc], path)
    (back,) = read_corpus(path)
    assert (back.id, back.text, back.meta) == (doc.id, doc.text, doc.meta)
    assert event_links(back) == event_links(doc)
    assert back.to_json() == doc.to_json()
