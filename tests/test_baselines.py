"""The two baselines: lexicon rules on hand-written sentences, the feature tagger on a tiny corpus."""

from __future__ import annotations

import pytest

from pipeline.baselines import FeatureTagger, LexiconTagger, run_baselines, word_spans
from pipeline.formats import read_corpus
from pipeline.schema import LABELS, Document, validate_document

FIXTURE = "tests/fixtures/report/train.jsonl"


def events_of(text: str) -> list[tuple[str, dict[str, str]]]:
    """(trigger text, {role: argument text}) per predicted event; spans are validated."""
    doc = LexiconTagger().predict([Document("t", text)])[0]
    validate_document(doc)
    return [(e.trigger.text, {a.label: a.text for a in e.arguments}) for e in doc.events]


def test_word_spans_are_regex_words_with_offsets():
    text = "U.S. expels 2 envoys."
    assert [text[s:e] for s, e in word_spans(text)] == ["U", ".", "S", ".", "expels", "2", "envoys", "."]


def test_lexicon_finds_a_plain_expulsion():
    assert events_of("Poland expels two Russian diplomats.") == [
        ("expels", {"EXPELLER": "Poland", "EXPELLED": "two Russian diplomats"})]


@pytest.mark.parametrize("text", [
    "Russia threatens to expel two Polish diplomats.",
    "The opposition calls for Britain to expel the Russian ambassador.",
    "Hungary refused to expel any Russian diplomats.",
    "The Communist Party expels nine senior officials over a corruption scandal.",
    "Senator Paragone is expelled from the party for disciplinary issues.",
    "China expels three journalists of The Wall Street Journal over an opinion piece.",
    "Italy wins the football match.",
])
def test_lexicon_ignores_threats_calls_membership_and_non_officials(text):
    assert events_of(text) == []


def test_lexicon_reason_deadline_and_nominal_trigger():
    [(trig, args)] = events_of("Moldova orders the expulsion of 22 Russian diplomats by August 15 "
                               "over alleged espionage. (Reuters)")
    assert trig == "expulsion"
    assert args == {"EXPELLER": "Moldova", "EXPELLED": "22 Russian diplomats", "DEADLINE": "August 15",
                    "REASON": "alleged espionage"}


def test_lexicon_order_to_leave_persona_non_grata_and_time():
    [(trig, args)] = events_of("On Monday, Tehran ordered two UK diplomats to leave within 48 hours.")
    assert (trig, args["EXPELLED"], args["DEADLINE"], args["TIME"]) == (
        "ordered", "two UK diplomats", "48 hours", "Monday")
    [(trig, args)] = events_of("New Zealand declares acting Fiji High Commissioner Cama Tuiloma persona non grata.")
    assert trig == "persona non grata"
    assert args == {"EXPELLER": "New Zealand", "EXPELLED": "acting Fiji High Commissioner Cama Tuiloma"}


def test_lexicon_passive_and_coordinated_expellers():
    [(trig, args)] = events_of("The Cuban ambassador to Mexico is expelled for activities incompatible "
                               "with his status.")
    assert (trig, args["EXPELLED"], args["REASON"]) == (
        "expelled", "The Cuban ambassador to Mexico", "activities incompatible with his status")
    doc = LexiconTagger().predict([Document("t", "Australia and New Zealand expel Fiji's top diplomats.")])[0]
    assert sorted(a.text for a in doc.events[0].arguments if a.label == "EXPELLER") == ["Australia", "New Zealand"]


@pytest.fixture(scope="module")
def tagger() -> FeatureTagger:
    return FeatureTagger.train(read_corpus(FIXTURE), seed=3)


def test_feature_tagger_predicts_valid_scored_spans(tagger):
    docs = [Document("a", "Spain expels two Russian diplomats for spying."),
            Document("b", "Brazil hosts a summit."), Document("c", "")]
    pred = tagger.predict(docs)
    assert [d.id for d in pred] == ["a", "b", "c"]
    for d in pred:
        validate_document(d)                      # offsets and texts agree, no overlaps
        for s in d.spans():
            assert s.label in LABELS and 0.0 <= s.score <= 1.0
            assert (s.start, s.end) in {(a, b) for a, b in _word_bounds(d.text, s)}
    assert [e.trigger.text for e in pred[0].events] == ["expels"]
    assert pred[0].events == tagger.predict(docs[:1])[0].events    # deterministic


def _word_bounds(text: str, span) -> list[tuple[int, int]]:
    words = word_spans(text)
    starts = [s for s, _ in words if s == span.start]
    ends = [e for _, e in words if e == span.end]
    return [(s, e) for s in starts for e in ends]


def test_feature_tagger_refuses_a_corpus_without_spans():
    with pytest.raises(ValueError, match="no labelled span"):
        FeatureTagger.train([Document("n", "Nothing happens here.")])


def test_run_baselines_predicts_every_gold_document():
    gold = read_corpus("tests/fixtures/report/gold.jsonl")
    out = run_baselines(gold, [FIXTURE], seed=1)
    assert list(out) == ["lexicon rules", "feature tagger"]
    for docs in out.values():
        assert [d.id for d in docs] == [d.id for d in gold]
        assert [d.text for d in docs] == [d.text for d in gold]
