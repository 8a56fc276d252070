"""Linking spans into events, on hand-written span sets."""

from __future__ import annotations

from pipeline.formats.inline import parse_markup
from pipeline.events.linking import link
from pipeline.text import sentence_bounds
from pipeline.schema import TRIGGER


def events_of(markup: str, strategy: str = "sentence"):
    gold = parse_markup("d", markup)
    spans = gold.spans()
    pred = link(gold.text, spans, strategy=strategy)
    return {(e.trigger.text, tuple(sorted((a.label, a.text) for a in e.arguments))) for e in pred}, gold


def gold_events(gold):
    return {(e.trigger.text, tuple(sorted((a.label, a.text) for a in e.arguments))) for e in gold.events}


def test_one_event_gets_all_arguments():
    got, gold = events_of("[Peru]{EXPELLER} [expels]{TRIGGER} [two diplomats]{EXPELLED} for "
                          "[spying]{REASON}.")
    assert got == gold_events(gold)


def test_argument_in_the_next_sentence_goes_to_the_previous_trigger():
    got, gold = events_of("[NATO]{EXPELLER} [expels]{TRIGGER} [eight officials]{EXPELLED}. "
                          "They must leave by [October 31]{DEADLINE}.")
    assert got == gold_events(gold)


def test_two_sentences_two_events():
    got, gold = events_of(
        "[Poland]{EXPELLER#1} [expels]{TRIGGER#1} [45 Russian diplomats]{EXPELLED#1}. "
        "[Russia]{EXPELLER#2} [expels]{TRIGGER#2} [45 Polish diplomats]{EXPELLED#2} in response.")
    assert got == gold_events(gold)


def test_expeller_shared_by_a_later_trigger_of_the_same_sentence():
    got, _ = events_of("[The US]{EXPELLER#1,2} [expels]{TRIGGER#1} [35 diplomats]{EXPELLED#1} and "
                       "[declares]{TRIGGER#2} [two officials]{EXPELLED#2} unwelcome.")
    assert ("declares", (("EXPELLED", "two officials"), ("EXPELLER", "The US"))) in got


def test_nearest_strategy_ignores_sentences():
    got, _ = events_of("[Peru]{EXPELLER#1} [expels]{TRIGGER#1} a diplomat. Later [Chile]{EXPELLER#2} "
                       "[expels]{TRIGGER#2} two.", strategy="nearest")
    assert {t for t, _ in got} == {"expels"}
    assert len(got) == 2


def test_no_trigger_no_event():
    gold = parse_markup("d", "A diplomat from Peru.")
    assert link(gold.text, [], strategy="sentence") == []


def test_sentence_bounds_cover_the_text():
    text = "One. Two! \"Three?\" Four"
    b = sentence_bounds(text)
    assert b[0][0] == 0 and b[-1][1] == len(text)
    assert all(x[1] == y[0] for x, y in zip(b, b[1:]))
    assert len(b) == 4


def test_trigger_label_constant():
    assert TRIGGER == "TRIGGER"


def test_repair_merges_reason_fragments_and_drops_function_words():
    from pipeline.tagger.decoding import repair_spans
    from pipeline.schema import Span, make_span

    text = "Peru expels a diplomat over a report accusing him of spying. (AP) The envoy left."
    r1 = make_span(text, "REASON", 28, 36, 0.9)        # "a report"
    r2 = make_span(text, "REASON", 37, 59, 0.7)        # "accusing him of spying"
    lone = make_span(text, "EXPELLED", 12, 13, 0.5)    # "a"
    after = make_span(text, "REASON", 66, 69, 0.5)     # "The": dropped; a clause break before it
    out = repair_spans(text, [r1, r2, lone, after])
    assert [(s.label, s.text) for s in out] == [("REASON", "a report accusing him of spying")]
    assert isinstance(out[0], Span) and abs(out[0].score - 0.8) < 1e-9
