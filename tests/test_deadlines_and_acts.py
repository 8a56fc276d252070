"""Deadlines are deadlines, one act is one event, and a person is counted once (issue:
records a user can trust)."""

from __future__ import annotations

import random

import pytest

from pipeline.events.consistency import consistent_events, deadline_roles, is_deadline_context, merge_follow_ups
from pipeline.records.dates import resolve_date, resolve_deadline
from pipeline.records.normalise import normalise_document
from pipeline.schema import Document, Event, Span


def span(text: str, label: str, phrase: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return Span(label, start, start + len(phrase), phrase)


@pytest.mark.parametrize("text, phrase", [
    ("NATO expels eight Russian officials for spying; they must leave by October 31.", "October 31"),
    ("Poland expels 45 Russian diplomats; they must leave their posts by Saturday.", "Saturday"),
    ("The envoy has until March 29 to leave.", "March 29"),
    ("Peru gives the ambassador 72 hours to leave the country.", "72 hours"),
    ("Chile orders the consul to leave within a week.", "a week"),
    ("Kenya gives the diplomats seven days in which to leave.", "seven days"),
    ("They were told to leave the country no later than Friday.", "Friday"),
])
def test_a_date_by_which_people_must_leave_is_a_deadline(text, phrase):
    assert is_deadline_context(text, span(text, "TIME", phrase))


@pytest.mark.parametrize("text, phrase", [
    ("Russia expelled U.S. diplomats in July.", "July"),
    ("On Monday, Latvia expelled a Russian diplomat.", "Monday"),
    ("Norway declared a Russian diplomat persona non grata last year.", "last year"),
    ("The diplomats left on Saturday; Poland expelled them earlier this month.", "earlier this month"),
])
def test_when_an_expulsion_happened_stays_a_time(text, phrase):
    assert not is_deadline_context(text, span(text, "TIME", phrase))


def test_deadline_roles_relabel_time_spans_in_a_deadline_position_only():
    text = "On Monday, NATO expelled eight Russian officials; they must leave by October 31."
    ev = Event(span(text, "TRIGGER", "expelled"), [span(text, "TIME", "Monday"), span(text, "TIME", "October 31")])
    (out,) = deadline_roles(text, [ev])
    assert [(a.label, a.text) for a in out.arguments] == [("TIME", "Monday"), ("DEADLINE", "October 31")]


def test_gold_time_and_deadline_spans_agree_with_the_rule():
    """On all gold, the rule would turn no TIME into a DEADLINE (and finds 16 of 17 gold
    deadlines in a deadline position: the odd one is "48 hours to recall its envoy")."""
    from pipeline.training.corpus import load_gold

    docs = load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl",
                      "seeds/nato-expels-eight-russian-officials.events.jsonl"])
    times = [(d, a) for d in docs for e in d.events for a in e.arguments if a.label == "TIME"]
    deadlines = [(d, a) for d in docs for e in d.events for a in e.arguments if a.label == "DEADLINE"]
    assert times and not [a.text for d, a in times if is_deadline_context(d.text, a)]
    assert sum(is_deadline_context(d.text, a) for d, a in deadlines) >= len(deadlines) - 1
    # ... and no two gold events are one act by the follow-up rule
    assert all(len(merge_follow_ups(d.text, d.events)) == len(d.events) for d in docs)


@pytest.mark.parametrize("text, follow", [
    ("Estonia expelled four Russian diplomats on Monday and ordered them to leave the country by March 10.",
     "ordered"),
    ("Latvia declared a Russian diplomat persona non grata and gave him 72 hours to leave.", "gave"),
    ("Four diplomats were expelled and told to leave within 48 hours.", "told"),
])
def test_a_follow_up_verb_adds_its_deadline_to_the_expulsion(text, follow):
    deadline = "March 10" if "March" in text else ("72 hours" if "72" in text else "48 hours")
    first_trigger = "persona non grata" if "grata" in text else "expelled"
    a = Event(span(text, "TRIGGER", first_trigger), [span(text, "EXPELLED", "Russian diplomat" if "grata" in text
                                                           else "diplomats")])
    b = Event(span(text, "TRIGGER", follow), [span(text, "DEADLINE", deadline)])
    (out,) = consistent_events(text, [a, b])
    assert out.trigger == a.trigger
    assert ("DEADLINE", deadline) in [(x.label, x.text) for x in out.arguments]


def test_a_follow_up_verb_with_people_of_its_own_is_another_expulsion():
    text = "Tehran expels two British diplomats and orders the Dutch ambassador to leave within a week."
    a = Event(span(text, "TRIGGER", "expels"), [span(text, "EXPELLED", "two British diplomats")])
    b = Event(span(text, "TRIGGER", "orders"), [span(text, "EXPELLED", "the Dutch ambassador"),
                                                span(text, "DEADLINE", "a week")])
    assert len(merge_follow_ups(text, [a, b])) == 2
    other = "Peru expels a diplomat. Later, Chile ordered them to leave within a week."
    a = Event(span(other, "TRIGGER", "expels"), [])
    b = Event(span(other, "TRIGGER", "ordered"), [span(other, "DEADLINE", "a week")])
    assert len(merge_follow_ups(other, [a, b])) == 2            # another sentence: another mention


def test_deadline_dates_look_forward_and_times_look_back():
    assert resolve_deadline("October 31", "2021-10-06") == "2021-10-31"
    assert resolve_deadline("March 10", "2023-03-07") == "2023-03-10"
    assert resolve_deadline("February 7", "2023-01-23") == "2023-02-07"
    assert resolve_deadline("Saturday", "2023-03-01") == "2023-03-04"        # a Wednesday
    assert resolve_deadline("72 hours", "2023-03-07") == "2023-03-10"
    assert resolve_date("March 10", "2023-03-07") == "2022-03-10"            # a TIME is in the past
    assert resolve_date("Monday", "2023-03-07") == "2023-03-06"


def test_a_record_date_never_comes_from_a_deadline():
    from pipeline.records import build_records

    text = "Moldova expels the Russian ambassador. The ambassador must leave by February 7."
    doc = Document("d", text, meta={"date": "2023-01-23"})
    ev = Event(span(text, "TRIGGER", "expels"), [span(text, "EXPELLER", "Moldova"),
                                                 span(text, "EXPELLED", "the Russian ambassador"),
                                                 span(text, "EXPELLED", "The ambassador"),
                                                 span(text, "TIME", "February 7")])
    doc.events = consistent_events(text, [ev])
    (rec,) = build_records([doc])
    assert rec["date"] == "2023-01-23" and rec["deadline_date"] == "2023-02-07"
    assert rec["count"] == 1                                       # the ambassador, named twice


def test_a_person_named_twice_is_counted_once_but_two_people_are_two():
    text = ("Latvia expels Estonia's ambassador Margus Laidre. The ambassador must leave within a week. "
            "Peru forced two Spanish diplomats and the Mexican ambassador to leave.")
    one = Event(span(text, "TRIGGER", "expels"), [span(text, "EXPELLED", "Estonia's ambassador Margus Laidre"),
                                                  span(text, "EXPELLED", "The ambassador")])
    two = Event(span(text, "TRIGGER", "forced"), [span(text, "EXPELLED", "two Spanish diplomats"),
                                                  span(text, "EXPELLED", "the Mexican ambassador")])
    doc = normalise_document(Document("d", text, [one, two], {"date": "2020-01-01"}))
    assert doc.events[0].extra["count"] == 1
    assert doc.events[1].extra["count"] == 3


def test_augmented_deadline_clauses_are_valid_and_add_no_trigger():
    from pipeline.training.augment import apply_edits, deadline_edits
    from pipeline.training.corpus import load_gold
    from pipeline.schema import validate_document

    docs = [d for d in load_gold(["data/gold/train.jsonl"]) if d.events][:120]
    rng = random.Random(0)
    made = 0
    for d in docs:
        edits = deadline_edits(d, rng)
        new = apply_edits(d, edits) if edits else None
        if new is None:
            continue
        made += 1
        validate_document(new)
        assert len(new.events) == len(d.events)                   # "ordered them", "gave them": no trigger
        added = list({a.key: a for e in new.events for a in e.arguments if a.label == "DEADLINE"}.values())
        assert len(added) == 1 + len({a.key for e in d.events for a in e.arguments if a.label == "DEADLINE"})
        old = {a.text for e in d.events for a in e.arguments if a.label == "DEADLINE"}
        assert all(is_deadline_context(new.text, a) for a in added if a.text not in old)
    assert made > 50


def test_a_second_mention_of_one_act_shares_the_people():
    from pipeline.events.consistency import share_expelled

    text = "Peru expels the Mexican ambassador and declares him persona non grata."
    a = Event(span(text, "TRIGGER", "expels"), [span(text, "EXPELLED", "the Mexican ambassador")])
    b = Event(span(text, "TRIGGER", "persona non grata"), [])
    out = share_expelled(text, [a, b])
    assert [x.text for x in out[1].arguments] == ["the Mexican ambassador"]
    other = "Peru expels the Mexican ambassador. Chile declares him persona non grata."
    a = Event(span(other, "TRIGGER", "expels"), [span(other, "EXPELLED", "the Mexican ambassador")])
    b = Event(span(other, "TRIGGER", "persona non grata"), [])
    assert share_expelled(other, [a, b])[1].arguments == []            # another sentence, another act
    from pipeline.training.corpus import load_gold

    docs = load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl"])
    assert all([len(e.arguments) for e in share_expelled(d.text, d.events)]
               == [len(e.arguments) for e in sorted(d.events, key=lambda e: e.trigger.start)] for d in docs)


def test_a_date_outside_a_deadline_position_is_a_time():
    text = "Slovakia expelled three Russian diplomats on August 11 and gave them 72 hours to leave."
    ev = Event(span(text, "TRIGGER", "expelled"), [span(text, "DEADLINE", "August 11"),
                                                    span(text, "DEADLINE", "72 hours")])
    (out,) = deadline_roles(text, [ev])
    assert [(a.label, a.text) for a in out.arguments] == [("TIME", "August 11"), ("DEADLINE", "72 hours")]
    text = "A day before, North Korea expelled the inspectors."
    ev = Event(span(text, "TRIGGER", "expelled"), [span(text, "DEADLINE", "A day")])
    assert deadline_roles(text, [ev])[0].arguments[0].label == "TIME"


@pytest.mark.parametrize("text, deadline", [
    ("NATO expels eight Russian officials. The officials must leave their posts by October 31.", "October 31"),
    ("Albania expels Iranian diplomats. They are told to leave Albania within 24 hours.", "24 hours"),
    ("Russia expels a Romanian diplomat, who is given 48 hours to leave the country.", "48 hours"),
    ("Chile expels the consul and gives him until Friday to leave.", "Friday"),
])
def test_a_stated_deadline_the_tagger_missed_is_added(text, deadline):
    from pipeline.events.consistency import stated_deadlines

    ev = Event(span(text, "TRIGGER", "expels"), [])
    (out,) = stated_deadlines(text, [ev])
    assert [(a.label, a.text, a.score) for a in out.arguments] == [("DEADLINE", deadline, None)]


def test_stated_deadlines_on_gold_find_the_deadlines_and_nothing_else():
    from pipeline.events.consistency import stated_deadlines
    from pipeline.training.corpus import load_gold

    docs = load_gold(["data/gold/train.jsonl", "data/gold/dev.jsonl",
                      "seeds/nato-expels-eight-russian-officials.events.jsonl"])
    found = spurious = 0
    for d in docs:
        bare = [Event(e.trigger, [a for a in e.arguments if a.label != "DEADLINE"]) for e in d.events]
        gold = {(e.trigger.key, a.start, a.end) for e in d.events for a in e.arguments if a.label == "DEADLINE"}
        got = {(e.trigger.key, a.start, a.end) for e in stated_deadlines(d.text, bare)
               for a in e.arguments if a.label == "DEADLINE"}
        found += len(gold & got)
        spurious += len(got - gold)
    assert found >= 15 and spurious == 0
