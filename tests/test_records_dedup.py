"""Merging mentions of one expulsion, on hand-written span sets."""

from __future__ import annotations

import pytest

from pipeline.formats.inline import parse_markup
from pipeline.records import build_records
from pipeline.records.dedup import deduplicate, mentions_from_documents
from pipeline.records.normalise import normalise_document


def doc(doc_id, markup, date):
    return parse_markup(doc_id, markup, meta={"date": date})


def records(*docs, **cfg):
    return build_records(list(docs), **cfg)


def pairs(recs):
    return [(r["expeller_country"], r["expelled_country"]) for r in recs]


def test_two_reports_of_one_expulsion_merge_across_documents():
    a = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [45 Russian diplomats]{EXPELLED}.", "2022-03-23")
    b = doc("b", "[Warsaw]{EXPELLER} [orders out]{TRIGGER} [several Russian diplomats]{EXPELLED}.",
            "2022-03-25")
    (rec,) = records(a, b)
    assert (rec["expeller_country"], rec["expelled_country"]) == ("POL", "RUS")
    assert rec["count"] == 45 and rec["date"] == "2022-03-23" and rec["n_documents"] == 2
    assert rec["mentions"] == [
        {"doc_id": "a", "trigger": {"start": 7, "end": 13, "text": "expels"}},
        {"doc_id": "b", "trigger": {"start": 7, "end": 17, "text": "orders out"}}]


def test_the_window_separates_two_expulsions_of_one_pair():
    a = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [a Russian diplomat]{EXPELLED}.", "2022-03-01")
    b = doc("b", "[Poland]{EXPELLER} [expels]{TRIGGER} [a Russian diplomat]{EXPELLED}.", "2022-03-20")
    assert len(records(a, b)) == 2
    assert len(records(a, b, window_days=30)) == 1


def test_different_pairs_never_merge():
    a = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [Russian diplomats]{EXPELLED}.", "2022-03-23")
    b = doc("b", "[Poland]{EXPELLER} [expels]{TRIGGER} [Belarusian diplomats]{EXPELLED}.", "2022-03-23")
    c = doc("c", "[Russia]{EXPELLER} [expels]{TRIGGER} [Polish diplomats]{EXPELLED}.", "2022-03-23")
    assert sorted(pairs(records(a, b, c))) == [("POL", "BLR"), ("POL", "RUS"), ("RUS", "POL")]


def test_mentions_within_a_document_merge_with_the_largest_count_and_the_deadline():
    d = doc("d", "[NATO]{EXPELLER#1} [kicks out]{TRIGGER#1} [8 Russian diplomats]{EXPELLED#1}. "
                 "[The alliance]{EXPELLER#2} [expelled]{TRIGGER#2} [Russian officials]{EXPELLED#2}. "
                 "The [decision]{TRIGGER#3} stands; they must leave by [October 31]{DEADLINE#3}.",
            "2021-10-06")
    (rec,) = records(d)
    assert (rec["expeller_country"], rec["expelled_country"], rec["count"]) == ("NATO", "RUS", 8)
    assert rec["deadline_date"] == "2021-10-31" and rec["n_mentions"] == 3


def test_a_bare_mention_joins_the_nearest_earlier_record_of_its_document():
    d = doc("d", "[Norway]{EXPELLER#1} [expels]{TRIGGER#1} [a Russian diplomat]{EXPELLED#1}. "
                 "[Romania]{EXPELLER#2} [expels]{TRIGGER#2} [two Russian diplomats]{EXPELLED#2}. "
                 "Moscow condemned the [expulsion]{TRIGGER#3}.", "2021-10-06")
    recs = records(d)
    by_pair = {r["expeller_country"]: r["n_mentions"] for r in recs}
    assert by_pair == {"NOR": 1, "ROU": 2}


def test_incomplete_mentions_do_not_merge_across_documents():
    a = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [diplomats]{EXPELLED}.", "2022-03-23")
    b = doc("b", "[Poland]{EXPELLER} [expels]{TRIGGER} [diplomats]{EXPELLED}.", "2022-03-23")
    recs = records(a, b)
    assert len(recs) == 2 and all(r["expelled_country"] is None for r in recs)


def test_a_coarse_time_joins_the_one_matching_record():
    a = doc("a", "[The Czech Republic]{EXPELLER} [expels]{TRIGGER} [18 Russian diplomats]{EXPELLED}.",
            "2021-04-17")
    b = doc("b", "[The Czech Republic]{EXPELLER} [expelled]{TRIGGER} [dozens of Russian diplomats]"
                 "{EXPELLED} [earlier this year]{TIME}.", "2021-10-06")
    (rec,) = records(a, b)
    assert rec["count"] == 18 and rec["date"] == "2021-04-17" and rec["n_documents"] == 2


def test_a_further_expulsion_is_not_merged_into_the_first():
    a = doc("a", "[Britain]{EXPELLER} [expels]{TRIGGER} [the Libyan ambassador]{EXPELLED}.", "2011-05-01")
    b = doc("b", "[Britain]{EXPELLER} [expels]{TRIGGER} [two more Libyan diplomats]{EXPELLED}.",
            "2011-05-05")
    assert sorted(r["count"] for r in records(a, b)) == [1, 2]


def test_one_event_with_several_expellers_gives_one_record_each():
    d = doc("d", "[Belgium]{EXPELLER}, [the Netherlands]{EXPELLER} and [Ireland]{EXPELLER} "
                 "[expel]{TRIGGER} [Russian diplomats]{EXPELLED}.", "2022-03-29")
    recs = records(d)
    assert sorted(pairs(recs)) == [("BEL", "RUS"), ("IRL", "RUS"), ("NLD", "RUS")]
    assert len({r["id"] for r in recs}) == 3
    assert all(r["expeller_texts"] == [t] for r, t in
               zip(sorted(recs, key=lambda r: r["expeller_country"]), ["Belgium", "Ireland", "the Netherlands"]))


def test_record_ids_are_deterministic_and_independent_of_input_order():
    a = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [45 Russian diplomats]{EXPELLED}.", "2022-03-23")
    b = doc("b", "[Russia]{EXPELLER} [expels]{TRIGGER} [45 Polish diplomats]{EXPELLED}.", "2022-04-15")
    first = [r["id"] for r in records(a, b)]
    a2 = doc("a", "[Poland]{EXPELLER} [expels]{TRIGGER} [45 Russian diplomats]{EXPELLED}.", "2022-03-23")
    b2 = doc("b", "[Russia]{EXPELLER} [expels]{TRIGGER} [45 Polish diplomats]{EXPELLED}.", "2022-04-15")
    assert [r["id"] for r in records(b2, a2)] == first
    assert first[0].startswith("POL-RUS-2022-03-23-")


def test_unknown_setting_names_the_closest():
    with pytest.raises(TypeError, match="window_days"):
        records(window_day=3)
    with pytest.raises(ValueError, match=">= 0"):
        deduplicate([], window_days=-1)


def test_mentions_need_normalised_documents():
    d = doc("d", "[Peru]{EXPELLER} [expels]{TRIGGER} [a Venezuelan diplomat]{EXPELLED}.", "2019-01-01")
    (m,) = mentions_from_documents([normalise_document(d)])
    assert m.pair == ("PER", ("VEN",)) and m.complete
