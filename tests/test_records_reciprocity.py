"""Reciprocity links on a small synthetic timeline."""

from __future__ import annotations

from pipeline.formats.inline import parse_markup
from pipeline.records import build_records
from pipeline.records.reciprocity import link_reciprocal


def doc(doc_id, markup, date):
    return parse_markup(doc_id, markup, meta={"date": date})


def expel(doc_id, expeller, expelled, date, tail="."):
    return doc(doc_id, f"[{expeller}]{{EXPELLER}} [expels]{{TRIGGER}} [{expelled}]{{EXPELLED}}{tail}", date)


def by_pair(recs):
    return {(r["expeller_country"], r["expelled_country"]): r for r in recs}


def test_an_answer_within_the_window_links_to_the_first_act():
    recs = by_pair(build_records([
        expel("a", "Poland", "45 Russian diplomats", "2022-03-23"),
        expel("b", "Russia", "45 Polish diplomats", "2022-04-15"),
    ]))
    assert recs[("RUS", "POL")]["reciprocates"] == recs[("POL", "RUS")]["id"]
    assert recs[("POL", "RUS")]["reciprocates"] is None


def test_too_late_without_a_cue_is_not_an_answer():
    recs = by_pair(build_records([
        expel("a", "Poland", "45 Russian diplomats", "2022-03-01"),
        expel("b", "Russia", "45 Polish diplomats", "2022-05-15"),
    ]))
    assert recs[("RUS", "POL")]["reciprocates"] is None


def test_an_explicit_answer_reaches_further_back_and_is_marked():
    recs = by_pair(build_records([
        expel("a", "Poland", "45 Russian diplomats", "2022-03-01"),
        expel("b", "Russia", "45 Polish diplomats", "2022-05-15", " in retaliation."),
    ]))
    answer = recs[("RUS", "POL")]
    assert answer["retaliation"] is True and answer["reciprocates"] == recs[("POL", "RUS")]["id"]
    tight = by_pair(build_records([
        expel("a", "Poland", "45 Russian diplomats", "2022-03-01"),
        expel("b", "Russia", "45 Polish diplomats", "2022-05-15", " in retaliation."),
    ], explicit_reciprocity_days=30))
    assert tight[("RUS", "POL")]["retaliation"] is True and tight[("RUS", "POL")]["reciprocates"] is None


def test_a_retaliation_without_counterpart_is_marked_but_not_linked():
    recs = build_records([expel("a", "Russia", "two Estonian diplomats", "2022-03-01",
                                " in response to new sanctions.")])
    assert recs[0]["retaliation"] is True and recs[0]["reciprocates"] is None


def test_a_chain_links_step_by_step():
    recs = by_pair(build_records([
        expel("a", "Czech Republic", "18 Russian diplomats", "2021-04-17"),
        expel("b", "Russia", "20 Czech diplomats", "2021-04-18"),
        expel("c", "Czech Republic", "63 Russian diplomats", "2021-04-22", " in response."),
    ]))
    assert recs[("RUS", "CZE")]["reciprocates"].startswith("CZE-RUS-2021-04-17")
    later = [r for r in build_records([
        expel("a", "Czech Republic", "18 Russian diplomats", "2021-04-17"),
        expel("b", "Russia", "20 Czech diplomats", "2021-04-18"),
        expel("c", "Czech Republic", "63 Russian diplomats", "2021-04-26", " in response."),
    ]) if r["date"] == "2021-04-26"]
    assert later[0]["reciprocates"].startswith("RUS-CZE-2021-04-18")


def test_same_day_mutual_expulsions_link_one_way():
    d = doc("d", "[Spain]{EXPELLER#1} and [Russia]{EXPELLER#2} each [expel]{TRIGGER#1,2} "
                 "[two diplomats]{EXPELLED#1,2} in a tit-for-tat row.", "2010-12-28")
    recs = build_records([d])
    links = [r["reciprocates"] for r in recs]
    assert sorted(x is None for x in links) == [False, True]
    a, b = recs
    assert (a["reciprocates"] == b["id"]) != (b["reciprocates"] == a["id"])


def test_an_answer_to_several_countries_links_to_one_of_them():
    recs = build_records([
        expel("a", "Estonia", "a Russian diplomat", "2022-03-18"),
        expel("b", "Latvia", "a Russian diplomat", "2022-03-20"),
        doc("c", "[Russia]{EXPELLER} [expels]{TRIGGER} [diplomats from Estonia and Latvia]{EXPELLED}.",
            "2022-03-29"),
    ])
    answer = next(r for r in recs if r["expeller_country"] == "RUS")
    assert answer["expelled_countries"] == ["EST", "LVA"]
    assert answer["reciprocates"].startswith("LVA-RUS-2022-03-20")


def test_records_without_countries_are_left_alone():
    recs = [{"id": "x", "date": "2022-01-01", "date_precision": "report", "expeller_country": None,
             "expelled_country": "RUS", "expelled_countries": ["RUS"]}]
    assert link_reciprocal(recs)[0]["reciprocates"] is None
